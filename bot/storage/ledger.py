"""The per-recipient delivery ledger: one document per (broadcast, user) in ``deliveries``.

A row moves ``pending`` -> ``sending`` (claimed, durably, before the send) ->
``sent`` or ``failed`` (settled after it). A claimed row whose send never started
goes back to ``pending``. A row a crash leaves in ``sending`` is in doubt: its
send may have reached Telegram. It is sent again, with the same Telegram
``random_id`` (so Telegram refuses it if it had arrived), while its first claim
is younger than the in-doubt window; after that it is reported as unknown and
never sent again.

Reads are pages by an indexed key (``user_id`` after the last one seen), never a
long-lived cursor: MongoDB kills cursors idle for 10 minutes, and PyMongo does
not retry a ``getMore`` after a failover.

The row's ``_id`` is ``"<broadcast_id>:<user_id>"``: that makes
``(broadcast_id, user_id)`` unique without a second index, and lets claims and
settlements address rows by primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.errors import BulkWriteError

from bot.delivery.model import DeliveryStatus, Outcome, Tally
from bot.storage.copies import SentRows
from bot.storage.mongo import Collection, Database, aggregate, is_duplicate_key_only
from bot.storage.outage import outages_translated


def row_id(broadcast_id: str, user_id: int) -> str:
    """The primary key of one ledger row."""
    return f"{broadcast_id}:{user_id}"


@outages_translated
class MongoDeliveryLedger(SentRows):
    """The ``deliveries`` collection (what it knows after a broadcast: :class:`SentRows`).

    Contract: ``claim`` returns only rows it moved from pending to sending;
    ``settle`` only moves rows that are sending; ``add_pending`` is idempotent.
    Driver errors of an outage are raised as StorageUnavailableError.
    """

    def __init__(self, db: Database, collection: str = "deliveries") -> None:
        self.rows: Collection = db[collection]

    async def ensure_indexes(self) -> None:
        """Create the indexes the pipeline's queries use."""
        await self.rows.create_index(
            [("broadcast_id", ASCENDING), ("status", ASCENDING), ("user_id", ASCENDING)],
            name="broadcast_status_user",
        )

    async def add_pending(self, broadcast_id: str, user_ids: Sequence[int], now: datetime) -> int:
        """Add recipients as pending; rows that already exist keep their state."""
        if not user_ids:
            return 0
        docs = [
            {
                "_id": row_id(broadcast_id, uid),
                "broadcast_id": broadcast_id,
                "user_id": uid,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "created_at": now,
            }
            for uid in user_ids
        ]
        try:
            result = await self.rows.insert_many(docs, ordered=False)
        except BulkWriteError as error:
            if not is_duplicate_key_only(error):
                raise
            return int(error.details.get("nInserted", 0))
        return len(result.inserted_ids)

    async def claim(
        self, broadcast_id: str, user_ids: Sequence[int], now: datetime, token: str
    ) -> list[int]:
        """Move pending rows to sending under ``token``; returns the users claimed under it.

        Idempotent for one token: called again after its answer was lost (the update
        happened, the reply did not arrive), it returns the rows the first call claimed.
        """
        if not user_ids:
            return []
        keys = [row_id(broadcast_id, uid) for uid in user_ids]
        result = await self.rows.update_many(
            {"_id": {"$in": keys}, "status": DeliveryStatus.PENDING.value},
            {
                "$set": {"status": DeliveryStatus.SENDING.value, "claimed_at": now, "claim": token},
                "$min": {"first_claimed_at": now},
            },
        )
        if result.modified_count == len(keys):
            return list(user_ids)
        query = {"_id": {"$in": keys}, "claim": token, "status": DeliveryStatus.SENDING.value}
        cursor = self.rows.find(query, {"user_id": 1})
        return [doc["user_id"] async for doc in cursor]

    async def release_claim(self, broadcast_id: str, token: str) -> None:
        """Return every row still claimed under ``token`` to pending: a stop came while the
        claim's answer was on its way, so none of them was handed to a sender."""
        await self.rows.update_many(
            {"broadcast_id": broadcast_id, "claim": token, "status": DeliveryStatus.SENDING.value},
            {"$set": {"status": DeliveryStatus.PENDING.value}, "$unset": {"claimed_at": ""}},
        )

    async def release(self, broadcast_id: str, user_ids: Sequence[int]) -> None:
        """Return claimed rows whose send never started to pending (cancel, pause)."""
        if user_ids:
            keys = [row_id(broadcast_id, uid) for uid in user_ids]
            await self.rows.update_many(
                {"_id": {"$in": keys}, "status": DeliveryStatus.SENDING.value},
                {"$set": {"status": DeliveryStatus.PENDING.value}, "$unset": {"claimed_at": ""}},
            )

    async def settle(self, broadcast_id: str, outcomes: Sequence[Outcome]) -> None:
        """Record results in one round trip."""
        if outcomes:
            ops = [self._settle_op(broadcast_id, outcome) for outcome in outcomes]
            await self.rows.bulk_write(ops, ordered=False)

    @staticmethod
    def _settle_op(broadcast_id: str, outcome: Outcome) -> UpdateOne:
        fields: dict[str, Any] = {"attempts": outcome.attempts, "settled_at": outcome.at}
        if outcome.sent:
            fields |= {"status": DeliveryStatus.SENT.value, "message_id": outcome.message_id}
            if len(outcome.message_ids) > 1:
                fields["message_ids"] = list(outcome.message_ids)
            if outcome.duplicate:
                fields["duplicate"] = True
        else:
            assert outcome.error is not None
            fields |= {
                "status": DeliveryStatus.FAILED.value,
                "error": outcome.error.value,
                "error_code": outcome.error_code,
            }
        return UpdateOne(
            {"_id": row_id(broadcast_id, outcome.user_id), "status": DeliveryStatus.SENDING.value},
            {"$set": fields},
        )

    async def pending_page(self, broadcast_id: str, after: int | None, limit: int) -> list[int]:
        """Up to ``limit`` pending recipients with ids above ``after``, in id order."""
        return await self._page(broadcast_id, DeliveryStatus.PENDING, after, limit)

    async def _page(
        self, broadcast_id: str, status: DeliveryStatus, after: int | None, limit: int
    ) -> list[int]:
        query: dict[str, Any] = {"broadcast_id": broadcast_id, "status": status.value}
        if after is not None:
            query["user_id"] = {"$gt": after}
        cursor = self.rows.find(query, {"user_id": 1, "_id": 0}).sort("user_id", ASCENDING)
        return [doc["user_id"] async for doc in cursor.limit(limit)]

    async def retry_in_doubt(self, broadcast_id: str, claimed_since: datetime) -> int:
        """Send rows left ``sending`` once more, if first claimed since then.

        They go back to ``pending`` (``redo`` counts how often); the send that follows
        carries the same ``random_id`` as any that may have arrived, so Telegram refuses
        a repeat for as long as it remembers it: the window bounds that trust, from the
        row's first claim, however often a stop left it in doubt. Returns how many.
        """
        result = await self.rows.update_many(
            {
                "broadcast_id": broadcast_id,
                "status": DeliveryStatus.SENDING.value,
                "first_claimed_at": {"$gte": claimed_since},
            },
            {"$set": {"status": DeliveryStatus.PENDING.value}, "$inc": {"redo": 1}},
        )
        return int(result.modified_count)

    async def tally(self, broadcast_id: str) -> Tally:
        """Count rows by status and failed rows by error category."""
        groups = await aggregate(
            self.rows,
            [
                {"$match": {"broadcast_id": broadcast_id}},
                {"$group": {"_id": {"s": "$status", "e": "$error"}, "n": {"$sum": 1}}},
            ],
        )
        by_status: dict[str, int] = {}
        errors: dict[str, int] = {}
        for group in groups:
            status, error = group["_id"]["s"], group["_id"].get("e")
            by_status[status] = by_status.get(status, 0) + group["n"]
            if status == DeliveryStatus.FAILED.value and error:
                errors[error] = errors.get(error, 0) + group["n"]
        return Tally(
            pending=by_status.get("pending", 0),
            sending=by_status.get("sending", 0),
            sent=by_status.get("sent", 0),
            failed=by_status.get("failed", 0),
            errors=tuple(sorted(errors.items())),
        )

    async def status_of(self, broadcast_id: str, user_id: int) -> DeliveryStatus | None:
        """The status of one row, or None when the user is not in the snapshot."""
        doc = await self.rows.find_one({"_id": row_id(broadcast_id, user_id)}, {"status": 1})
        return None if doc is None else DeliveryStatus(doc["status"])
