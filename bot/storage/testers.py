"""The ``broadcast_testers`` collection: who gets ``--test`` broadcasts.

One small document per tester, ``{_id: user_id, added_by, added_at}``; a list an
admin keeps with ``/broadcast_testers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.storage.mongo import Collection, Database
from bot.storage.outage import outages_translated


@outages_translated
class TesterList:
    """Adds, removes and lists testers."""

    def __init__(self, db: Database, collection: str = "broadcast_testers") -> None:
        self.docs: Collection = db[collection]

    async def ids(self) -> list[int]:
        """Every tester's user id, in increasing order."""
        return sorted([int(doc["_id"]) async for doc in self.docs.find({}, {"_id": 1})])

    async def add(self, user_ids: Sequence[int], by: int, at: datetime) -> list[int]:
        """Add these users (idempotent); returns those who were not testers yet."""
        added = []
        for user_id in dict.fromkeys(user_ids):
            result = await self.docs.update_one(
                {"_id": user_id},
                {"$setOnInsert": {"added_by": by, "added_at": at}},
                upsert=True,
            )
            if result.upserted_id is not None:
                added.append(user_id)
        return added

    async def remove(self, user_ids: Sequence[int]) -> list[int]:
        """Remove these users; returns those who were testers."""
        wanted = list(dict.fromkeys(user_ids))
        present = [int(doc["_id"]) async for doc in self.docs.find({"_id": {"$in": wanted}})]
        if present:
            await self.docs.delete_many({"_id": {"$in": present}})
        return [user_id for user_id in wanted if user_id in present]
