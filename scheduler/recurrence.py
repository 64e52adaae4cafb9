"""A repeating broadcast's rhythm: cron fields, their APScheduler trigger, and their words.

Pure: times are passed in. A :class:`Recurrence` holds no zone; the admin's
zone is given when fire times are computed, so "every day at 09:00" follows
the wall clock through DST changes (08:00 UTC in Berlin's winter, 07:00 in
its summer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.delivery.errors import quote
from scheduler.everytext import (
    DAY_NAMES,
    FULL_DAY_NAMES,
    WEEKDAYS,
    RecurrenceError,
    parse_fields,
)
from scheduler.timetext import span

__all__ = ["DOCUMENT_VERSION", "Recurrence", "RecurrenceError", "WallClockCronTrigger"]

DOCUMENT_VERSION = 1
MIN_INTERVAL = timedelta(hours=1)
_CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_LABELS = {
    "second": "second (0-59)",
    "minute": "minute (0-59)",
    "hour": "hour (0-23)",
    "day": "day (1-31 or last)",
    "month": "month (1-12 or jan-dec)",
    "day_of_week": "weekday (mon-sun)",
}
# Fire times for the frequency check are counted from here, in UTC.
_REFERENCE = datetime(2027, 1, 1, tzinfo=UTC)


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]
    """A CronTrigger that fires once per wall-clock time.

    When clocks go back, APScheduler 3 fires a daily 02:30 twice (02:30 summer
    time, then 02:30 winter time); this trigger skips the second. A time that
    clocks skip when they go forward (02:30 on that night) fires at the
    instant of 02:30 winter time, that is 03:30 summer time, as APScheduler does.

    ``previous_fire_time`` is moved to the trigger's zone first: APScheduler
    3.11 steps past it only if it equals ``now``, and Python never finds an
    ambiguous wall-clock time equal to a time in another zone, so a UTC
    previous time of 02:30 CEST on that night came back as the next fire time.
    """

    __slots__ = ()

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first fire time at or after ``now`` (after ``previous_fire_time``, if given)."""
        if previous_fire_time is not None:
            previous_fire_time = previous_fire_time.astimezone(self.timezone)
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and _repeated(fire, self.timezone):
            fire = super().get_next_fire_time(None, _just_after(fire))
        return fire


@dataclass(frozen=True, slots=True, kw_only=True)
class Recurrence:
    """When a broadcast repeats, as CronTrigger fields, and the words it came from.

    Field syntax is APScheduler 3's CronTrigger, except that ``day_of_week``
    uses names only (``mon,wed``), because cron and APScheduler number
    weekdays differently.

    Attributes:
        text: What the admin typed.

    Raises:
        RecurrenceError: On construction, if a field is invalid, the fields
            never fire, or they fire more than once an hour.
    """

    text: str
    minute: str = "0"
    hour: str = "*"
    day: str = "*"
    month: str = "*"
    day_of_week: str = "*"
    second: str = "0"

    def __post_init__(self) -> None:
        self._check_fields()
        fires: list[datetime] = []
        trigger = self.trigger(ZoneInfo("UTC"))
        fire = trigger.get_next_fire_time(None, _REFERENCE)
        while fire is not None and len(fires) < 3:
            fires.append(fire)
            fire = trigger.get_next_fire_time(None, _just_after(fire))
        if not fires:
            raise RecurrenceError(f"{quote(self.text)} never happens (a 31 Feb?): {self._cron()}.")
        shortest = min((b - a for a, b in pairwise(fires)), default=MIN_INTERVAL)
        if shortest < MIN_INTERVAL:
            raise RecurrenceError(
                f"{quote(self.text)} repeats every {span(shortest)}: more than once an hour"
                ' would spam users. The most frequent is "hour" (every hour at :00).'
            )

    def trigger(
        self, tz: ZoneInfo, start: datetime | None = None, end: datetime | None = None
    ) -> CronTrigger:
        """The APScheduler trigger: these fields on the wall clock of ``tz``.

        Args:
            tz: The zone the hours and days are in.
            start: Earliest fire time, inclusive; aware.
            end: Latest fire time, inclusive; aware.

        Returns:
            A :class:`WallClockCronTrigger`, which fires a repeated wall-clock
            time (clocks going back) once.
        """
        return WallClockCronTrigger(
            second=self.second,
            minute=self.minute,
            hour=self.hour,
            day=self.day,
            month=self.month,
            day_of_week=self.day_of_week,
            timezone=tz,
            start_date=start,
            end_date=end,
        )

    def next_after(
        self, after: datetime, tz: ZoneInfo, end: datetime | None = None
    ) -> datetime | None:
        """The first fire time strictly after ``after``, in UTC; None if it would pass ``end``.

        Args:
            after: Aware; typically the previous fire time or now.
            tz: The zone the fields are read in.
            end: Latest allowed fire time, inclusive; aware.

        Raises:
            ValueError: ``after`` or ``end`` is naive.
        """
        if after.tzinfo is None or (end is not None and end.tzinfo is None):
            raise ValueError("next_after needs aware datetimes")
        # APScheduler 3.11 rounds ``now`` up to the second, so a microsecond later
        # means strictly after.
        fire = self.trigger(tz, end=end).get_next_fire_time(None, _just_after(after))
        return None if fire is None else fire.astimezone(UTC)

    def describe(self) -> str:
        """The rhythm in words: "every Monday at 09:00", "every hour at :15", or "cron ..."."""
        if self.second != "0" or self.month != "*" or not self.minute.isdigit():
            return self._cron()
        minute = int(self.minute)
        if (self.hour, self.day, self.day_of_week) == ("*", "*", "*"):
            return f"every hour at :{minute:02}"
        if not self.hour.isdigit():
            return self._cron()
        at = f"at {int(self.hour):02}:{minute:02}"
        days = _weekday_phrase(self.day_of_week)
        if self.day == "*" and days is not None:
            return f"every {days} {at}"
        if self.day_of_week == "*" and self.day.isdigit():
            return f"on day {int(self.day)} of every month {at}"
        if self.day_of_week == "*" and self.day == "last":
            return f"on the last day of every month {at}"
        return self._cron()

    def to_document(self) -> dict[str, Any]:
        """Plain values for MongoDB, with ``"version": 1``."""
        document: dict[str, Any] = {"version": DOCUMENT_VERSION}
        document.update({field.name: getattr(self, field.name) for field in fields(self)})
        return document

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Recurrence:
        """The recurrence :meth:`to_document` stored.

        Raises:
            RecurrenceError: Another version, a missing or non-text field, or
                fields that no longer pass validation.
        """
        version = document.get("version")
        if version != DOCUMENT_VERSION:
            raise RecurrenceError(f"Recurrence document version {version!r} is not supported.")
        names = [field.name for field in fields(cls)]
        wrong = [name for name in names if not isinstance(document.get(name), str)]
        if wrong:
            raise RecurrenceError(f"Recurrence document lacks text fields: {', '.join(wrong)}.")
        return cls(**{name: str(document[name]) for name in names})

    def _cron(self) -> str:
        cron = "cron " + " ".join(getattr(self, name) for name in _CRON_FIELDS)
        return cron if self.second == "0" else f"{cron} at second {self.second}"

    def _check_fields(self) -> None:
        if any(char.isdigit() for char in self.day_of_week):
            raise RecurrenceError(
                f"{quote(self.text)}: weekday {quote(self.day_of_week)} must use names (mon-sun),"
                " not numbers, which cron and APScheduler read differently."
            )
        for name in ("second", *_CRON_FIELDS):
            value = getattr(self, name)
            try:
                CronTrigger(**{name: value}, timezone=UTC)
            except ValueError:
                raise RecurrenceError(
                    f"{quote(self.text)}: {_LABELS[name]} {quote(value)} is not valid; use a"
                    " value in that range, *, a list (1,15), a range (1-5) or a step (*/2)."
                    " Cron fields are: minute hour day month weekday."
                ) from None


def parse_every(text: str) -> Recurrence:
    """The repetition ``text`` names, case-insensitive.

    Accepted: cron "0 9 * * 1" (5 fields; weekday 0 or 7 = Sunday, 1 = Monday);
    "day 09:00" / "daily 9:00" / "every day at 9am"; weekday names
    "mon 09:00", "monday 9:00", "mon,wed,fri 18:30"; "weekdays 09:00";
    "weekend 10:00"; "month 1 09:00" (days 1-28, as later days are not in
    every month) or "month last 09:00"; "hour" or "hour :15". Times are
    09:00, 9:00, 9am, 9:30pm or 21:30.

    Raises:
        RecurrenceError: Unreadable text, an invalid cron field, 6 fields, a
            day 29-31 in words, or a repetition more often than once an hour.
    """
    return Recurrence(text=text.strip(), **parse_fields(text))


def _just_after(moment: datetime) -> datetime:
    """One microsecond after ``moment``, added in UTC (wall-clock arithmetic loses ``fold``)."""
    return moment.astimezone(UTC) + timedelta(microseconds=1)


def _repeated(fire: datetime, tz: tzinfo | None) -> bool:
    """Whether ``fire`` is the second occurrence of its wall-clock time in ``tz``."""
    wall = fire.astimezone(tz).replace(tzinfo=None)
    first = wall.replace(tzinfo=tz, fold=0)
    real = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
    return real and first.astimezone(UTC) != fire.astimezone(UTC)


def _weekday_phrase(day_of_week: str) -> str | None:
    """ "Monday", "Monday, Wednesday and Friday", "weekday", "day"; None if not a name list."""
    if day_of_week == "*":
        return "day"
    if day_of_week == WEEKDAYS:
        return "weekday"
    names = day_of_week.split(",")
    if not all(name in DAY_NAMES for name in names):
        return None
    full = [FULL_DAY_NAMES[DAY_NAMES.index(name)] for name in names]
    return full[0] if len(full) == 1 else f"{', '.join(full[:-1])} and {full[-1]}"
