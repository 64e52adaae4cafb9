"""Repetitions: the admin's words and cron, fire times across DST, and stored documents."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.recurrence import Recurrence, RecurrenceError, parse_every
from scheduler.when import ScheduleParseError

NOW = datetime(2026, 11, 29, 14, 30, tzinfo=UTC)  # a Sunday; 19:30 in Tashkent
TASHKENT, GMT, BERLIN = ZoneInfo("Asia/Tashkent"), ZoneInfo("UTC"), ZoneInfo("Europe/Berlin")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def fires(recurrence: Recurrence, after: datetime, tz: ZoneInfo, count: int) -> list[datetime]:
    out: list[datetime] = []
    fire: datetime | None = after
    while fire is not None and len(out) < count:
        fire = recurrence.next_after(fire, tz)
        if fire is not None:
            out.append(fire)
    return out


@pytest.mark.parametrize(
    ("text", "description", "first_in_utc"),
    [
        ("0 9 * * 1", "every Monday at 09:00", utc(2026, 11, 30, 9)),
        ("0 9 * * 0", "every Sunday at 09:00", utc(2026, 12, 6, 9)),
        ("0 9 * * 7", "every Sunday at 09:00", utc(2026, 12, 6, 9)),
        ("0 9 * * 1-5", "every weekday at 09:00", utc(2026, 11, 30, 9)),
        ("0 9 * * 0-6", "every day at 09:00", utc(2026, 11, 30, 9)),
        ("0 9 * * 5-7", "every Friday, Saturday and Sunday at 09:00", utc(2026, 12, 4, 9)),
        ("0 9 * * */2", "every Tuesday, Thursday, Saturday and Sunday at 09:00", None),
        ("0 9 * * MON-FRI", "every weekday at 09:00", utc(2026, 11, 30, 9)),
        ("30 18 1 * *", "on day 1 of every month at 18:30", utc(2026, 12, 1, 18, 30)),
        ("0 */2 * * *", "cron 0 */2 * * *", utc(2026, 11, 29, 16)),
        ("15 9 * 1 *", "cron 15 9 * 1 *", utc(2027, 1, 1, 9, 15)),
        ("day 09:00", "every day at 09:00", utc(2026, 11, 30, 9)),
        ("daily 9:00", "every day at 09:00", None),
        ("day 9am", "every day at 09:00", None),
        ("Every Day At 9:30PM", "every day at 21:30", utc(2026, 11, 29, 21, 30)),
        ("day 12am", "every day at 00:00", None),
        ("day 12:15pm", "every day at 12:15", None),
        ("day 21:30", "every day at 21:30", None),
        ("mon 09:00", "every Monday at 09:00", utc(2026, 11, 30, 9)),
        ("monday 9:00", "every Monday at 09:00", None),
        ("every Mondays at 9 am", "every Monday at 09:00", None),
        ("mon,wed,fri 18:30", "every Monday, Wednesday and Friday at 18:30", None),
        ("fri, mon 18:30", "every Monday and Friday at 18:30", None),
        ("weekdays 09:00", "every weekday at 09:00", None),
        ("weekend 10:00", "every Saturday and Sunday at 10:00", utc(2026, 12, 5, 10)),
        ("month 1 09:00", "on day 1 of every month at 09:00", utc(2026, 12, 1, 9)),
        ("monthly 1st at 9:00", "on day 1 of every month at 09:00", None),
        ("month last 21:00", "on the last day of every month at 21:00", utc(2026, 11, 30, 21)),
        ("hour", "every hour at :00", utc(2026, 11, 29, 15)),
        ("hour :15", "every hour at :15", utc(2026, 11, 29, 15, 15)),
        ("every hour at :45", "every hour at :45", utc(2026, 11, 29, 14, 45)),
    ],
)
def test_accepted_forms(text: str, description: str, first_in_utc: datetime | None) -> None:
    recurrence = parse_every(text)
    assert recurrence.describe() == description
    assert recurrence.text == text.strip()
    if first_in_utc is not None:
        assert recurrence.next_after(NOW, GMT) == first_in_utc


def test_cron_weekday_numbers_are_crons_not_apschedulers() -> None:
    monday = parse_every("0 9 * * 1").next_after(NOW, GMT)
    sunday = parse_every("0 9 * * 0").next_after(NOW, GMT)
    assert monday is not None
    assert sunday is not None
    assert (monday.strftime("%A"), sunday.strftime("%A")) == ("Monday", "Sunday")
    assert parse_every("0 9 * * 1").day_of_week == "mon"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["No repetition given", "day 09:00"]),
        ("banana", ['Cannot read "banana"', "mon,wed,fri 18:30"]),
        ("every", ['"every" says how often but not when']),
        ("day", ['"day" does not say at what time', '"day 09:00"']),
        ("mon", ['"mon 09:00"']),
        ("day 9", ['"9" is not a time', "9am"]),
        ("day 25:00", ["hours are 0-23"]),
        ("day 9:60", ["minutes 0-59"]),
        ("day 13pm", ["am/pm hours are 1-12"]),
        ("funday 9:00", ['Cannot read "funday 9:00"']),
        ("month 31 09:00", ["day 31 is not in every month", "month last 09:00"]),
        ("month 29 09:00", ["day 29 is not in every month"]),
        ("month 0 09:00", ["which day of the month, 1-28 or last"]),
        ("month 1", ['"month 1 09:00"']),
        ("hour :75", [":00 to :59"]),
        ("every 2 hours", ["intervals", "0 */2 * * *"]),
        ("0 25 * * *", ['hour (0-23) "25" is not valid', "a value in that range"]),
        ("61 9 * * *", ['minute (0-59) "61"']),
        ("0 9 32 * *", ['day (1-31 or last) "32"']),
        ("0 9 * 13 *", ['month (1-12 or jan-dec) "13"']),
        ("0 9 * * 8", ['weekday field "8"', "0 and 7 are Sunday"]),
        ("0 9 * * 5-1", ['weekday field "5-1"']),
        ("0 9 * * funday", ['weekday field "funday"']),
        ("0 0 9 * * *", ["has 6 fields", "Write 5"]),
        ("0 9 * *", ["has 4 fields", "has 5"]),
        ("*/5 * * * *", ["every 5 m", "more than once an hour would spam users"]),
        ("* 9 * * *", ["every 1 m", "more than once an hour"]),
        ("0,30 9 * * *", ["every 30 m"]),
        ("0 9 31 2 *", ["never happens"]),
    ],
)
def test_refusals_quote_the_input_and_say_why(text: str, words: list[str]) -> None:
    with pytest.raises(RecurrenceError) as caught:
        parse_every(text)
    assert isinstance(caught.value, ScheduleParseError)
    assert isinstance(caught.value, ValueError)
    for word in words:
        assert word in str(caught.value)


def test_next_after_is_strictly_after() -> None:
    daily = parse_every("day 09:00")
    nine = utc(2026, 11, 30, 9)
    assert daily.next_after(nine - timedelta(microseconds=1), GMT) == nine
    assert daily.next_after(nine, GMT) == nine + timedelta(days=1)
    assert daily.next_after(nine + timedelta(microseconds=1), GMT) == nine + timedelta(days=1)


def test_next_after_follows_the_wall_clock_in_tashkent() -> None:
    got = fires(parse_every("day 09:00"), NOW, TASHKENT, 3)
    assert got == [utc(2026, 11, 30, 4), utc(2026, 12, 1, 4), utc(2026, 12, 2, 4)]
    assert all(fire.tzinfo is UTC for fire in got)


def test_next_after_follows_the_wall_clock_through_spring_dst_in_berlin() -> None:
    start = utc(2027, 3, 26, 12)
    assert fires(parse_every("day 09:00"), start, BERLIN, 3) == [
        utc(2027, 3, 27, 8),  # CET, UTC+1
        utc(2027, 3, 28, 7),  # CEST, UTC+2
        utc(2027, 3, 29, 7),
    ]
    # 02:30 does not exist on 28 March: it fires at the instant of 02:30 CET.
    assert fires(parse_every("day 2:30"), start, BERLIN, 3) == [
        utc(2027, 3, 27, 1, 30),
        utc(2027, 3, 28, 1, 30),
        utc(2027, 3, 29, 0, 30),
    ]


def test_a_repeated_wall_clock_time_fires_once_when_clocks_go_back() -> None:
    start = utc(2027, 10, 30, 12)
    assert fires(parse_every("day 2:30"), start, BERLIN, 2) == [
        utc(2027, 10, 31, 0, 30),  # 02:30 CEST; 02:30 CET (01:30 UTC) is skipped
        utc(2027, 11, 1, 1, 30),
    ]
    hourly = fires(parse_every("hour"), utc(2027, 10, 30, 23, 30), BERLIN, 3)
    assert hourly == [utc(2027, 10, 31, 0), utc(2027, 10, 31, 2), utc(2027, 10, 31, 3)]


def test_end_stops_occurrences_and_is_inclusive() -> None:
    daily = parse_every("day 09:00")
    end = utc(2026, 12, 1, 9)
    assert daily.next_after(NOW, GMT, end=end) == utc(2026, 11, 30, 9)
    assert daily.next_after(utc(2026, 11, 30, 9), GMT, end=end) == end
    assert daily.next_after(end, GMT, end=end) is None
    assert daily.next_after(NOW, GMT, end=NOW + timedelta(hours=1)) is None


def test_next_after_needs_aware_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_every("hour").next_after(datetime(2026, 11, 29), GMT)  # noqa: DTZ001


def test_trigger_carries_zone_start_and_end() -> None:
    start, end = utc(2026, 12, 1), utc(2026, 12, 31)
    trigger = parse_every("mon 09:00").trigger(TASHKENT, start=start, end=end)
    assert trigger.get_next_fire_time(None, NOW) == datetime(2026, 12, 7, 9, tzinfo=TASHKENT)
    assert trigger.get_next_fire_time(None, end) is None
    restored = pickle.loads(pickle.dumps(trigger))
    assert restored.get_next_fire_time(None, NOW) == datetime(2026, 12, 7, 9, tzinfo=TASHKENT)


@pytest.mark.parametrize("text", ["0 9 * * 1", "mon,wed 18:30", "hour :15", "month last 9pm"])
def test_document_round_trip(text: str) -> None:
    recurrence = parse_every(text)
    document = recurrence.to_document()
    assert document["version"] == 1
    assert all(isinstance(value, str | int) for value in document.values())
    assert Recurrence.from_document(document) == recurrence


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"version": 2}, "version 2 is not supported"),
        ({"hour": None}, "lacks text fields: hour"),
        ({"day_of_week": "0"}, "must use names"),
        ({"minute": "*"}, "more than once an hour"),
    ],
)
def test_from_document_refuses_what_it_cannot_trust(change: dict[str, object], words: str) -> None:
    document = {**parse_every("mon 09:00").to_document(), **change}
    with pytest.raises(RecurrenceError, match=words):
        Recurrence.from_document(document)


def test_describe_falls_back_to_cron_for_anything_else() -> None:
    odd = Recurrence(text="x", second="30", minute="0", hour="9")
    assert odd.describe() == "cron 0 9 * * * at second 30"
    assert Recurrence(text="x", minute="0", hour="9,21").describe() == "cron 0 9,21 * * *"
    both = Recurrence(text="x", minute="0", hour="9", day="1", day_of_week="mon")
    assert both.describe() == "cron 0 9 1 * mon"


def test_the_trigger_steps_past_a_previous_time_given_in_utc_during_the_fold() -> None:
    # Plain APScheduler 3.11 returns the previous time itself here (02:30 CEST).
    trigger = parse_every("day 2:30").trigger(BERLIN)
    previous = utc(2027, 10, 31, 0, 30)
    fire = trigger.get_next_fire_time(previous, previous)
    assert fire == utc(2027, 11, 1, 1, 30)
