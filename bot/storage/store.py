"""The ``broadcasts`` collection: one versioned document per broadcast, the truth about it.

Status changes are compare-and-set updates (``expected`` statuses in the
filter), so two processes, or two button presses, cannot both start, pause or
finish the same broadcast. Every change made by a person is appended to the
document's ``audit`` list with who and when.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from bot.delivery.errors import BroadcastExistsError, BroadcastNotFoundError
from bot.delivery.model import BroadcastStatus
from bot.storage.mongo import Collection, Database
from bot.storage.outage import outages_translated

SCHEMA_VERSION = 1
#: The FloodWait episodes a broadcast document keeps (the latest; ``flood_waits`` counts all).
FLOOD_WAIT_LOG_MAX = 500


@outages_translated
class MongoBroadcastStore:
    """Reads and writes broadcast documents."""

    def __init__(self, db: Database, collection: str = "broadcasts") -> None:
        self.docs: Collection = db[collection]

    async def ensure_indexes(self) -> None:
        """Create the indexes history and status queries use."""
        await self.docs.create_index([("admin_id", ASCENDING)], name="admin")
        await self.docs.create_index([("created_at", DESCENDING)], name="created")
        await self.docs.create_index([("status", ASCENDING)], name="status")
        await self.docs.create_index(
            [("status", ASCENDING), ("scheduled_for", ASCENDING)], name="due"
        )

    async def insert(self, doc: dict[str, Any]) -> str:
        """Store a new broadcast document; returns its id.

        Raises:
            BroadcastExistsError: A broadcast with its ``broadcast_id`` exists.
        """
        doc = {"schema_version": SCHEMA_VERSION, "audit": [], **doc}
        doc["_id"] = doc["broadcast_id"]
        try:
            await self.docs.insert_one(doc)
        except DuplicateKeyError:
            raise BroadcastExistsError(str(doc["_id"])) from None
        return str(doc["broadcast_id"])

    async def get(self, broadcast_id: str) -> dict[str, Any]:
        """The document of ``broadcast_id``; raises BroadcastNotFoundError."""
        doc: dict[str, Any] | None = await self.docs.find_one({"_id": broadcast_id})
        if doc is None:
            raise BroadcastNotFoundError(broadcast_id)
        return doc

    async def status(self, broadcast_id: str) -> BroadcastStatus:
        """The current status of ``broadcast_id``."""
        doc = await self.docs.find_one({"_id": broadcast_id}, {"status": 1})
        if doc is None:
            raise BroadcastNotFoundError(broadcast_id)
        return BroadcastStatus(doc["status"])

    async def transition(
        self,
        broadcast_id: str,
        expected: Iterable[BroadcastStatus],
        new: BroadcastStatus,
        *,
        at: datetime,
        by: int | None = None,
        fields: dict[str, Any] | None = None,
        action: str | None = None,
        where: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Atomically move to ``new`` if the status is one of ``expected``.

        The change is appended to the audit trail as ``action`` (default: the new
        status) by ``by`` (None: the system). ``where`` adds conditions (such as
        the due time a scheduler saw). Returns the updated document, or None when
        the status did not match (someone else got there first).
        """
        entry = {"action": action or new.value, "by": by, "at": at}
        update: dict[str, Any] = {
            "$set": {"status": new.value, **(fields or {})},
            "$push": {"audit": entry},
        }
        doc: dict[str, Any] | None = await self.docs.find_one_and_update(
            {**(where or {}), "_id": broadcast_id, "status": {"$in": [s.value for s in expected]}},
            update,
            return_document=ReturnDocument.AFTER,
        )
        return doc

    async def update(self, broadcast_id: str, fields: dict[str, Any]) -> None:
        """Set ``fields`` on the document whatever its status (progress, counts)."""
        await self.docs.update_one({"_id": broadcast_id}, {"$set": fields})

    async def add_operation(self, broadcast_id: str, entry: dict[str, Any]) -> None:
        """Record on a broadcast an operation on it (a delete or an edit: its id and kind)."""
        await self.docs.update_one({"_id": broadcast_id}, {"$push": {"operations": entry}})

    async def add_flood_waits(
        self, broadcast_id: str, episodes: Sequence[tuple[datetime, float]]
    ) -> None:
        """Append FloodWait episodes (when, seconds) to ``flood_wait_log``, keeping the last
        :data:`FLOOD_WAIT_LOG_MAX`."""
        if not episodes:
            return
        entries = [{"at": at, "seconds": float(seconds)} for at, seconds in episodes]
        await self.docs.update_one(
            {"_id": broadcast_id},
            {"$push": {"flood_wait_log": {"$each": entries, "$slice": -FLOOD_WAIT_LOG_MAX}}},
        )

    async def set_progress_message(self, broadcast_id: str, chat_id: int, message_id: int) -> None:
        """Remember the admin's status message, so a restarted bot keeps editing it."""
        await self.update(
            broadcast_id, {"progress_message": {"chat_id": chat_id, "message_id": message_id}}
        )

    async def claim_progress_message(
        self, broadcast_id: str, chat_id: int, message_id: int
    ) -> dict[str, Any] | None:
        """Record this status message unless the broadcast has one; returns the one it has."""
        where = {"chat_id": chat_id, "message_id": message_id}
        doc: dict[str, Any] | None = await self.docs.find_one_and_update(
            {"_id": broadcast_id, "progress_message": None},
            {"$set": {"progress_message": where}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            doc = await self.docs.find_one({"_id": broadcast_id}, {"progress_message": 1})
        found: dict[str, Any] | None = (doc or {}).get("progress_message")
        return found

    async def clear_pending_run(self, schedule_id: str, run_id: str) -> None:
        """Forget the run a schedule owed, once it exists."""
        await self.docs.update_one(
            {"_id": schedule_id, "pending_run.id": run_id}, {"$set": {"pending_run": None}}
        )

    async def with_pending_runs(self) -> list[dict[str, Any]]:
        """Schedules whose last advance was not followed by its run (a crash between)."""
        cursor = self.docs.find({"pending_run": {"$type": "object"}})
        return [doc async for doc in cursor]

    async def mark_reminded(self, broadcast_id: str, at: datetime) -> bool:
        """Note that the admin was reminded of this pause; False if already (another instance)."""
        result = await self.docs.update_one(
            {"_id": broadcast_id, "status": "paused", "pause_reminded_at": None},
            {"$set": {"pause_reminded_at": at}},
        )
        return bool(result.modified_count)

    async def with_status(self, statuses: Iterable[BroadcastStatus]) -> list[dict[str, Any]]:
        """Broadcasts in any of ``statuses``, oldest first."""
        cursor = self.docs.find({"status": {"$in": [s.value for s in statuses]}})
        return [doc async for doc in cursor.sort("created_at", ASCENDING)]

    async def scheduled(self) -> list[dict[str, Any]]:
        """Scheduled broadcasts (one-off and repeating), soonest first."""
        cursor = self.docs.find({"status": BroadcastStatus.SCHEDULED.value})
        return [doc async for doc in cursor.sort("scheduled_for", ASCENDING)]

    async def insert_once(self, doc: dict[str, Any]) -> bool:
        """Insert a document with a deterministic id; False if it already exists."""
        try:
            await self.insert(doc)
        except BroadcastExistsError:
            return False
        return True

    async def recent(self, limit: int, *, drafts: bool = True) -> list[dict[str, Any]]:
        """The ``limit`` most recently created broadcasts, newest first.

        With ``drafts`` False, those never confirmed are left out: drafts, and drafts
        discarded from their confirmation (marked ``discarded``).
        """
        query = {} if drafts else {"status": {"$ne": "draft"}, "discarded": {"$ne": True}}
        cursor = self.docs.find(query).sort("created_at", DESCENDING).limit(limit)
        return [doc async for doc in cursor]
