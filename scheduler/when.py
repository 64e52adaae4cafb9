"""The admin's words for a moment ("tomorrow 9am", "через 2 часа") -> an aware UTC datetime.

Pure: the current time and the admin's zone are passed in, nothing reads the
clock. dateparser does the reading; this module guards it against its
surprises (a bare "5" is read as 29 May) and refuses times in the past, too far
ahead, or numeric dates whose day and month could be swapped.

A time without a zone in the text is the admin's wall-clock time in ``tz``; a
zone in the text ("18:00 UTC", "10:00 +03:00") wins. A wall-clock time that
does not exist (skipped by a DST change) is read with the offset before the
change, so "02:30" on the spring-forward night means 03:30 summer time.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser
from dateparser.languages.loader import default_loader
from dateparser.timezone_parser import pop_tz_offset_from_string

from bot.delivery.errors import BroadcastError, quote
from scheduler.clockwords import clock_problem
from scheduler.timetext import MONTHS, describe_when, format_local, relative, span

__all__ = [
    "DATE_ORDERS",
    "DateSettings",
    "ScheduleParseError",
    "describe_when",
    "parse_timezone",
    "parse_when",
    "relative",
]

DATE_ORDERS = ("DMY", "MDY", "YMD")
MAX_LENGTH = 100
#: A fixed date would be in the past one day: the last example is a format.
_EXAMPLES = '"in 2 hours", "tomorrow 9:00", "friday 18:30" or a date as YYYY-MM-DD HH:MM'
_BARE_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
# 01/02/2027, 3.4.27, 01-02-2027; and 01/02 without a year (dateparser reads
# 01.02 as a time, so only the slash form is a date there).
_EDGE = r"(?<![\d.:/-]){}(?![\d.:/-])"
_FULL_DATE = re.compile(_EDGE.format(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})"))
_SHORT_DATE = re.compile(_EDGE.format(r"(\d{1,2})/(\d{1,2})"))


class ScheduleParseError(BroadcastError, ValueError):
    """The admin's time, repetition or zone cannot be used as written.

    The message quotes the input, says what is wrong and how to write it.
    """


@dataclass(frozen=True, slots=True)
class DateSettings:
    """How :func:`parse_when` reads dates.

    Attributes:
        languages: dateparser language codes the admins write in.
        date_order: How all-numeric dates are read: ``"DMY"``, ``"MDY"`` or
            ``"YMD"``. None refuses those whose day and month could be swapped.
        max_ahead: How far ahead a time may be.

    Raises:
        ValueError: On construction, for no or unknown languages, another date
            order, or a ``max_ahead`` that is not positive.
    """

    languages: tuple[str, ...] = ("en", "ru")
    date_order: str | None = None
    max_ahead: timedelta = timedelta(days=366)

    def __post_init__(self) -> None:
        if not self.languages:
            raise ValueError("DateSettings.languages is empty; name at least one, such as 'en'")
        _check_languages(self.languages)
        if self.date_order is not None and self.date_order not in DATE_ORDERS:
            order = f"date_order must be DMY, MDY, YMD or None, got {self.date_order!r}"
            raise ValueError(order)
        if self.max_ahead <= timedelta(0):
            raise ValueError(f"max_ahead must be positive, got {self.max_ahead}")


def parse_when(text: str, now: datetime, tz: ZoneInfo, settings: DateSettings) -> datetime:
    """The moment ``text`` names, as an aware UTC datetime rounded to the second.

    Rounding is to the nearest second (half up), so "in 2 hours" at
    14:30:12.6 is 16:30:13. The unrounded time must be after ``now`` (a time
    equal to ``now``, as "now" and "today" give, is refused) and so must the
    rounded one.

    Args:
        text: What the admin wrote: "tomorrow 9am", "in 2 hours", "friday",
            "Dec 25 10:00", "2026-12-01 18:00", "18:00" (today if still ahead,
            else tomorrow), "завтра в 9:00"...
        now: The current time, aware.
        tz: The admin's zone: the one a time without a zone is in, and the one
            "today" and "tomorrow" are counted in.
        settings: Languages, date order and how far ahead a time may be.

    Raises:
        ScheduleParseError: For empty, too long or unreadable text, a bare
            number, an ambiguous numeric date, or a time not after ``now`` or
            more than ``settings.max_ahead`` after it.
    """
    stripped = " ".join(text.split())
    _check_shape(stripped, settings)
    parsed = _read(stripped, now, tz, settings)
    if parsed is None:
        raise ScheduleParseError(
            f"Cannot read {quote(stripped)} as a time. Write, for example, {_EXAMPLES};"
            f" times are in {tz.key}."
        )
    rounded = (parsed + timedelta(microseconds=500_000)).replace(microsecond=0)
    _check_range(stripped, parsed, rounded, now, tz, settings.max_ahead)
    return rounded


def parse_timezone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``, whatever its case ("asia/tashkent" is Asia/Tashkent).

    Raises:
        ScheduleParseError: No zone has that name; the message suggests close names.
    """
    names = _zone_names()
    wanted = "_".join(name.strip().lower().split())
    canonical = names.get(wanted)
    if canonical is not None:
        return ZoneInfo(canonical)
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(names[c] for c in close)}?" if close else ""
    raise ScheduleParseError(
        f"Unknown time zone {quote(name.strip())}.{hint}"
        " Write an IANA name such as Europe/Berlin, Asia/Tashkent or UTC."
    )


@functools.cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _check_languages(languages: tuple[str, ...]) -> None:
    try:
        default_loader.get_locale_map(languages=list(languages))
    except ValueError as error:  # "Unknown language(s): 'xx'"
        raise ValueError(f"DateSettings.languages: {error}") from None


def _check_shape(text: str, settings: DateSettings) -> None:
    if not text:
        raise ScheduleParseError(f"No time given. Write, for example, {_EXAMPLES}.")
    if len(text) > MAX_LENGTH:
        raise ScheduleParseError(
            f"{quote(text)} is too long for a time ({len(text)} characters, at most"
            f" {MAX_LENGTH}). Write, for example, {_EXAMPLES}."
        )
    if _BARE_NUMBER.fullmatch(text):
        raise ScheduleParseError(
            f"{quote(text)} is a bare number, not a time. Write a time such as 17:00 or 5pm,"
            ' a delay such as "in 5 minutes", or a date such as 2026-12-05 09:00.'
        )
    problem = clock_problem(text)
    if problem is None and settings.date_order is None:
        problem = _ambiguity(text)
    if problem is not None:
        raise ScheduleParseError(f"{quote(text)}: {problem}")


def _ambiguity(text: str) -> str | None:
    """Why a numeric date in ``text`` is ambiguous, or None if none is."""
    full = _FULL_DATE.search(text)
    if full is not None:
        first, second, year = int(full[1]), int(full[3]), full[4]
        date = full[0]
    else:
        short = _SHORT_DATE.search(text)
        if short is None:
            return None
        first, second, year, date = int(short[1]), int(short[2]), "", short[0]
    if not (1 <= first <= 12 and 1 <= second <= 12) or first == second:
        return None
    day_first = f"{first} {MONTHS[second - 1]}"
    month_first = f"{second} {MONTHS[first - 1]}"
    if not year:
        return (
            f"{date} could be {day_first} or {month_first}. Write the month as a word"
            f' ("{day_first}" or "{month_first}"), or set DATE_ORDER to DMY or MDY.'
        )
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    return (
        f"{date} could be {day_first} {full_year} or {month_first} {full_year}. Write it as"
        f" year-month-day ({full_year}-{second:02}-{first:02} or"
        f" {full_year}-{first:02}-{second:02}), or set DATE_ORDER to DMY or MDY."
    )


_DELAY = re.compile(r"\s*(in|через)\s", re.IGNORECASE)
_CALENDAR = re.compile(
    r"day|week|month|year|tomorrow|\bat\b|\d[:.]\d|дн|ден|недел|месяц|год|лет|завтра",
    re.IGNORECASE,
)


def is_delay(text: str) -> bool:
    """Whether ``text`` is a delay in seconds, minutes or hours ("in 2 hours", "через час").

    Such a delay counts real time; one in days or more ("in 2 days") keeps the
    wall-clock time, as people mean it across a daylight-saving change.
    """
    return _DELAY.match(text) is not None and _CALENDAR.search(text) is None


def _read(text: str, now: datetime, tz: ZoneInfo, settings: DateSettings) -> datetime | None:
    """dateparser's reading of ``text`` in UTC, or None if it has none.

    dateparser is told the zone is UTC and given the admin's wall clock as
    RELATIVE_BASE (it must be naive): with TIMEZONE set to the admin's zone,
    dateparser 1.5 compares a bare time such as "20:00" with the base shifted
    by the zone's offset, so at 19:30 in Tashkent "20:00" came out as tomorrow.
    The wall-clock result is then put in ``tz`` here. A zone in the text is
    taken by dateparser; the base is then the UTC clock, which its
    comparison expects.
    """
    explicit_zone = pop_tz_offset_from_string(text)[1] is not None
    base = now.astimezone(UTC if explicit_zone else tz).replace(tzinfo=None)
    options: dict[str, object] = {
        "TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": base,
    }
    if settings.date_order is not None:
        options["DATE_ORDER"] = settings.date_order
    try:
        parsed = dateparser.parse(text, languages=list(settings.languages), settings=options)
        if parsed is None:
            return None
        if is_delay(text):  # "in 2 hours" is two hours of real time, across DST too
            delay: timedelta = parsed.replace(tzinfo=None) - base
            return now.astimezone(UTC) + delay
        if explicit_zone:
            return parsed.astimezone(UTC)  # type: ignore[no-any-return]
        return parsed.replace(tzinfo=tz).astimezone(UTC)  # type: ignore[no-any-return]
    except (ValueError, OverflowError):  # a date past year 9999, a day out of range
        return None


def _check_range(
    text: str,
    parsed: datetime,
    rounded: datetime,
    now: datetime,
    tz: ZoneInfo,
    max_ahead: timedelta,
) -> None:
    if parsed == now:
        raise ScheduleParseError(
            f"{quote(text)} is this very moment ({format_local(now, tz)}), not a time in the"
            " future. To send right away, do not schedule; otherwise write, for example,"
            ' "in 10 minutes".'
        )
    if parsed < now or rounded <= now:
        raise ScheduleParseError(
            f"{quote(text)} is {describe_when(rounded, now, tz)}: that is in the past."
            f" Write a time in the future, for example {_EXAMPLES}."
        )
    if rounded - now > max_ahead + timedelta(seconds=1):  # "in 366 days" is within 366 d
        raise ScheduleParseError(
            f"{quote(text)} is {describe_when(rounded, now, tz)}: that is too far ahead;"
            f" a time may be at most {span(max_ahead)} ahead."
        )
