"""The users collection: stream recipients, mark the unreachable, record who talks to the bot.

Users are never deleted: a user who blocked the bot or whose account is gone
gets ``bot_blocked_at`` / ``deactivated_at`` set and stays in the collection; a
user who writes again has both marks removed and is eligible again. Every field
name goes through a :class:`segments.FieldMap`, so a host bot's own names work.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from bot.delivery.recipients import user_id_of
from bot.storage.mongo import Collection, Database, aggregate
from bot.storage.outage import outages_translated
from segments.model import FieldMap

log = logging.getLogger(__name__)

#: What a personal greeting may put in a text (see :mod:`bot.delivery.placeholders`).
PROFILE_FIELDS = ("first_name", "username", "language_code")


@dataclass(frozen=True, slots=True)
class UserProfile:
    """What Telegram tells us about a user with each message."""

    user_id: int
    first_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False


@outages_translated
class MongoUserDirectory:
    """Reads and writes documents of the users collection (keyed by ``user_id``)."""

    def __init__(self, db: Database, collection: str = "users", fields: FieldMap | None = None):
        self.docs: Collection = db[collection]
        self.fields = fields or FieldMap()
        self._on_marked: list[Callable[[Sequence[int]], None]] = []

    def on_marked(self, listener: Callable[[Sequence[int]], None]) -> None:
        """Call ``listener`` with the ids of users marked unreachable (to forget caches)."""
        self._on_marked.append(listener)

    async def ensure_indexes(self, extra: Sequence[str] = (), *, unique_ids: bool = False) -> None:
        """An index on ``user_id`` and on each of ``extra`` (what segments filter on).

        A host bot's collection may already have them under other names; a field
        that already leads an index is left alone (MongoDB refuses a second index
        with the same keys). With ``unique_ids`` (the bot records users itself) a
        new ``user_id`` index is unique, so two first messages at once make one user.
        """
        indexed = await self._indexed_fields()
        if self.fields.user_id not in indexed:
            try:
                await self.docs.create_index(self.fields.user_id, unique=unique_ids)
            except DuplicateKeyError:  # the collection already holds a user twice
                log.warning("users repeat a user_id: indexing it without uniqueness")
                await self.docs.create_index(self.fields.user_id)
        for name in dict.fromkeys(extra):
            if name not in indexed and name != self.fields.user_id:
                await self.docs.create_index(name)

    async def _indexed_fields(self) -> set[str]:
        info: dict[str, Any] = await self.docs.index_information()
        leading = set()
        for index in info.values():
            key = index.get("key")
            first = next(iter(key.items() if isinstance(key, dict) else key or []), None)
            if first is not None:
                leading.add(str(first[0]))
        return leading

    async def page(
        self, query: dict[str, Any], after: Any | None, limit: int
    ) -> tuple[list[Any], Any | None]:
        """Up to ``limit`` users matching ``query`` after the key ``after``, in key order.

        Returns their ``user_id`` values as stored (the caller checks them) and the key
        to continue after, None when this was the last page. The key is ``_id``, which
        every document has and MongoDB indexes: each page is a fresh query, so no
        cursor lives between pages (an idle cursor is killed after 10 minutes).
        """
        key = self.fields.user_id
        if after is not None:
            query = {"$and": [query, {"_id": {"$gt": after}}]} if query else {"_id": {"$gt": after}}
        cursor = self.docs.find(query, {key: 1}).sort("_id", ASCENDING).limit(limit)
        docs = [doc async for doc in cursor]
        last = docs[-1]["_id"] if len(docs) == limit else None
        return [doc.get(key) for doc in docs], last

    async def stream_ids(self, query: dict[str, Any], batch: int) -> AsyncIterator[list[int]]:
        """The integer user id of every user matching ``query``, in pages of ``batch``."""
        after: Any | None = None
        while True:
            values, after = await self.page(query, after, batch)
            ids = [uid for uid in values if isinstance(uid, int) and not isinstance(uid, bool)]
            if ids:
                yield ids
            if after is None:
                return

    async def unmarked(self, user_ids: Sequence[int]) -> list[int]:
        """Those of ``user_ids`` the collection holds without a blocked or deleted mark
        (they came back, or never left)."""
        if not user_ids:
            return []
        f = self.fields
        query = {f.user_id: stored_forms(user_ids), f.bot_blocked_at: None, f.deactivated_at: None}
        cursor = self.docs.find(query, {f.user_id: 1})
        return list({_as_id(doc[f.user_id]): None async for doc in cursor})

    async def count(self, query: dict[str, Any]) -> int:
        """How many users match ``query`` now."""
        found: int = await self.docs.count_documents(query)
        return found

    async def profiles(
        self, user_ids: Sequence[int], names: Sequence[str] = PROFILE_FIELDS
    ) -> dict[int, dict[str, Any]]:
        """The ``names`` fields (logical names, e.g. ``first_name``) of these users, by id:
        one query for the whole batch; users not in the collection are left out."""
        key = self.fields.user_id
        stored = {name: getattr(self.fields, name) for name in names}
        projection = {key: 1, **{field: 1 for field in stored.values()}}
        cursor = self.docs.find({key: stored_forms(user_ids)}, projection)
        return {
            _as_id(doc[key]): {name: doc.get(field) for name, field in stored.items()}
            async for doc in cursor
        }

    async def longest(self, query: dict[str, Any], names: Sequence[str]) -> dict[str, int]:
        """The length in characters of the longest value of each of ``names`` (logical
        names) among the users matching ``query``; 0 when none has a text there."""
        found: dict[str, int] = {}
        for name in names:
            field = getattr(self.fields, name)
            texts = {field: {"$type": "string"}}
            match = {"$and": [query, texts]} if query else texts
            group = {"_id": None, "longest": {"$max": {"$strLenCP": f"${field}"}}}
            rows = await aggregate(self.docs, [{"$match": match}, {"$group": group}])
            # No group at all over no documents (mongomock: one group of None).
            found[name] = int(rows[0]["longest"] or 0) if rows else 0
        return found

    async def mark_unreachable(
        self, blocked: Sequence[int], deactivated: Sequence[int], at: datetime
    ) -> None:
        """Record that these users blocked the bot or deleted their account."""
        marks = ((self.fields.bot_blocked_at, blocked), (self.fields.deactivated_at, deactivated))
        for field, ids in marks:
            if ids:
                await self.docs.update_many(
                    {self.fields.user_id: stored_forms(ids)}, {"$set": {field: at}}
                )
                for listener in self._on_marked:
                    listener(ids)

    async def record(self, profile: UserProfile, at: datetime) -> None:
        """Upsert a user who wrote to the bot: profile, ``last_seen``, first seen, marks cleared."""
        try:
            await self._upsert(profile, at)
        except DuplicateKeyError:  # the same new user's other message won the insert
            await self._upsert(profile, at)

    async def _upsert(self, profile: UserProfile, at: datetime) -> None:
        f = self.fields
        await self.docs.update_one(
            {f.user_id: profile.user_id},
            {
                "$set": {
                    f.first_name: profile.first_name,
                    f.username: profile.username,
                    f.language_code: profile.language_code,
                    f.is_premium: profile.is_premium,
                    f.last_seen: at,
                },
                "$setOnInsert": {f.created_at: at},
                "$unset": {f.bot_blocked_at: "", f.deactivated_at: ""},
            },
            upsert=True,
        )

    async def accept_terms(self, user_id: int, at: datetime) -> None:
        """Record that ``user_id`` accepted the terms (idempotent)."""
        f = self.fields
        await self.docs.update_one(
            {f.user_id: user_id},
            {"$set": {f.terms_accepted: True, "terms_accepted_at": at}},
            upsert=True,
        )

    async def has_accepted_terms(self, user_id: int) -> bool:
        """Whether ``user_id`` accepted the terms."""
        f = self.fields
        doc = await self.docs.find_one({f.user_id: user_id, f.terms_accepted: True}, {"_id": 1})
        return doc is not None


def stored_forms(user_ids: Sequence[int]) -> dict[str, list[int | str]]:
    """``$in`` these users however a host stored their id: a number (int, Int64 and a
    float compare as numbers) or a string of digits (see ``bot.delivery.recipients``)."""
    return {"$in": [*user_ids, *(str(uid) for uid in user_ids)]}


def _as_id(stored: Any) -> int:
    """The user id of a document ``stored_forms`` matched (so it is one)."""
    found = user_id_of(stored)
    assert isinstance(found, int), stored
    return found
