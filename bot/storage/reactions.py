"""The ``broadcast_reactions`` collection: each recipient's choice on a broadcast's reaction row.

One document per broadcast and user, ``{_id: "<broadcast_id>:<user_id>", broadcast_id,
user_id, choice, at}``: a user who presses another option changes their choice, never
adds a second one. The counts are read from the collection when asked, so they are
live.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING

from bot.storage.mongo import Collection, Database, aggregate
from bot.storage.outage import outages_translated


def reaction_id(broadcast_id: str, user_id: int) -> str:
    """The ``_id`` of a user's reaction to a broadcast."""
    return f"{broadcast_id}:{user_id}"


@outages_translated
class MongoReactionStore:
    """Records and counts reactions."""

    def __init__(self, db: Database, collection: str = "broadcast_reactions") -> None:
        self.docs: Collection = db[collection]

    async def ensure_indexes(self) -> None:
        """The index the counts read."""
        await self.docs.create_index(
            [("broadcast_id", ASCENDING), ("choice", ASCENDING)], name="choices"
        )

    async def record(self, broadcast_id: str, user_id: int, choice: str, at: datetime) -> None:
        """Make ``choice`` the user's reaction to the broadcast (replacing an earlier one)."""
        await self.docs.update_one(
            {"_id": reaction_id(broadcast_id, user_id)},
            {
                "$set": {
                    "broadcast_id": broadcast_id,
                    "user_id": user_id,
                    "choice": choice,
                    "at": at,
                }
            },
            upsert=True,
        )

    async def counts(self, broadcast_id: str) -> dict[str, int]:
        """How many users chose each option (options nobody chose are absent)."""
        return (await self.counts_for([broadcast_id])).get(broadcast_id, {})

    async def counts_for(self, broadcast_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """:meth:`counts` of several broadcasts in one query, by broadcast id."""
        if not broadcast_ids:
            return {}
        rows = await aggregate(
            self.docs,
            [
                {"$match": {"broadcast_id": {"$in": list(broadcast_ids)}}},
                {"$group": {"_id": {"b": "$broadcast_id", "c": "$choice"}, "n": {"$sum": 1}}},
            ],
        )
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(str(row["_id"]["b"]), {})[str(row["_id"]["c"])] = int(row["n"])
        return found
