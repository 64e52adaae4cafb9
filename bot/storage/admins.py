"""Per-admin preferences (their time zone), one small document per admin."""

from __future__ import annotations

from datetime import datetime

from bot.storage.mongo import Collection, Database


class AdminPreferences:
    """The ``broadcast_admins`` collection: ``{_id: admin id, timezone, updated_at}``."""

    def __init__(self, db: Database, collection: str = "broadcast_admins") -> None:
        self.docs: Collection = db[collection]

    async def timezone(self, admin_id: int) -> str | None:
        """The IANA name the admin chose, or None (the bot's ``TIMEZONE`` applies)."""
        doc = await self.docs.find_one({"_id": admin_id}, {"timezone": 1})
        return None if doc is None else doc.get("timezone")

    async def set_timezone(self, admin_id: int, name: str, at: datetime) -> None:
        """Remember ``name`` as the admin's time zone."""
        await self.docs.update_one(
            {"_id": admin_id}, {"$set": {"timezone": name, "updated_at": at}}, upsert=True
        )
