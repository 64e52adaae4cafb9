"""A change counter in MongoDB: how a standby tells the leader that the schedule changed.

Any instance may schedule, move or cancel a broadcast; only the leader runs the
scheduler. The instance that made the change bumps the counter; the leader reads
it every second (one look-up by ``_id``) and syncs its jobs when it moved, so a
change made on a standby reaches the leader within about a second, not at its
next sweep. (A change stream would do the same on a replica set; this works on
every deployment, the in-memory database included.)
"""

from __future__ import annotations

from datetime import datetime

from bot.storage.mongo import Collection


class ChangeSignal:
    """One named counter in ``collection``.

    Args:
        collection: Where the counters live (``broadcast_signals``).
        name: The counter's ``_id``.
    """

    def __init__(self, collection: Collection, name: str) -> None:
        self.collection, self.name = collection, name

    async def bump(self, at: datetime) -> None:
        """Something changed."""
        await self.collection.update_one(
            {"_id": self.name}, {"$inc": {"version": 1}, "$set": {"changed_at": at}}, upsert=True
        )

    async def version(self) -> int:
        """The counter now (0 before the first change)."""
        doc = await self.collection.find_one({"_id": self.name}, {"version": 1})
        return int((doc or {}).get("version", 0))
