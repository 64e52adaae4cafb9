"""Scheduling: ``--at``/``--every``/``--until`` resolved to times, and the schedule commands.

``/broadcast_scheduled`` lists what is coming, ``/broadcast_reschedule`` moves
it, ``/broadcast_timezone`` sets the zone an admin's dates are read and shown in.
Dates are parsed in the admin's zone (else ``TIMEZONE``) and echoed back as an
absolute date with weekday and zone and as a relative time.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hydrogram.types import Message

from bot.admin.commands import (
    BroadcastRequest,
    RescheduleRequest,
    ScheduledRequest,
    TimezoneRequest,
)
from bot.admin.handlers.context import BotContext
from bot.delivery.errors import quote
from bot.delivery.events import event
from bot.delivery.model import as_utc
from scheduler.book import ONCE, Schedule, next_occurrence
from scheduler.recurrence import Recurrence, RecurrenceError, parse_every
from scheduler.when import (
    DateSettings,
    ScheduleParseError,
    describe_when,
    parse_timezone,
    parse_when,
)

log = logging.getLogger(__name__)

MAX_LISTED = 100
#: ``/broadcast_scheduled`` shows this many runs of a repeating schedule.
RUNS_SHOWN = 3
_HAS_CLOCK = re.compile(r"\d:\d|\d\s*[ap]\.?m\b|midnight|noon|полноч|полдень", re.IGNORECASE)
#: Words ``--every`` takes with the time of ``--at``.
PERIODS = frozenset({"day", "daily", "week", "weekly", "month", "monthly"})
#: ``--every month`` from a first run on a later day would skip short months.
MONTH_DAYS = 28


def date_settings(ctx: BotContext) -> DateSettings:
    """How admins' dates are read, from the settings."""
    return DateSettings(languages=ctx.settings.date_languages, date_order=ctx.settings.date_order)


async def admin_zone(ctx: BotContext, admin_id: int) -> ZoneInfo:
    """The admin's own time zone, else the bot's ``TIMEZONE``."""
    name = await ctx.core.admins.timezone(admin_id)
    return ZoneInfo(name) if name else ctx.settings.tz


async def resolve(ctx: BotContext, admin_id: int, request: BroadcastRequest) -> Schedule | None:
    """The schedule ``request`` asks for, None to send now.

    Raises:
        ScheduleParseError: A time or repeat rule that cannot be read, is past,
            too far ahead, ambiguous, or an ``--until`` before the first run.
    """
    if request.at is None and request.every is None:
        return None
    zone, now = await admin_zone(ctx, admin_id), ctx.now()
    settings = date_settings(ctx)
    first = parse_when(request.at, now, zone, settings) if request.at is not None else None
    recurrence = None
    if request.every is not None:
        recurrence = repeat_rule(request.every, first.astimezone(zone) if first else None)
    until = _until(request.until, now, zone, settings) if request.until else None
    if first is None:
        assert recurrence is not None
        first = _first_run(recurrence, now, zone, request.every or "")
    if until is not None and until <= first:
        raise ScheduleParseError(
            f"--until {quote(request.until or '')} ({describe_when(until, now, zone)}) is not"
            f" after the first run ({describe_when(first, now, zone)})."
        )
    text = " ".join(
        f"--{name} {quote(value)}"
        for name, value in (("at", request.at), ("every", request.every), ("until", request.until))
        if value
    )
    return Schedule(first, zone.key, recurrence, until, text)


def _until(text: str, now: datetime, zone: ZoneInfo, settings: DateSettings) -> datetime:
    """``--until``: a date without a time of day includes that whole day."""
    until = parse_when(text, now, zone, settings)
    local = until.astimezone(zone)
    if local.time() == time(0) and not _HAS_CLOCK.search(text):
        until = (local + timedelta(days=1, seconds=-1)).astimezone(until.tzinfo)
    return until


def repeat_rule(every: str, first_local: datetime | None) -> Recurrence:
    """``--every``: a rule of its own, or a bare period that takes its time from ``--at``.

    ``--at "fri 18:00" --every week`` repeats on Fridays at 18:00, ``--every day``
    at the time of the first run, ``--every month`` on its day of the month.

    Raises:
        RecurrenceError: The rule cannot be read and ``--at`` cannot complete it.
    """
    try:
        return parse_every(every)
    except RecurrenceError:
        period = every.strip().lower()
        anchored = _anchored(period, first_local)
        if anchored is None and first_local is None and period in PERIODS:
            raise RecurrenceError(
                f'--every {quote(every)} needs a time: write e.g. --every "day 09:00", or add'
                ' --at "tomorrow 9:00" to repeat from then.'
            ) from None
        if anchored is None:
            raise
    return replace(parse_every(anchored), text=every)


def _anchored(period: str, first: datetime | None) -> str | None:
    if first is None:
        return None
    clock = f"{first:%H:%M}"
    if period in ("day", "daily", "every day"):
        return f"day {clock}"
    if period in ("week", "weekly", "every week"):
        return f"{first:%a} {clock}".lower()
    if period in ("month", "monthly", "every month") and first.day <= MONTH_DAYS:
        return f"month {first.day} {clock}"
    return None


def _first_run(recurrence: Recurrence, now: datetime, zone: ZoneInfo, every: str) -> datetime:
    first = recurrence.next_after(now, zone)
    if first is None:
        raise ScheduleParseError(f"--every {quote(every)} never runs.")
    return first


def when_lines(schedule: Schedule, now: datetime) -> list[str]:
    """The confirmation's lines about time: when, and how it repeats."""
    zone = ZoneInfo(schedule.timezone)
    lines = [f"⏰ When: {describe_when(schedule.first, now, zone)}"]
    if schedule.recurrence is not None:
        repeat = f"🔁 Repeats: {schedule.recurrence.describe()} ({schedule.timezone})"
        if schedule.until is not None:
            repeat += f", until {describe_when(schedule.until, now, zone)}"
        lines.append(repeat)
    return lines


async def on_scheduled(ctx: BotContext, message: Message, request: ScheduledRequest) -> None:
    """``/broadcast_scheduled``: upcoming broadcasts, soonest first."""
    docs = await ctx.core.store.scheduled()
    if not docs:
        await ctx.say(message.chat.id, "🗓 Nothing is scheduled.", reply_to=message.id)
        return
    zone, now = await admin_zone(ctx, message.from_user.id), ctx.now()
    blocks = [f"🗓 Scheduled: {len(docs)}"]
    blocks += [scheduled_text(doc, now, zone) for doc in docs[:MAX_LISTED]]
    if len(docs) > MAX_LISTED:
        blocks.append(f"… and {len(docs) - MAX_LISTED} more.")
    blocks.append("/broadcast_cancel ID cancels one; /broadcast_reschedule ID WHEN moves it.")
    await ctx.say_long(message.chat.id, "\n\n".join(blocks), reply_to=message.id)


def scheduled_text(doc: dict[str, Any], now: datetime, zone: ZoneInfo) -> str:
    """One scheduled broadcast: id, when (the next runs of a repeating one), repeat rule,
    target, first words."""
    schedule = doc.get("schedule") or {}
    due = as_utc(doc.get("scheduled_for"))
    lines = [f"🆔 {doc['broadcast_id']}"]
    repeats = schedule.get("kind", ONCE) != ONCE and bool(schedule.get("recurrence"))
    if due is not None and repeats:
        runs = next_runs(schedule, due)
        lines.append(f"⏰ Next {len(runs)} run(s):")
        lines += [f"   • {describe_when(run, now, zone)}" for run in runs]
    elif due is not None:
        lines.append(f"⏰ {describe_when(due, now, zone)}")
    if repeats:
        rule = Recurrence.from_document(schedule["recurrence"]).describe()
        until = as_utc(schedule.get("until"))
        ending = f", until {describe_when(until, now, zone)}" if until else ""
        runs = schedule.get("runs", 0)
        lines.append(f"🔁 {rule} ({schedule.get('timezone')}){ending}; runs so far: {runs}")
    target = doc.get("requested_target") or doc.get("target") or {}
    lines.append(f"🎯 {target.get('description', '?')}")
    words = doc.get("message_text") or f"({doc.get('message_type', 'message')})"
    lines.append(f"📝 {words[:60]}" + ("…" if len(words) > 60 else ""))
    return "\n".join(lines)


def next_runs(schedule: dict[str, Any], due: datetime, count: int = RUNS_SHOWN) -> list[datetime]:
    """The next ``count`` runs of a repeating schedule from ``due`` (its next one) on,
    fewer when ``until`` ends it sooner."""
    runs = [due]
    while len(runs) < count:
        following = next_occurrence(schedule, runs[-1])
        if following is None:
            break
        runs.append(following)
    return runs


async def on_reschedule(ctx: BotContext, message: Message, request: RescheduleRequest) -> None:
    """``/broadcast_reschedule ID WHEN``: move a scheduled (or missed) broadcast."""
    admin, chat_id = message.from_user.id, message.chat.id
    zone, now = await admin_zone(ctx, admin), ctx.now()
    try:
        when = parse_when(request.when, now, zone, date_settings(ctx))
    except ScheduleParseError as error:
        await ctx.say(chat_id, f"⏰ {error}", reply_to=message.id)
        return
    problem = await _past_its_end(ctx, request.broadcast_id, when, now, zone)
    if problem is not None:
        await ctx.say(chat_id, problem, reply_to=message.id)
        return
    doc = await ctx.core.schedules.reschedule(request.broadcast_id, when, admin, now)
    if doc is None:
        await ctx.say(chat_id, await _not_movable(ctx, request.broadcast_id), reply_to=message.id)
        return
    moved = event("broadcast.rescheduled", request.broadcast_id, by=admin, at=when)
    log.info("%s: rescheduled by %s", request.broadcast_id, admin, extra=moved)
    await ctx.schedules_changed()
    text = f"🗓 {request.broadcast_id} moved to {describe_when(when, now, zone)}."
    schedule = doc.get("schedule") or {}
    if schedule.get("kind") != ONCE:
        following = next_occurrence(schedule, when)
        if following is not None:
            text += f"\nThe run after it: {describe_when(following, now, zone)}."
    await ctx.say(chat_id, text, reply_to=message.id)


async def _past_its_end(
    ctx: BotContext, broadcast_id: str, when: datetime, now: datetime, zone: ZoneInfo
) -> str | None:
    doc = await ctx.core.store.docs.find_one({"_id": broadcast_id}, {"schedule": 1})
    until = as_utc(((doc or {}).get("schedule") or {}).get("until"))
    if until is None or when <= until:
        return None
    return (
        f"⏰ {describe_when(when, now, zone)} is after the end of this repeating broadcast"
        f" ({describe_when(until, now, zone)}). Cancel it and schedule a new one instead."
    )


async def _not_movable(ctx: BotContext, broadcast_id: str) -> str:
    doc = await ctx.core.store.docs.find_one({"_id": broadcast_id}, {"status": 1, "schedule": 1})
    if doc is None:
        return f"No broadcast {broadcast_id}."
    if "schedule" not in doc:
        return f"{broadcast_id} was not scheduled: only scheduled broadcasts can be moved."
    return f"{broadcast_id} is {doc['status']}: only scheduled or missed ones can be moved."


async def on_timezone(ctx: BotContext, message: Message, request: TimezoneRequest) -> None:
    """``/broadcast_timezone [NAME]``: show or set the admin's time zone."""
    admin, chat_id = message.from_user.id, message.chat.id
    if request.name is None:
        zone = await admin_zone(ctx, admin)
        text = (
            f"🌍 Your dates are read and shown in {zone.key}."
            "\nChange it with /broadcast_timezone NAME, e.g. Europe/Berlin."
        )
        await ctx.say(chat_id, text, reply_to=message.id)
        return
    try:
        zone = parse_timezone(request.name)
    except ScheduleParseError as error:
        await ctx.say(chat_id, f"🌍 {error}", reply_to=message.id)
        return
    now = ctx.now()
    await ctx.core.admins.set_timezone(admin, zone.key, now)
    local = now.astimezone(zone)
    await ctx.say(
        chat_id,
        f"🌍 Your time zone is now {zone.key} (it is {local:%a %H:%M} there).",
        reply_to=message.id,
    )
