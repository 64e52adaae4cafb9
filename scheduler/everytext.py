"""The admin's words for a repetition ("mon,wed 18:30", "0 9 * * 1") -> cron fields.

Pure text handling for :func:`scheduler.recurrence.parse_every`; the fields it
returns are in APScheduler's CronTrigger syntax, which
:class:`scheduler.recurrence.Recurrence` validates.

Weekdays are always stored as names (``mon,wed``), never numbers: cron counts
0 (and 7) as Sunday, APScheduler 3 counts 0 as Monday, and even
``CronTrigger.from_crontab`` passes cron's numbers through unchanged.
"""

from __future__ import annotations

import re

from bot.delivery.errors import quote
from scheduler.when import ScheduleParseError

FORMS = (
    '"day 09:00", "mon 9am", "mon,wed,fri 18:30", "weekdays 09:00", "weekend 10:00",'
    ' "month 1 09:00", "month last 21:00", "hour", "hour :15",'
    ' or cron "0 9 * * 1" (minute hour day month weekday)'
)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # APScheduler's order
FULL_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS, WEEKEND = "mon,tue,wed,thu,fri", "sat,sun"
_LAST_SAFE_DAY = 28
_WEEKDAY_WORDS = {
    **{name: name for name in DAY_NAMES},
    **{full.lower(): full[:3].lower() for full in FULL_DAY_NAMES},
    "tues": "tue",
    "weds": "wed",
    "thur": "thu",
    "thurs": "thu",
}
_CRON_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_CRON_START = re.compile(r"[0-9*/,-]+")
_CRON_DAY_PART = re.compile(r"(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/([0-9]+))?")
_TIME = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*([ap]m)?")
_ORDINAL = re.compile(r"([0-9]+)(?:st|nd|rd|th)")
_FILLERS = frozenset({"every", "at", "on", "each"})

Fields = dict[str, str]


class RecurrenceError(ScheduleParseError):
    """The admin's repetition cannot be used: unreadable, invalid cron, or too frequent."""


def parse_fields(text: str) -> Fields:
    """The cron fields (minute, hour, day, month, day_of_week) that ``text`` names.

    Raises:
        RecurrenceError: ``text`` is none of the accepted forms (:data:`FORMS`).
    """
    normal = re.sub(r"\s*,\s*", ",", " ".join(text.lower().split()))
    words = normal.split()
    if not words:
        raise RecurrenceError(f"No repetition given. Write, for example, {FORMS}.")
    if _CRON_START.fullmatch(words[0]):
        return _cron(text, words)
    words = [word for word in words if word not in _FILLERS]
    if not words:
        raise RecurrenceError(f"{quote(text)} says how often but not when: write {FORMS}.")
    return _words(text, words[0], " ".join(words[1:]))


def _words(text: str, head: str, rest: str) -> Fields:
    if head in ("hour", "hourly"):
        return _hourly(text, rest)
    if head in ("month", "monthly"):
        return _monthly(text, rest)
    if head in ("day", "daily", "days"):
        days = "*"
    elif head in ("weekday", "weekdays"):
        days = WEEKDAYS
    elif head in ("weekend", "weekends"):
        days = WEEKEND
    elif head.isdigit():
        raise RecurrenceError(
            f"{quote(text)}: intervals (every {head} hours, days...) are not supported;"
            ' use cron, e.g. "0 */2 * * *" (every 2 hours on the hour).'
        )
    else:
        days = _weekday_list(text, head)
    hour, minute = _time(text, head, rest)
    return {"minute": str(minute), "hour": str(hour), "day_of_week": days}


def _weekday_list(text: str, head: str) -> str:
    names = [_WEEKDAY_WORDS.get(word.removesuffix("s")) for word in head.split(",")]
    known = [name for name in names if name is not None]
    if len(known) != len(names):
        raise RecurrenceError(f"Cannot read {quote(text)} as a repetition. Write {FORMS}.")
    return ",".join(name for name in DAY_NAMES if name in known)


def _time(text: str, head: str, rest: str) -> tuple[int, int]:
    example = quote(f"{head} 09:00")
    if not rest:
        raise RecurrenceError(f"{quote(text)} does not say at what time; write, e.g., {example}.")
    match = _TIME.fullmatch(rest)
    if match is None or (match[2] is None and match[3] is None):
        raise RecurrenceError(
            f"{quote(text)}: {quote(rest)} is not a time; write 09:00, 9:00, 9am, 9:30pm or 21:30,"
            f" as in {example}."
        )
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if half is not None and not 1 <= hour <= 12:
        raise RecurrenceError(f"{quote(text)}: {quote(rest)} is not a time; am/pm hours are 1-12.")
    if half is not None:
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise RecurrenceError(
            f"{quote(text)}: {quote(rest)} is not a time; hours are 0-23 and minutes 0-59."
        )
    return hour, minute


def _hourly(text: str, rest: str) -> Fields:
    match = re.fullmatch(r":?([0-9]{1,2})", rest)
    if rest and (match is None or int(match[1]) > 59):
        raise RecurrenceError(
            f"{quote(text)}: write the minute past each hour as :00 to :59, as in"
            ' "hour :15", or just "hour" for :00.'
        )
    return {"minute": str(int(match[1])) if match else "0", "hour": "*"}


def _monthly(text: str, rest: str) -> Fields:
    day, _, clock = rest.partition(" ")
    ordinal = _ORDINAL.fullmatch(day)
    day = ordinal[1] if ordinal else day
    if day.isdigit() and _LAST_SAFE_DAY < int(day) <= 31:
        raise RecurrenceError(
            f"{quote(text)}: day {int(day)} is not in every month, and months without it"
            f' would be skipped. Use a day from 1 to {_LAST_SAFE_DAY}, or "month last'
            ' 09:00" for the last day of each month.'
        )
    if day != "last" and not (day.isdigit() and 1 <= int(day) <= _LAST_SAFE_DAY):
        raise RecurrenceError(
            f"{quote(text)}: say which day of the month, 1-{_LAST_SAFE_DAY} or last, as in"
            ' "month 1 09:00" or "month last 21:00".'
        )
    hour, minute = _time(text, f"month {day}", clock)
    return {
        "minute": str(minute),
        "hour": str(hour),
        "day": str(int(day)) if day != "last" else day,
    }


def _cron(text: str, words: list[str]) -> Fields:
    if len(words) == 6:
        raise RecurrenceError(
            f"{quote(text)} has 6 fields; seconds (or years) are not supported. Write 5:"
            ' minute hour day month weekday, as in "0 9 * * 1" (Mondays at 09:00).'
        )
    if len(words) != 5:
        raise RecurrenceError(
            f"{quote(text)} has {len(words)} fields; a cron expression has 5: minute hour day"
            ' month weekday, as in "0 9 * * 1" (Mondays at 09:00).'
        )
    minute, hour, day, month, weekday = words
    days = _cron_weekdays(text, weekday)
    return {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": days}


def _cron_weekdays(text: str, field: str) -> str:
    """Cron's weekday field (0 or 7 = Sunday, 1 = Monday, names, ranges, steps) as names."""
    days: set[int] = set()
    for part in field.split(","):
        days |= _cron_weekday_part(text, part)
    if len(days) == len(DAY_NAMES):
        return "*"
    return ",".join(DAY_NAMES[(day - 1) % 7] for day in sorted(days, key=lambda d: (d - 1) % 7))


def _cron_weekday_part(text: str, part: str) -> set[int]:
    match = _CRON_DAY_PART.fullmatch(part)
    if match is None or (match[1] == "*" and match[2] is not None):
        raise _bad_weekday(text, part)
    step = int(match[3] or 1)
    if match[1] == "*":
        low, high = 0, 7
    else:
        low = _cron_day(text, match[1])
        high = _cron_day(text, match[2]) if match[2] else (7 if match[3] else low)
    if low > high or step == 0:
        raise _bad_weekday(text, part)
    return {day % 7 for day in range(low, high + 1, step)}


def _cron_day(text: str, token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _CRON_DAYS:
        return _CRON_DAYS[token]
    raise _bad_weekday(text, token)


def _bad_weekday(text: str, part: str) -> RecurrenceError:
    return RecurrenceError(
        f"{quote(text)}: the weekday field {quote(part)} is not valid; use 0-7 (0 and 7 are"
        " Sunday, 1 is Monday) or sun-sat, with lists (1,3,5), ranges (1-5) and steps (*/2)."
    )
