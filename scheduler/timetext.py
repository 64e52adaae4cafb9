"""Times as an admin reads them: a local date and clock, and a distance from now.

Pure formatting, in English whatever the process locale (``%a`` and ``%b``
would follow ``setlocale``). :mod:`scheduler.when` re-exports these.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def format_local(when: datetime, tz: ZoneInfo) -> str:
    """``when`` on the wall clock of ``tz``: ``Mon 30 Nov 2026 09:00 Asia/Tashkent``.

    Seconds are shown only when they are not zero (``09:00:30``).
    """
    local = when.astimezone(tz)
    clock = f"{local:%H:%M}" if local.second == 0 else f"{local:%H:%M:%S}"
    day = f"{_DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year}"
    return f"{day} {clock} {tz.key}"


#: A date further back than this is shown without its distance ("2526 d 1 h ago").
RELATIVE_PAST = timedelta(days=3)


def describe_when(when: datetime, now: datetime, tz: ZoneInfo) -> str:
    """``when`` in ``tz`` and its distance from ``now``; the date alone when it is more
    than :data:`RELATIVE_PAST` ago.

    Example: ``Mon 30 Nov 2026 09:00 Asia/Tashkent, in 13 h 30 m``.

    Args:
        when: An aware datetime, any zone.
        now: The current time, aware.
        tz: The zone to show the wall clock of.
    """
    if now - when > RELATIVE_PAST:
        return format_local(when, tz)
    return f"{format_local(when, tz)}, {relative(when - now)}"


def span(delta: timedelta) -> str:
    """The size of ``delta`` in its two largest units, ``16 h 14 m``, ``1 d``, ``45 s``.

    The sign is ignored, the total is rounded to the second, and the smaller
    unit is dropped when it is zero (and lost when it is not the next one:
    1 d 0 h 5 m reads ``1 d``).
    """
    remaining = abs(round(delta.total_seconds()))
    if remaining == 0:
        return "0 s"
    counts: list[tuple[int, str]] = []
    for name, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count or counts:
            counts.append((count, name))
    leading = [f"{count} {name}" for count, name in counts[:2] if count]
    return " ".join(leading)


def relative(delta: timedelta) -> str:
    """``delta`` from now in words: ``in 5 m``, ``in 3 d 2 h``, ``5 m ago``, or ``now``.

    See :func:`span` for the units and the rounding.
    """
    if round(delta.total_seconds()) == 0:
        return "now"
    if delta > timedelta(0):
        return f"in {span(delta)}"
    return f"{span(delta)} ago"
