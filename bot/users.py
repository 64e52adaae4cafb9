"""The host bot's users collection, as the pipeline needs it: stream ids, mark the unreachable.

Users are never deleted: a user who blocked the bot or whose account is gone
gets ``bot_blocked_at`` / ``deactivated_at`` set, and stays in the collection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from bot.mongo import Collection, Database


class MongoUserDirectory:
    """Reads and marks documents of the users collection (keyed by ``user_id``)."""

    def __init__(self, db: Database, collection: str = "users") -> None:
        self.docs: Collection = db[collection]

    async def ensure_indexes(self) -> None:
        """The audience stream and the marks look users up by ``user_id``."""
        await self.docs.create_index("user_id", name="user_id")

    async def stream_ids(self, query: dict[str, Any], batch: int) -> AsyncIterator[list[int]]:
        """The ``user_id`` of every user matching ``query``, in batches of at most ``batch``."""
        cursor = self.docs.find(query, {"user_id": 1, "_id": 0}).batch_size(batch)
        chunk: list[int] = []
        async for doc in cursor:
            uid = doc.get("user_id")
            if isinstance(uid, int):
                chunk.append(uid)
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    async def mark_unreachable(
        self, blocked: Sequence[int], deactivated: Sequence[int], at: datetime
    ) -> None:
        """Record that these users blocked the bot or deleted their account."""
        for field, ids in (("bot_blocked_at", blocked), ("deactivated_at", deactivated)):
            if ids:
                await self.docs.update_many({"user_id": {"$in": list(ids)}}, {"$set": {field: at}})
