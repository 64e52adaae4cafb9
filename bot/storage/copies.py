"""What the ledger knows after a broadcast: its copies (for deletes and edits), its retries,
its rows for a report.

A part of :class:`bot.storage.ledger.MongoDeliveryLedger`, kept apart for its size. Every
read is a page by ``user_id`` over the ``broadcast_status_user`` index, as the
pipeline's own reads are.

An operation's audience leaves out the copies earlier deletes removed: their own
ledger rows (``<delete id>:<user id>``, ``sent``) are looked up by primary key, a page
at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING

from bot.delivery.model import DeliveryStatus, as_utc
from bot.delivery.operations import CopyCounts, SentCopy
from bot.storage.mongo import Collection
from bot.storage.outage import outages_translated

SENT = DeliveryStatus.SENT.value
PAGE = 500
#: What a sent row holds as its message id when none was recorded (missing, null, 0).
NO_ID: list[Any] = [None, 0]
#: What a report reads of each row.
REPORT_FIELDS = {
    "_id": 0,
    "user_id": 1,
    "status": 1,
    "error": 1,
    "error_code": 1,
    "settled_at": 1,
    "message_id": 1,
    "message_ids": 1,
    "attempts": 1,
    "duplicate": 1,
}


@outages_translated
class SentRows:
    """Reads of sent rows and the reopening of failed ones (mixed into the ledger)."""

    rows: Collection

    async def sent_page(
        self, broadcast_id: str, after: int | None, limit: int, excluding: Sequence[str] = ()
    ) -> tuple[list[int], int | None]:
        """Up to ``limit`` recipients the broadcast was sent to, ids above ``after``, less
        those sent in the broadcasts ``excluding``; and the id to continue after (None:
        this was the last page)."""
        docs = await self._sent_docs(broadcast_id, after, limit, {"user_id": 1, "_id": 0})
        ids = [int(doc["user_id"]) for doc in docs]
        next_after = ids[-1] if len(ids) == limit else None
        gone = await self._sent_in(excluding, ids)
        return [uid for uid in ids if uid not in gone], next_after

    async def sent_copies(self, broadcast_id: str, user_ids: Sequence[int]) -> dict[int, SentCopy]:
        """The copies these recipients got, by user id (rows not sent are left out)."""
        if not user_ids:
            return {}
        keys = [f"{broadcast_id}:{uid}" for uid in user_ids]
        fields = {"user_id": 1, "message_id": 1, "message_ids": 1, "settled_at": 1, "duplicate": 1}
        cursor = self.rows.find({"_id": {"$in": keys}, "status": SENT}, fields)
        return {int(doc["user_id"]): _copy(doc) async for doc in cursor}

    async def sent_ages(
        self, broadcast_id: str, since: datetime, excluding: Sequence[str] = ()
    ) -> CopyCounts:
        """The copies left (not deleted by ``excluding``): how many have message ids, how
        many of those were sent at ``since`` or later, and how many have no ids."""
        query: dict[str, Any] = {"broadcast_id": broadcast_id, "status": SENT}
        if not excluding:
            idless = await self.rows.count_documents({**query, "message_id": {"$in": NO_ID}})
            query["message_id"] = {"$nin": NO_ID}
            reachable = await self.rows.count_documents(query)
            young = await self.rows.count_documents({**query, "settled_at": {"$gte": since}})
            return CopyCounts(int(reachable), int(young), int(idless))
        reachable = young = idless = 0
        after: int | None = None
        fields = {"user_id": 1, "settled_at": 1, "message_id": 1}
        while True:
            docs = await self._sent_docs(broadcast_id, after, PAGE, fields)
            gone = await self._sent_in(excluding, [int(d["user_id"]) for d in docs])
            for doc in docs:
                if int(doc["user_id"]) in gone:
                    continue
                if not doc.get("message_id"):
                    idless += 1
                    continue
                reachable += 1
                settled = as_utc(doc.get("settled_at"))
                young += settled is not None and settled >= since
            if len(docs) < PAGE:
                return CopyCounts(reachable, young, idless)
            after = int(docs[-1]["user_id"])

    async def failed_page(
        self, broadcast_id: str, errors: Sequence[str], after: int | None, limit: int
    ) -> list[int]:
        """Up to ``limit`` recipients that failed with one of ``errors``, ids above ``after``."""
        query: dict[str, Any] = {
            "broadcast_id": broadcast_id,
            "status": DeliveryStatus.FAILED.value,
            "error": {"$in": list(errors)},
        }
        if after is not None:
            query["user_id"] = {"$gt": after}
        cursor = self.rows.find(query, {"user_id": 1, "_id": 0}).sort("user_id", ASCENDING)
        return [int(doc["user_id"]) async for doc in cursor.limit(limit)]

    async def reopen(
        self,
        broadcast_id: str,
        *,
        errors: Sequence[str] = (),
        user_ids: Sequence[int] | None = None,
        in_doubt: bool = False,
    ) -> int:
        """Back to pending: rows failed with one of ``errors`` (only those of ``user_ids``
        when given) and, with ``in_doubt``, rows left ``sending``. A sent row never
        matches: nobody gets a broadcast twice. Returns how many were reopened."""
        which: list[dict[str, Any]] = []
        if errors:
            which.append({"status": DeliveryStatus.FAILED.value, "error": {"$in": list(errors)}})
        if in_doubt:
            which.append({"status": DeliveryStatus.SENDING.value})
        if not which or user_ids == []:
            return 0
        query: dict[str, Any] = {"broadcast_id": broadcast_id, "$or": which}
        if user_ids is not None:
            query["_id"] = {"$in": [f"{broadcast_id}:{uid}" for uid in user_ids]}
        result = await self.rows.update_many(
            query,
            {
                "$set": {"status": DeliveryStatus.PENDING.value},
                "$unset": {"error": "", "error_code": "", "claimed_at": "", "claim": ""},
                "$inc": {"reopened": 1},
            },
        )
        return int(result.modified_count)

    async def rows_page(
        self, broadcast_id: str, status: str, after: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` rows of the broadcast in ``status`` with user ids above ``after``,
        in user id order (what a report reads: :data:`REPORT_FIELDS`)."""
        query: dict[str, Any] = {"broadcast_id": broadcast_id, "status": status}
        if after is not None:
            query["user_id"] = {"$gt": after}
        cursor = self.rows.find(query, REPORT_FIELDS).sort("user_id", ASCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def _sent_docs(
        self, broadcast_id: str, after: int | None, limit: int, fields: dict[str, Any]
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"broadcast_id": broadcast_id, "status": SENT}
        if after is not None:
            query["user_id"] = {"$gt": after}
        cursor = self.rows.find(query, fields).sort("user_id", ASCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def _sent_in(self, broadcasts: Sequence[str], user_ids: Sequence[int]) -> set[int]:
        """Those of ``user_ids`` that one of ``broadcasts`` was sent to."""
        if not broadcasts or not user_ids:
            return set()
        keys = [f"{other}:{uid}" for other in broadcasts for uid in user_ids]
        cursor = self.rows.find({"_id": {"$in": keys}, "status": SENT}, {"user_id": 1})
        return {int(doc["user_id"]) async for doc in cursor}


def _copy(doc: dict[str, Any]) -> SentCopy:
    ids = doc.get("message_ids") or ([doc["message_id"]] if doc.get("message_id") else [])
    return SentCopy(
        tuple(int(i) for i in ids), as_utc(doc.get("settled_at")), bool(doc.get("duplicate"))
    )
