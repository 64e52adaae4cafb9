"""Scheduled broadcasts in MongoDB: what is due, firing it once, missing it, moving it.

The broadcasts collection is the truth. A one-off is a broadcast in status
``scheduled`` with ``scheduled_for``; when due it moves to ``queued`` by one
compare-and-set, so two schedulers firing it start it once. A repeating
broadcast is a *schedule*: a ``scheduled`` document whose ``scheduled_for`` is
its next occurrence; each occurrence becomes a broadcast of its own (linked by
``schedule_id``) with an id derived from the schedule and the due time, so a
second firing of the same occurrence finds it already there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.delivery.errors import BroadcastNotFoundError
from bot.delivery.model import BroadcastStatus, as_utc
from bot.delivery.service import Audience, BroadcastService
from bot.storage.store import MongoBroadcastStore
from scheduler.recurrence import Recurrence

ONCE, REPEATING = "once", "repeating"
#: A job that fires this much before the stored time is stale (the broadcast was moved).
EARLY_SLACK = timedelta(seconds=2)
MAX_ID_ATTEMPTS = 16


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a broadcast goes out: once at ``first``, or on ``recurrence`` until ``until``."""

    first: datetime
    timezone: str
    recurrence: Recurrence | None = None
    until: datetime | None = None
    text: str = ""

    def to_document(self) -> dict[str, Any]:
        """The ``schedule`` field of the broadcast document."""
        return {
            "kind": REPEATING if self.recurrence else ONCE,
            "timezone": self.timezone,
            "recurrence": self.recurrence.to_document() if self.recurrence else None,
            "until": self.until,
            "text": self.text,
            "runs": 0,
        }


@dataclass(frozen=True, slots=True)
class Fired:
    """A broadcast (or a schedule's run) this call queued or marked missed, and the next run."""

    broadcast_id: str
    next_at: datetime | None = None


@dataclass(slots=True)
class Plan:
    """What a scheduler must do to match the broadcasts collection."""

    fire: list[str] = field(default_factory=list)
    miss: list[str] = field(default_factory=list)
    put: dict[str, datetime] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)


def plan(
    scheduled: list[dict[str, Any]],
    jobs: dict[str, datetime | None],
    now: datetime,
    grace: timedelta,
) -> Plan:
    """Compare scheduled broadcasts with the scheduler's jobs (pure).

    Due within ``grace``: fire now; due longer ago: missed; in the future: a job
    at ``scheduled_for`` unless one is there; jobs of anything not scheduled: removed.
    """
    result = Plan()
    for doc in scheduled:
        due = as_utc(doc.get("scheduled_for"))
        if due is None:
            continue
        bid = str(doc["_id"])
        if due <= now:
            (result.fire if now - due <= grace else result.miss).append(bid)
        elif jobs.get(bid) != due:
            result.put[bid] = due
    live = {str(doc["_id"]) for doc in scheduled if doc.get("scheduled_for") is not None}
    result.remove = sorted(set(jobs) - live)  # a due one's job is replaced as it fires
    return result


def occurrence_id(schedule_id: str, due: datetime, attempt: int = 0) -> str:
    """The id of a repeating broadcast's run at ``due``: the same for every scheduler.

    ``attempt`` picks another id when the first belongs to a different broadcast
    (another schedule due the same second, 1 in 65,536).
    """
    key = f"{schedule_id}@{due.isoformat()}#{attempt}"
    return f"bc_{due:%Y%m%d_%H%M%S}_{hashlib.sha256(key.encode()).hexdigest()[:4]}"


class ScheduleBook:
    """Operations on scheduled broadcasts; every change is a compare-and-set."""

    def __init__(self, store: MongoBroadcastStore, service: BroadcastService) -> None:
        self.store, self.service = store, service

    async def fire(self, broadcast_id: str, now: datetime) -> Fired | None:
        """Start a due broadcast (or the due run of a schedule); None if not due or taken.

        A job firing before the stored time (the broadcast was moved) is stale: None.
        """
        found = await self._scheduled(broadcast_id)
        if found is None or found[1] > now + EARLY_SLACK:
            return None
        return await self._settle_due(found[0], now, BroadcastStatus.QUEUED, "due")

    async def miss(self, broadcast_id: str, now: datetime, grace: timedelta) -> Fired | None:
        """Mark a broadcast (or a schedule's run) due more than ``grace`` ago as missed.

        None if it is not scheduled or not that late: a repeating schedule already
        moved on to its next run is not missed again.
        """
        found = await self._scheduled(broadcast_id)
        if found is None or found[1] + grace >= now:
            return None
        return await self._settle_due(found[0], now, BroadcastStatus.MISSED, "missed")

    async def _scheduled(self, broadcast_id: str) -> tuple[dict[str, Any], datetime] | None:
        """The document and due time of a broadcast in status ``scheduled``, else None."""
        try:
            doc = await self.store.get(broadcast_id)
        except BroadcastNotFoundError:
            return None
        due = as_utc(doc.get("scheduled_for"))
        if doc["status"] != BroadcastStatus.SCHEDULED or due is None:
            return None
        return doc, due

    async def _settle_due(
        self, doc: dict[str, Any], now: datetime, status: BroadcastStatus, action: str
    ) -> Fired | None:
        """A one-off moves to ``status``; a schedule gets a run in ``status`` and moves on."""
        if doc["schedule"]["kind"] != ONCE:
            return await self._run_occurrence(doc, now, status)
        moved = await self.store.transition(
            str(doc["_id"]),
            [BroadcastStatus.SCHEDULED],
            status,
            at=now,
            action=action,
            where={"scheduled_for": doc["scheduled_for"]},
        )
        return Fired(str(doc["_id"])) if moved else None

    async def _run_occurrence(
        self, doc: dict[str, Any], now: datetime, status: BroadcastStatus
    ) -> Fired | None:
        """Advance the schedule past ``due`` and create that run: the run exists only if the
        advance succeeded (a schedule cancelled or moved meanwhile gets none).

        The advance records the run it owes (``pending_run``) in the same update, so a
        crash between the two steps is finished by :meth:`settle_pending` at the next sweep.
        """
        schedule_id = str(doc["_id"])
        due = as_utc(doc["scheduled_for"])
        assert due is not None  # checked by the callers
        run_id = await self._free_run_id(schedule_id, due)
        next_at = next_occurrence(doc["schedule"], max(due, now))
        fields: dict[str, Any] = {
            "scheduled_for": next_at,
            "schedule.runs": int(doc["schedule"].get("runs", 0)) + 1,
            "pending_run": {"id": run_id, "at": due, "status": status.value, "fired_at": now},
        }
        advanced = await self.store.transition(
            schedule_id,
            [BroadcastStatus.SCHEDULED],
            BroadcastStatus.SCHEDULED if next_at else BroadcastStatus.COMPLETED,
            at=now,
            fields=fields,
            action="occurrence" if next_at else "ended",
            where={"scheduled_for": doc["scheduled_for"]},
        )
        if advanced is None:  # another scheduler advanced it, or it was cancelled or moved
            return None
        return await self.settle_pending(advanced)

    async def settle_pending(self, schedule: dict[str, Any]) -> Fired | None:
        """Create the run a schedule's advance recorded, if not there yet; clear the record."""
        pending = schedule.get("pending_run")
        if not pending:
            return None
        schedule_id, status = str(schedule["_id"]), BroadcastStatus(pending["status"])
        due, now = as_utc(pending["at"]), as_utc(pending["fired_at"])
        assert due is not None
        assert now is not None
        child = self.service.new_document(
            schedule["content"],
            _audience(schedule),
            admin_id=schedule["admin_id"],
            admin_name=schedule.get("admin_username"),
            broadcast_id=str(pending["id"]),
        )
        child |= {"status": status.value, "schedule_id": schedule_id, "occurrence_at": due}
        # what the schedule shows of its message (a copy's kind and caption) shows on each run
        child["message_text"] = schedule.get("message_text") or child["message_text"]
        if status is BroadcastStatus.MISSED:
            child["audit"].append({"action": "missed", "by": None, "at": now})
        created = await self.store.insert_once(child)
        await self.store.clear_pending_run(schedule_id, str(pending["id"]))
        return Fired(str(pending["id"]), as_utc(schedule.get("scheduled_for"))) if created else None

    async def _free_run_id(self, schedule_id: str, due: datetime) -> str:
        """The derived id of the run at ``due``, skipping ids another broadcast holds."""
        for attempt in range(MAX_ID_ATTEMPTS):
            candidate = occurrence_id(schedule_id, due, attempt)
            try:
                existing = await self.store.get(candidate)
            except BroadcastNotFoundError:
                return candidate
            if (
                existing.get("schedule_id") == schedule_id
                and as_utc(existing.get("occurrence_at")) == due
            ):
                return candidate  # this very run (made by another scheduler)
        raise RuntimeError(f"no free id for the run of {schedule_id} at {due}")

    async def confirm(self, broadcast_id: str, by: int, now: datetime) -> dict[str, Any] | None:
        """Draft -> scheduled, if its time is still ahead; the document, or None."""
        return await self.store.transition(
            broadcast_id,
            [BroadcastStatus.DRAFT],
            BroadcastStatus.SCHEDULED,
            at=now,
            by=by,
            action="scheduled",
            where={"scheduled_for": {"$gt": now}},
        )

    async def reschedule(
        self, broadcast_id: str, when: datetime, by: int, now: datetime
    ) -> dict[str, Any] | None:
        """Move a scheduled (or missed) broadcast to ``when``; the document, or None."""
        return await self.store.transition(
            broadcast_id,
            [BroadcastStatus.SCHEDULED, BroadcastStatus.MISSED],
            BroadcastStatus.SCHEDULED,
            at=now,
            by=by,
            fields={"scheduled_for": when},
            action="rescheduled",
            where={"schedule": {"$exists": True}},
        )


def next_occurrence(schedule: dict[str, Any], after: datetime) -> datetime | None:
    """A repeating schedule's first run strictly after ``after``, None past ``until``."""
    recurrence = Recurrence.from_document(schedule["recurrence"])
    until = as_utc(schedule.get("until"))
    return recurrence.next_after(after, ZoneInfo(schedule["timezone"]), until)


def _audience(doc: dict[str, Any]) -> Audience:
    target = doc.get("requested_target") or doc["target"]
    if "segments" in target:
        return Audience.of_segments(target["segments"], target["excludes"], target["description"])
    if "user_ids" in target:
        return Audience(user_ids=tuple(target["user_ids"]), description=target["description"])
    return Audience(query=target.get("filter") or {}, description=target["description"])
