"""Times of day that dateparser would misread without a word: caught before it sees them.

dateparser 1.x drops what it cannot place: "tomorrow 9" and "tomorrow 25:00" come
back as tomorrow at the current time, "monday 10" as a date months away. These
checks refuse such text with a reason instead (pure, no clock).
"""

from __future__ import annotations

import re

_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])")
_TWELVE = re.compile(r"(?<![\d:])(\d{1,2})\s*([ap])\.?m\b\.?", re.IGNORECASE)
_BARE = re.compile(r"(?<![\w:./,+-])(\d{1,2})(?![\w:./,-])")
_UNIT = re.compile(
    r"\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?|months?|years?"
    r"|[ap]\.?m\b|сек\w*|мин\w*|час\w*|дн\w*|ден\w*|недел\w*|месяц\w*|год\w*|лет)\b",
    re.IGNORECASE,
)
_MONTH = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
    r"|январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр",
    re.IGNORECASE,
)


def clock_problem(text: str) -> str | None:
    """Why ``text`` holds a time of day that cannot be read safely, or None."""
    for match in _CLOCK.finditer(text):
        hour, minute = int(match[1]), int(match[2])
        if hour > 23 or minute > 59:
            return f"{match[0]} is not a time of day (hours 0-23, minutes 0-59)."
    for match in _TWELVE.finditer(text):
        hour = int(match[1])
        if not 1 <= hour <= 12:
            return f"{match[0].strip()} is not a time of day (1am-12am, 1pm-12pm)."
    if _MONTH.search(text):
        return None  # "Dec 25", "25 декабря": the number is the day
    for match in _BARE.finditer(text):
        if _UNIT.match(text, match.end()):
            continue  # "2 hours", "через 2 часа", "9 am"
        number = int(match[1])
        if number > 23:
            continue
        written = f"{number}:00" + ("" if number > 12 else f" or {number}am/{number}pm")
        return f'"{match[1]}" could be an hour or a day. Write the time of day as {written}.'
    return None
