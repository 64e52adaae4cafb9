"""One-off times: the admin's words at a fixed now, in Tashkent (UTC+5), UTC and Berlin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.when import (
    DateSettings,
    ScheduleParseError,
    describe_when,
    parse_timezone,
    parse_when,
    relative,
)

NOW = datetime(2026, 11, 29, 14, 30, tzinfo=UTC)  # a Sunday; 19:30 in Tashkent
TASHKENT, GMT, BERLIN = ZoneInfo("Asia/Tashkent"), ZoneInfo("UTC"), ZoneInfo("Europe/Berlin")
DEFAULT = DateSettings()


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "in_tashkent", "in_utc"),
    [
        ("tomorrow 9am", utc(2026, 11, 30, 4), utc(2026, 11, 30, 9)),
        ("in 2 hours", utc(2026, 11, 29, 16, 30), utc(2026, 11, 29, 16, 30)),
        ("next friday 10:00", utc(2026, 12, 4, 5), utc(2026, 12, 4, 10)),
        ("2026-12-01 18:00", utc(2026, 12, 1, 13), utc(2026, 12, 1, 18)),
        ("через 2 часа", utc(2026, 11, 29, 16, 30), utc(2026, 11, 29, 16, 30)),
        ("завтра в 9:00", utc(2026, 11, 30, 4), utc(2026, 11, 30, 9)),
        ("friday", utc(2026, 12, 3, 19), utc(2026, 12, 4)),
        ("in 30 minutes", utc(2026, 11, 29, 15), utc(2026, 11, 29, 15)),
        ("Dec 25 10:00", utc(2026, 12, 25, 5), utc(2026, 12, 25, 10)),
        ("  Dec   25\n10:00 ", utc(2026, 12, 25, 5), utc(2026, 12, 25, 10)),
        ("13/02/2027", utc(2027, 2, 12, 19), utc(2027, 2, 13)),
        ("02/13/2027", utc(2027, 2, 12, 19), utc(2027, 2, 13)),
        ("2027-02-01", utc(2027, 1, 31, 19), utc(2027, 2, 1)),
        ("01/01/2027", utc(2026, 12, 31, 19), utc(2027, 1, 1)),
        ("in 1.5 hours", utc(2026, 11, 29, 16), utc(2026, 11, 29, 16)),
        ("next year", utc(2027, 11, 29, 14, 30), utc(2027, 11, 29, 14, 30)),
        # A zone in the text wins over the admin's.
        ("18:00 UTC", utc(2026, 11, 29, 18), utc(2026, 11, 29, 18)),
        ("10:00 +03:00", utc(2026, 11, 30, 7), utc(2026, 11, 30, 7)),
    ],
)
def test_reads_the_admins_words(text: str, in_tashkent: datetime, in_utc: datetime) -> None:
    assert parse_when(text, NOW, TASHKENT, DEFAULT) == in_tashkent
    assert parse_when(text, NOW, GMT, DEFAULT) == in_utc


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        # 19:30 in Tashkent: 20:00 is still ahead today, 18:00 is tomorrow.
        ("20:00", TASHKENT, utc(2026, 11, 29, 15)),
        ("18:00", TASHKENT, utc(2026, 11, 30, 13)),
        # 14:30 in UTC: 18:00 is today, 9:00 tomorrow.
        ("18:00", GMT, utc(2026, 11, 29, 18)),
        ("9:00", GMT, utc(2026, 11, 30, 9)),
        # 09:30 in New York (UTC-5): 10:00 today, 09:00 tomorrow.
        ("10:00", ZoneInfo("America/New_York"), utc(2026, 11, 29, 15)),
        ("09:00", ZoneInfo("America/New_York"), utc(2026, 11, 30, 14)),
    ],
)
def test_a_bare_time_is_the_next_one_on_the_wall_clock(
    text: str, tz: ZoneInfo, expected: datetime
) -> None:
    assert parse_when(text, NOW, tz, DEFAULT) == expected


def test_a_bare_time_equal_to_now_is_refused_but_a_second_later_it_is_tomorrow() -> None:
    with pytest.raises(ScheduleParseError, match="this very moment"):
        parse_when("19:30", NOW, TASHKENT, DEFAULT)
    later = NOW + timedelta(seconds=1)
    assert parse_when("19:30", later, TASHKENT, DEFAULT) == utc(2026, 11, 30, 14, 30)


def test_tomorrow_is_counted_on_the_admins_calendar() -> None:
    after_local_midnight = utc(2026, 11, 29, 21)  # 02:00 on Monday 30 Nov in Tashkent
    got = parse_when("tomorrow 9am", after_local_midnight, TASHKENT, DEFAULT)
    assert got == utc(2026, 12, 1, 4)


def test_wall_clock_times_follow_dst() -> None:
    winter, summer = utc(2027, 3, 27, 8), utc(2027, 3, 29, 7)
    assert parse_when("2027-03-27 09:00", NOW, BERLIN, DEFAULT) == winter
    assert parse_when("2027-03-29 09:00", NOW, BERLIN, DEFAULT) == summer
    # 02:30 does not exist that night; it is read with the winter offset.
    assert parse_when("2027-03-28 02:30", NOW, BERLIN, DEFAULT) == utc(2027, 3, 28, 1, 30)


def test_rounds_to_the_nearest_second() -> None:
    now = NOW.replace(second=12, microsecond=600_000)
    assert parse_when("in 2 hours", now, GMT, DEFAULT) == utc(2026, 11, 29, 16, 30, 13)
    now = NOW.replace(second=12, microsecond=400_000)
    assert parse_when("in 2 hours", now, GMT, DEFAULT) == utc(2026, 11, 29, 16, 30, 12)


@pytest.mark.parametrize(
    ("order", "text", "expected"),
    [
        ("DMY", "01/02/2027", utc(2027, 2, 1)),
        ("DMY", "3.4.2027", utc(2027, 4, 3)),
        ("DMY", "01/02 10:00", utc(2027, 2, 1, 10)),
        ("MDY", "01/02/2027", utc(2027, 1, 2)),
        ("DMY", "2027-02-01", utc(2027, 2, 1)),
        ("DMY", "13/02/2027", utc(2027, 2, 13)),
    ],
)
def test_date_order_settles_numeric_dates(order: str, text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, GMT, DateSettings(date_order=order)) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["No time given", '"in 2 hours"']),
        ("   ", ["No time given"]),
        ("banana o'clock", ['Cannot read "banana o\'clock"', "Asia/Tashkent"]),
        ("tomorrow banana", ['Cannot read "tomorrow banana"']),
        ("x" * 101, ["too long", "101 characters"]),
        ("5", ['"5" is a bare number', "17:00"]),
        ("2027", ['"2027" is a bare number']),
        ("-3", ['"-3" is a bare number']),
        ("18.00", ['"18.00" is a bare number']),
        ("now", ['"now" is this very moment', "Sun 29 Nov 2026 19:30 Asia/Tashkent"]),
        ("today", ['"today" is this very moment']),
        ("2026-11-29 19:30", ["this very moment"]),
        ("yesterday 9am", ["Sat 28 Nov 2026 09:00 Asia/Tashkent, 1 d 10 h ago", "in the past"]),
        ("2020-01-01", ['"2020-01-01" is Wed 1 Jan 2020', "in the past"]),
        ("1 hour ago", ["1 h ago", "in the past"]),
        ("2028-06-01", ["Thu 1 Jun 2028 00:00 Asia/Tashkent, in 549 d 4 h", "366 d ahead"]),
        ("in 2 years", ["too far ahead", "at most 366 d"]),
        ("9999-12-31 23:00", ["too far ahead"]),
        (
            "01/02/2027",
            ["1 Feb 2027 or 2 Jan 2027", "(2027-02-01 or 2027-01-02)", "DATE_ORDER"],
        ),
        ("3.4.2027 10:00", ["3.4.2027 could be 3 Apr 2027 or 4 Mar 2027", "2027-04-03"]),
        ("01-02-27", ["1 Feb 2027 or 2 Jan 2027"]),
        ("01/02 10:00", ["01/02 could be 1 Feb or 2 Jan", "month as a word"]),
    ],
)
def test_refusals_quote_the_input_and_say_why(text: str, words: list[str]) -> None:
    with pytest.raises(ScheduleParseError) as caught:
        parse_when(text, NOW, TASHKENT, DEFAULT)
    assert isinstance(caught.value, ValueError)
    for word in words:
        assert word in str(caught.value)


def test_a_time_exactly_now_is_past_and_one_second_later_is_not() -> None:
    with pytest.raises(ScheduleParseError, match="this very moment"):
        parse_when("2026-11-29 14:30", NOW, GMT, DEFAULT)
    assert parse_when("2026-11-29 14:30:01", NOW, GMT, DEFAULT) == utc(2026, 11, 29, 14, 30, 1)


def test_max_ahead_is_a_setting() -> None:
    short = DateSettings(max_ahead=timedelta(days=7))
    assert parse_when("in 6 days", NOW, GMT, short) == utc(2026, 12, 5, 14, 30)
    with pytest.raises(ScheduleParseError, match="at most 7 d ahead"):
        parse_when("in 8 days", NOW, GMT, short)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"languages": ()}, "empty"),
        ({"languages": ("xx",)}, "Unknown language"),
        ({"date_order": "DDD"}, "DMY, MDY, YMD or None"),
        ({"max_ahead": timedelta(0)}, "positive"),
    ],
)
def test_settings_check_themselves(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        DateSettings(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=45), "in 45 s"),
        (timedelta(minutes=5), "in 5 m"),
        (timedelta(minutes=5, seconds=30), "in 5 m 30 s"),
        (timedelta(hours=16, minutes=14, seconds=20), "in 16 h 14 m"),
        (timedelta(days=3, hours=2), "in 3 d 2 h"),
        (timedelta(days=1), "in 1 d"),
        (timedelta(days=1, minutes=5), "in 1 d"),
        (timedelta(seconds=59, milliseconds=600), "in 1 m"),
        (timedelta(minutes=-5), "5 m ago"),
        (timedelta(milliseconds=400), "now"),
    ],
)
def test_relative(delta: timedelta, words: str) -> None:
    assert relative(delta) == words


def test_describe_when_shows_the_wall_clock_and_the_distance() -> None:
    monday_9 = utc(2026, 11, 30, 4)
    described = describe_when(monday_9, NOW, TASHKENT)
    assert described == "Mon 30 Nov 2026 09:00 Asia/Tashkent, in 13 h 30 m"
    with_seconds = describe_when(monday_9 + timedelta(seconds=30), NOW, GMT)
    assert with_seconds == "Mon 30 Nov 2026 04:00:30 UTC, in 13 h 30 m"


@pytest.mark.parametrize(
    ("when", "described"),
    [
        (NOW - timedelta(days=3), "Thu 26 Nov 2026 19:30 Asia/Tashkent, 3 d ago"),
        (NOW - timedelta(days=3, seconds=1), "Thu 26 Nov 2026 19:29:59 Asia/Tashkent"),
        (utc(2019, 12, 29, 13, 30), "Sun 29 Dec 2019 18:30 Asia/Tashkent"),  # not "2527 d 1 h ago"
        (NOW + timedelta(days=300), "Sat 25 Sep 2027 19:30 Asia/Tashkent, in 300 d"),
    ],
)
def test_a_date_long_past_shows_the_date_alone(when: datetime, described: str) -> None:
    assert describe_when(when, NOW, TASHKENT) == described


@pytest.mark.parametrize(
    ("name", "key"),
    [("Asia/Tashkent", "Asia/Tashkent"), ("asia/tashkent", "Asia/Tashkent"), ("utc", "UTC")],
)
def test_parse_timezone_ignores_case(name: str, key: str) -> None:
    assert parse_timezone(f" {name} ").key == key


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Asia/Tashkend", ['"Asia/Tashkend"', "Did you mean Asia/Tashkent"]),
        ("new york", ["Did you mean America/New_York"]),
        ("Mars/Base", ['"Mars/Base"', "IANA name"]),
        ("", ["Unknown time zone", "IANA name"]),
    ],
)
def test_parse_timezone_suggests_close_names(name: str, words: list[str]) -> None:
    with pytest.raises(ScheduleParseError) as caught:
        parse_timezone(name)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("local", "text", "delta"),
    [
        ((2026, 10, 25, 1, 30), "in 2 hours", timedelta(hours=2)),  # clocks go back at 03:00
        ((2026, 10, 25, 1, 30), "in 90 minutes", timedelta(minutes=90)),
        ((2027, 3, 28, 1, 30), "in 2 hours", timedelta(hours=2)),  # clocks go forward at 02:00
        ((2027, 3, 28, 1, 30), "через 2 часа", timedelta(hours=2)),
    ],
)
def test_a_delay_is_real_time_across_a_daylight_saving_change(
    local: tuple[int, int, int, int, int], text: str, delta: timedelta
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(*local, tzinfo=berlin).astimezone(UTC)

    assert parse_when(text, now, berlin, DateSettings()) == now + delta


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("monday 10", '"10" could be an hour or a day'),
        ("friday 9", "9:00 or 9am/9pm"),
        ("friday at 9", "9:00 or 9am/9pm"),
        ("tomorrow 18", "18:00"),
        ("завтра в 9", "9:00"),
        ("в пятницу в 9", "9:00"),
        ("tomorrow 25:00", "25:00 is not a time of day"),
        ("tomorrow 9:75", "9:75 is not a time of day"),
        ("tomorrow 13pm", "13pm is not a time of day"),
    ],
)
def test_a_time_of_day_that_would_be_misread_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(ScheduleParseError) as error:
        parse_when(text, NOW, TASHKENT, DateSettings())
    assert fragment in str(error.value)
    assert text in str(error.value)


@pytest.mark.parametrize(
    "text",
    ["in 2 hours", "через 2 часа", "Dec 25 10:00", "25 декабря 10:00", "tomorrow 9 am",
     "in 1.5 hours", "2026-12-01 18:00", "next friday 10:00", "in 3 days"],
)  # fmt: skip
def test_numbers_with_a_unit_a_month_or_a_clock_are_fine(text: str) -> None:
    assert parse_when(text, NOW, TASHKENT, DateSettings()) > NOW
