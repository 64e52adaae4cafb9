"""Segments against the users collection: the exact recipients each filter selects.

Runs on mongomock by default and on a real server with MONGO_TEST_URI. Seeded
datetimes are aware UTC; nothing here reads one back (mongomock returns them naive).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.storage.mongo import Database
from bot.storage.users import MongoUserDirectory, UserProfile
from segments import FieldMap, SegmentCatalog, index_fields

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
ABSENT: Any = object()  # a row value that leaves the field out of the document


def ago(days: int, minutes: int = 0) -> datetime:
    """``days`` before NOW, moved ``minutes`` later: ``ago(7, +1)`` is just inside 7 days."""
    return NOW - timedelta(days=days) + timedelta(minutes=minutes)


def row(uid: int, lang: str, seen: Any = ABSENT, joined: Any = None, **more: Any) -> dict[str, Any]:
    """A user document in logical field names; ``more`` overrides or adds fields."""
    doc = {
        "user_id": uid,
        "language_code": lang,
        "is_premium": False,
        "role": "user",
        "terms_accepted": True,
        "created_at": joined or ago(365),
        "last_seen": seen,
        **more,
    }
    return {key: value for key, value in doc.items() if value is not ABSENT}


async def seed(db: Database, fields: FieldMap, rows: Iterable[dict[str, Any]]) -> None:
    """Insert ``rows`` under the collection's names for the logical fields."""
    names = fields.as_dict()
    docs = [{names.get(key, key): value for key, value in r.items()} for r in rows]
    await db["users"].insert_many(docs)


async def select(
    db: Database,
    catalog: SegmentCatalog,
    segments: Sequence[str],
    excludes: Sequence[str] = (),
    now: datetime = NOW,
) -> set[int]:
    """The ids streamed for the compiled filter, checking batches, repeats and the count."""
    directory = MongoUserDirectory(db, "users", catalog.fields)
    query = catalog.compile(segments, excludes, now)
    ids: list[int] = []
    async for chunk in directory.stream_ids(query, batch=2):
        assert 0 < len(chunk) <= 2
        ids.extend(chunk)
    assert len(ids) == len(set(ids)), ids
    assert await directory.count(query) == len(ids)
    return set(ids)


ADMIN_IDS = frozenset({7, 90, 92, 999})
POPULATION = [
    row(1, "en", seen=ago(7, +1), joined=ago(7, +1), is_premium=True),
    row(2, "de", seen=ago(7, -1), joined=ago(7, -1), terms_accepted=False),
    row(3, "pt", terms_accepted=ABSENT),  # never seen, never asked about terms
    row(4, "pt-br", seen=ago(0), joined=ago(30, +1), is_premium=True, role="admin"),
    row(5, "ptx", seen=ago(30, +1), joined=ago(30, -1)),
    row(6, "es", seen=ago(30, -1)),
    row(7, "de", seen=ago(1), is_premium=True, bot_blocked_at=None, deactivated_at=None),
    row(8, "de", seen=ago(2), role="moderator"),
    row(9, "fr", seen=None),  # last_seen stored as null
    # Never eligible, though they match most segments.
    row(90, "pt", seen=ago(0), joined=ago(0), is_premium=True, role="banned"),
    row(91, "pt", seen=ago(0), joined=ago(0), is_premium=True, role="admin", bot_blocked_at=ago(1)),
    row(92, "pt-br", seen=ago(0), joined=ago(0), is_premium=True, deactivated_at=ago(1)),
    row(93, "en", is_premium=True, bot_blocked_at=ago(1), deactivated_at=ago(2)),
]
ELIGIBLE = {1, 2, 3, 4, 5, 6, 7, 8, 9}
CATALOG = SegmentCatalog(admin_ids=ADMIN_IDS)


@pytest.fixture
async def users(db: Database) -> Database:
    await seed(db, FieldMap(), POPULATION)
    return db


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("all", ELIGIBLE),
        ("premium", {1, 4, 7}),
        ("active_7d", {1, 4, 7, 8}),
        ("active_30d", {1, 2, 4, 5, 7, 8}),
        ("inactive_7d", {2, 3, 5, 6, 9}),
        ("inactive_30d", {3, 6, 9}),
        ("new_7d", {1}),
        ("new_30d", {1, 2, 4}),
        ("lang:pt", {3, 4}),
        ("lang:pt-br", {4}),
        ("lang:de", {2, 7, 8}),
        ("LANG:EN", {1}),
        ("lang:it", set()),
        ("admins", {4, 7}),
    ],
)
async def test_each_builtin_selects_exactly_its_users(
    users: Database, segment: str, expected: set[int]
) -> None:
    assert await select(users, CATALOG, [segment]) == expected


async def test_now_in_another_zone_counts_back_from_the_same_instant(users: Database) -> None:
    now = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert await select(users, CATALOG, ["active_7d"], now=now) == {1, 4, 7, 8}
    assert await select(users, CATALOG, ["new_30d"], now=now) == {1, 2, 4}


async def test_admins_without_admin_ids_is_the_admin_role(users: Database) -> None:
    assert await select(users, SegmentCatalog(), ["admins"]) == {4}


async def test_require_terms_keeps_only_users_who_accepted(users: Database) -> None:
    catalog = CATALOG.with_overrides(require_terms=True)
    assert await select(users, catalog, ["all"]) == ELIGIBLE - {2, 3}
    assert await select(users, catalog, ["lang:de"]) == {7, 8}


async def test_accepting_the_terms_makes_a_user_eligible(users: Database) -> None:
    catalog = CATALOG.with_overrides(require_terms=True)
    directory = MongoUserDirectory(users, "users", catalog.fields)
    await directory.accept_terms(3, NOW)
    await directory.accept_terms(2, NOW)
    assert await select(users, catalog, ["all"]) == ELIGIBLE


async def test_marked_users_leave_and_come_back_when_they_write(users: Database) -> None:
    directory = MongoUserDirectory(users, "users", CATALOG.fields)
    await directory.mark_unreachable(blocked=[1], deactivated=[4], at=NOW)
    assert await select(users, CATALOG, ["premium"]) == {7}

    for uid in (1, 4, 91, 92, 93):
        await directory.record(UserProfile(uid, language_code="pt", is_premium=True), NOW)
    assert await select(users, CATALOG, ["premium"]) == {1, 4, 7, 91, 92, 93}
    assert await select(users, CATALOG, ["lang:pt", "active_1d"]) == {1, 4, 91, 92, 93}
    assert await select(users, CATALOG, ["admins"]) == {4, 7, 91, 92}
    assert 90 not in await select(users, CATALOG, ["all"])  # a ban is not a mark


@pytest.mark.parametrize(
    ("segments", "excludes", "expected"),
    [
        ([], [], ELIGIBLE),
        (["lang:de", "premium"], [], {7}),
        (["active_7d", "premium"], [], {1, 4, 7}),
        (["inactive_7d", "lang:pt"], [], {3}),
        (["premium", "PREMIUM", "all"], [], {1, 4, 7}),
        (["lang:de"], ["premium"], {2, 8}),
        (["active_7d", "premium"], ["admins"], {1}),
        (["all"], ["premium", "lang:de"], {3, 5, 6, 9}),
        (["active_30d"], ["new_30d", "lang:pt"], {5, 7, 8}),
        ([], ["inactive_30d"], {1, 2, 4, 5, 7, 8}),
        (["premium"], ["active_30d"], set()),
    ],
)
async def test_segments_intersect_and_excludes_subtract(
    users: Database, segments: list[str], excludes: list[str], expected: set[int]
) -> None:
    assert await select(users, CATALOG, segments, excludes) == expected


HOST_FILE = """
[fields]
user_id = "tg_id"
last_seen = "last_active"
created_at = "joined_at"
language_code = "lang"
username = "handle"
is_premium = "premium"
bot_blocked_at = "blocked_on"

[segments.vip]
filter = { plan = { "$in" = ["pro", "team"] }, last_seen = { "$gte" = "now-30d" } }

[segments.devs]
filter = { username = { "$regex" = "^dev_", "$options" = "i" } }

[segments.beta]
filter = { tags = { "$elemMatch" = { "$eq" = "beta" } } }

[segments.two_tags]
filter = { tags = { "$size" = 2 } }

[segments.with_phone]
filter = { phone = { "$exists" = true } }

[segments.team_or_today]
filter = { "$or" = [{ plan = "team" }, { last_seen = { "$gte" = "now-1d" } }] }
"""
HOST_USERS = [
    row(1, "en", ago(30, +1), ago(7, +1), plan="pro", username="dev_ann", tags=["beta", "x"]),
    row(2, "de", ago(30, -1), plan="team", username="DEV_bob", tags=["beta"], is_premium=True),
    row(3, "en", ago(1, +1), plan="free", username="old_dev_", tags=["a", "b"], phone="+1"),
    row(4, "pt", plan="team", username=None, tags=[], role="admin"),
    row(5, "en", ago(0), plan="pro", username="dev_zed", tags=["beta", "y"], phone="+2"),
    row(6, "en", ago(0), ago(100), plan="pro", tags=["beta"], phone="+3", bot_blocked_at=NOW),
]


@pytest.fixture
async def host(db: Database, tmp_path: Path) -> SegmentCatalog:
    """A catalog from a segments file, over users stored under the host bot's names."""
    path = tmp_path / "segments.toml"
    path.write_text(HOST_FILE, encoding="utf-8")
    catalog = SegmentCatalog.from_file(path, admin_ids=[5])
    await seed(db, catalog.fields, HOST_USERS)
    return catalog


@pytest.mark.parametrize(
    ("segments", "excludes", "expected"),
    [
        (["vip"], [], {1, 5}),
        (["devs"], [], {1, 2, 5}),
        (["beta"], [], {1, 2, 5}),
        (["two_tags"], [], {1, 3, 5}),
        (["with_phone"], [], {3, 5}),
        (["team_or_today"], [], {2, 3, 4, 5}),
        (["all"], [], {1, 2, 3, 4, 5}),
        (["active_30d"], [], {1, 3, 5}),
        (["inactive_30d"], [], {2, 4}),
        (["new_7d"], [], {1}),
        (["lang:en"], [], {1, 3, 5}),
        (["premium"], [], {2}),
        (["admins"], [], {4, 5}),
        (["beta", "devs"], ["two_tags"], {2}),
        (["vip", "lang:en"], ["admins"], {1}),
    ],
)
async def test_custom_segments_and_builtins_use_the_host_field_names(
    db: Database,
    host: SegmentCatalog,
    segments: list[str],
    excludes: list[str],
    expected: set[int],
) -> None:
    assert await select(db, host, segments, excludes) == expected


async def test_recording_a_host_user_writes_the_mapped_fields(
    db: Database, host: SegmentCatalog
) -> None:
    directory = MongoUserDirectory(db, "users", host.fields)
    await directory.record(UserProfile(6, username="dev_kim", language_code="de"), NOW)
    await directory.record(UserProfile(7, language_code="de"), NOW)
    assert await select(db, host, ["lang:de", "active_1d"]) == {6, 7}
    assert await select(db, host, ["new_1d"]) == {7}  # 6 keeps the date it joined
    assert await select(db, host, ["devs"]) == {1, 2, 5, 6}


def indexed_fields(info: dict[str, Any]) -> set[str]:
    """The fields that lead an index, whether keys come as pairs or as a mapping."""
    leading: set[str] = set()
    for index in info.values():
        key = index["key"]
        pairs = list(key.items()) if isinstance(key, dict) else list(key)
        leading.add(str(pairs[0][0]))
    return leading


@pytest.mark.parametrize(
    "fields", [FieldMap(), FieldMap(user_id="tg_id", last_seen="last_active", role="status")]
)
async def test_every_builtin_field_is_indexed(db: Database, fields: FieldMap) -> None:
    directory = MongoUserDirectory(db, "users", fields)
    for _ in range(2):  # ensuring twice changes nothing
        await directory.ensure_indexes(index_fields(fields))
    leading = indexed_fields(await db["users"].index_information())
    assert set(index_fields(fields)) <= leading
    assert {fields.user_id, fields.last_seen, fields.role} <= leading


async def test_unique_ids_fall_back_when_the_collection_repeats_a_user(db: Database) -> None:
    await db["users"].insert_many([{"user_id": 1}, {"user_id": 1}])
    users = MongoUserDirectory(db, "users")

    await users.ensure_indexes(unique_ids=True)

    info = await db["users"].index_information()
    assert any("user_id" in str(index["key"]) for index in info.values())
