"""Broadcast lifecycle: create, start, run, pause, resume, cancel. Handlers and the
scheduler use this; the pipeline does the sending."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.delivery.content import Content, TextContent, content_from_document, content_to_document
from bot.delivery.errors import BroadcastExistsError
from bot.delivery.events import event
from bot.delivery.model import ACTIVE, BroadcastStatus, new_broadcast_id
from bot.delivery.pipeline import Pipeline
from bot.delivery.ports import BroadcastStore, ProgressCallback, WallClock
from bot.delivery.report import Summary

log = logging.getLogger(__name__)

STARTABLE = (BroadcastStatus.QUEUED, BroadcastStatus.SCHEDULED)
#: Ids are the second plus 4 hex digits: a clash is rare, and a new id fixes it.
ID_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Audience:
    """Who gets a broadcast: explicit user ids, a filter, or named segments.

    Segments are stored by name and compiled to a filter when the broadcast
    starts sending (see :mod:`bot.delivery.feed`), so relative times such as
    ``active_7d`` count from the run, not from when it was scheduled.
    """

    user_ids: tuple[int, ...] | None = None
    query: dict[str, Any] | None = None
    description: str = "all users"
    segments: tuple[str, ...] | None = None
    excludes: tuple[str, ...] = ()

    @classmethod
    def of_segments(
        cls, segments: Sequence[str], excludes: Sequence[str], description: str
    ) -> Audience:
        """The users in every one of ``segments`` and none of ``excludes``."""
        return cls(segments=tuple(segments), excludes=tuple(excludes), description=description)

    def to_target(self) -> dict[str, Any]:
        """The ``target`` stored on the broadcast document."""
        if self.user_ids is not None:
            return {"user_ids": list(self.user_ids), "description": self.description}
        if self.segments is not None:
            return {
                "segments": list(self.segments),
                "excludes": list(self.excludes),
                "description": self.description,
            }
        return {"filter": self.query or {}, "description": self.description}


@dataclass(frozen=True, slots=True)
class TestMode:
    """``BROADCAST_TEST_MODE``: every broadcast goes to ``users`` only."""

    __test__ = False  # not a pytest test class, despite the name

    enabled: bool = False
    users: tuple[int, ...] = ()


class BroadcastService:
    """The operations on broadcasts that admins and the scheduler perform."""

    def __init__(
        self,
        store: BroadcastStore,
        pipeline: Pipeline,
        wall_clock: WallClock,
        test_mode: TestMode | None = None,
    ) -> None:
        self.store, self.pipeline, self.now = store, pipeline, wall_clock
        self.test_mode = test_mode or TestMode()

    async def create(
        self,
        content: Content,
        audience: Audience,
        *,
        admin_id: int,
        admin_name: str | None = None,
        status: BroadcastStatus = BroadcastStatus.QUEUED,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Record a new broadcast; in test mode its audience becomes the test users."""
        doc = self.new_document(
            content_to_document(content), audience, admin_id=admin_id, admin_name=admin_name
        )
        doc |= {"status": status.value, **(extra or {})}
        for _ in range(ID_ATTEMPTS - 1):
            try:
                return _created(await self.store.insert(doc), doc)
            except BroadcastExistsError:  # another broadcast took the id in the same second
                doc["broadcast_id"] = new_broadcast_id(self.now())
        return _created(await self.store.insert(doc), doc)

    def new_document(
        self,
        content_doc: dict[str, Any],
        audience: Audience,
        *,
        admin_id: int,
        admin_name: str | None,
        broadcast_id: str | None = None,
    ) -> dict[str, Any]:
        """A new broadcast document (status draft) for stored content, not yet inserted."""
        now = self.now()
        requested = audience.to_target()
        if self.test_mode.enabled:
            audience = Audience(user_ids=self.test_mode.users, description="test users")
        return {
            "broadcast_id": broadcast_id or new_broadcast_id(now),
            "admin_id": admin_id,
            "admin_username": admin_name,
            "content": content_doc,
            "message_type": content_doc["type"],
            "target": audience.to_target(),
            "requested_target": requested,
            "test_mode": self.test_mode.enabled,
            "status": BroadcastStatus.DRAFT.value,
            "created_at": now,
            "sent_count": 0,
            "failed_count": 0,
            "error_breakdown": {},
            "message_text": _preview(content_from_document(content_doc)),
            "progress_message": None,
            "audit": [{"action": "created", "by": admin_id, "at": now}],
        }

    async def start(self, broadcast_id: str, by: int | None = None) -> bool:
        """Atomically move a queued or scheduled broadcast to running; False if it was not."""
        now = self.now()
        doc = await self.store.transition(
            broadcast_id,
            STARTABLE,
            BroadcastStatus.RUNNING,
            at=now,
            by=by,
            fields={"started_at": now, "activated_at": now},
            action="started",
        )
        if doc is not None:
            started = event("broadcast.started", broadcast_id, by=by)
            log.info("%s: started", broadcast_id, extra=started)
        return doc is not None

    async def run(self, broadcast_id: str, progress: ProgressCallback | None = None) -> Summary:
        """Deliver a running broadcast to the end (also resumes an interrupted one)."""
        return await self.pipeline.run(broadcast_id, progress)

    async def pause(self, broadcast_id: str, by: int) -> bool:
        """Pause a running broadcast; False if it was not running.

        Its run yields the sender: the next broadcast in the queue goes ahead.
        """
        fields = {"paused_at": self.now(), "paused_by": by, "pause_reminded_at": None}
        return await self._move(
            broadcast_id, [BroadcastStatus.RUNNING], BroadcastStatus.PAUSED, by, "paused", fields
        )

    async def resume(self, broadcast_id: str, by: int) -> bool:
        """Resume a paused broadcast; False if it was not paused.

        It goes to the front of the queue: it continues as soon as the broadcast
        sending now (if any) finishes.
        """
        fields = {"activated_at": self.now()}
        return await self._move(
            broadcast_id, [BroadcastStatus.PAUSED], BroadcastStatus.RUNNING, by, "resumed", fields
        )

    async def cancel(self, broadcast_id: str, by: int) -> bool:
        """Cancel a broadcast that has not finished; False if it had."""
        expected = [*ACTIVE, *STARTABLE, BroadcastStatus.DRAFT]
        return await self._move(broadcast_id, expected, BroadcastStatus.CANCELLED, by, "cancelled")

    async def interrupted(self) -> list[str]:
        """Broadcasts left running by a previous process (a paused one waits), oldest first."""
        docs = await self.store.with_status([BroadcastStatus.RUNNING])
        return [str(doc["_id"]) for doc in docs]

    async def _move(
        self,
        broadcast_id: str,
        expected: Sequence[BroadcastStatus],
        new: BroadcastStatus,
        by: int,
        action: str,
        fields: dict[str, Any] | None = None,
    ) -> bool:
        doc = await self.store.transition(
            broadcast_id, expected, new, at=self.now(), by=by, action=action, fields=fields
        )
        if doc is not None:
            moved = event(f"broadcast.{action}", broadcast_id, by=by)
            log.info("%s: %s", broadcast_id, action, extra=moved)
        return doc is not None


def _created(broadcast_id: str, doc: dict[str, Any]) -> str:
    log.info(
        "%s: created",
        broadcast_id,
        extra=event(
            "broadcast.created",
            broadcast_id,
            status=doc["status"],
            by=doc["admin_id"],
            type=doc["message_type"],
            target=doc["target"].get("description"),
            test_mode=doc["test_mode"],
        ),
    )
    return broadcast_id


def _preview(content: Content) -> str | None:
    """The first 100 characters of a text broadcast, for history lists."""
    return content.text[:100] if isinstance(content, TextContent) else None
