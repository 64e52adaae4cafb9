"""A host's users collection may store ids as text or floats: every look-up by id finds them."""

from __future__ import annotations

from datetime import UTC, datetime

from bson.int64 import Int64

from bot.storage.mongo import Database
from bot.storage.users import MongoUserDirectory

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


async def seeded(db: Database) -> MongoUserDirectory:
    await db["users"].insert_many(
        [
            {"user_id": 101, "first_name": "Int"},
            {"user_id": "102", "first_name": "Text"},
            {"user_id": 103.0, "first_name": "Float"},
            {"user_id": Int64(104), "first_name": "Long"},
            {"user_id": "alice", "first_name": "Not an id"},
        ]
    )
    return MongoUserDirectory(db)


async def test_marks_reach_ids_stored_as_text_or_floats(db: Database) -> None:
    users = await seeded(db)

    await users.mark_unreachable(blocked=[102, 103], deactivated=[104], at=NOW)

    blocked = {
        doc["first_name"] async for doc in db["users"].find({"bot_blocked_at": {"$ne": None}})
    }
    gone = {doc["first_name"] async for doc in db["users"].find({"deactivated_at": {"$ne": None}})}
    assert (blocked, gone) == ({"Text", "Float"}, {"Long"})
    assert await users.unmarked([101, 102, 103, 104]) == [101]


async def test_profiles_are_keyed_by_the_number_however_stored(db: Database) -> None:
    users = await seeded(db)

    profiles = await users.profiles([101, 102, 103, 104], ["first_name"])

    assert profiles == {
        101: {"first_name": "Int"},
        102: {"first_name": "Text"},
        103: {"first_name": "Float"},
        104: {"first_name": "Long"},
    }
