"""Two in-memory databases, indexed and plain mongomock, that receive the same calls.

Every call is made on both; its outcome (a result, or an error with its code and
details) must be the same, and so must the collections' contents afterwards.
Random documents, filters and writes exercise what the indexes must get right:
missing fields, mixed types (1, 1.0 and True are equal to mongomock), arrays,
subdocuments, dotted paths.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.results import (
    BulkWriteResult,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)

from bot.storage.inmemory import in_memory_database

OIDS = [ObjectId(f"{n:024x}") for n in range(1, 4)]
SCALARS: list[Any] = [
    0, 1, 2, 1.0, 2.5, -3, True, False, None, "", "x", "y", "10",
    *OIDS, str(OIDS[0]), datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC),
]  # fmt: skip
ODD: list[Any] = [[1, 2], [], ["x", 3], [[1]], [None], {"z": 1}, {"z": 1, "w": 2}, [OIDS[0]]]
FIELDS = ["a", "b", "c", "d.e", "_id"]
INDEXES: list[Any] = ["a", [("b", 1), ("c", 1)], [("b", 1), ("c", -1), ("a", 1)], "d.e"]


def outcome(call: Callable[[], Any]) -> Any:
    """What a call did, comparable between the two databases."""
    try:
        result = call()
    except Exception as error:  # the error is part of the behaviour being compared
        return ("error", type(error).__name__, getattr(error, "code", None), _details(error))
    return comparable(result)


def _details(error: Exception) -> Any:
    details = getattr(error, "details", None)
    if isinstance(details, dict):
        return {k: v for k, v in details.items() if k != "connectionId"}
    return str(error)


def comparable(result: Any) -> Any:
    """A write's result as plain values (its raw form holds the client's connection id)."""
    if isinstance(result, UpdateResult):
        return ("update", result.matched_count, result.modified_count, result.upserted_id)
    if isinstance(result, DeleteResult):
        return ("delete", result.deleted_count)
    if isinstance(result, InsertOneResult):
        return ("insert", result.inserted_id)
    if isinstance(result, InsertManyResult):
        return ("insert", result.inserted_ids)
    if isinstance(result, BulkWriteResult):
        return ("bulk", result.bulk_api_result)
    return result


class Twins:
    """The same collection in an indexed and a plain in-memory database."""

    def __init__(self, name: str = "twins") -> None:
        self.indexed = in_memory_database(name).delegate[name]
        self.plain = in_memory_database(name, indexed=False).delegate[name]

    def same(self, call: Callable[[Any], Any]) -> Any:
        """Make ``call`` on both; returns its outcome after checking they agree."""
        expected = outcome(lambda: call(self.plain))
        got = outcome(lambda: call(self.indexed))
        assert got == expected, f"indexed: {got!r}\nplain:   {expected!r}"
        return got

    def create_index(self, keys: Any, **options: Any) -> Any:
        """Declare the same index on both."""
        return self.same(lambda c: c.create_index(keys, **options))

    def insert(self, docs: list[dict[str, Any]], *, ordered: bool = True) -> Any:
        """Insert copies of the same documents into both."""
        return self.same(lambda c: c.insert_many([dict(d) for d in docs], ordered=ordered))

    def assert_same_contents(self) -> None:
        """Both hold the same documents in the same natural order."""
        got, expected = list(self.indexed.find()), list(self.plain.find())
        assert got == expected, f"indexed: {got!r}\nplain:   {expected!r}"


class Chaos:
    """Random documents, filters, sorts and writes from one seed."""

    def __init__(self, seed: int, *, odd: float = 0.2) -> None:
        self.rng = random.Random(seed)
        self.odd = odd  # the share of arrays and subdocuments among values

    def value(self) -> Any:
        """A stored or queried value: mostly scalars, sometimes arrays and subdocuments."""
        pool = ODD if self.rng.random() < self.odd else SCALARS
        return copy.deepcopy(self.rng.choice(pool))

    def document(self, _id: Any) -> dict[str, Any]:
        """A document with some fields missing."""
        doc: dict[str, Any] = {"_id": _id}
        for name in ("a", "b", "c"):
            if self.rng.random() < 0.85:
                doc[name] = self.value()
        roll = self.rng.random()
        if roll < 0.4:
            doc["d"] = {"e": self.value()}
        elif roll < 0.55 * (self.odd > 0):
            doc["d"] = [{"e": self.value()}, {"e": self.value()}, {}]
        elif roll < 0.6:
            doc["d"] = self.value()
        return doc

    def doc_id(self) -> Any:
        """Ids from a small pool, so inserts collide; mostly ints, some of other types."""
        return self.rng.choice([*range(40), "k1", "k2", OIDS[1], 2.0])

    def condition(self) -> dict[str, Any]:
        """One field's condition."""
        name = self.rng.choice(FIELDS)
        v, w = self.value(), self.value()
        shapes: list[Any] = [
            v,
            {"$in": [v, w]},
            {"$in": []},
            {"$eq": v},
            {self.rng.choice(["$gt", "$gte", "$lt", "$lte"]): v},
            {"$gt": v, "$lte": w},
            {"$ne": v},
            {"$nin": [v]},
            {"$exists": self.rng.random() < 0.5},
            {"$in": [v, w], "$gte": v},
        ]
        return {name: self.rng.choice(shapes)}

    def filter(self) -> dict[str, Any]:
        """A filter of one to three conditions, sometimes under $and or $or."""
        parts = [self.condition() for _ in range(self.rng.randint(1, 3))]
        roll = self.rng.random()
        if roll < 0.2:
            return {"$and": parts}
        if roll < 0.3:
            return {"$or": parts}
        merged: dict[str, Any] = {}
        for part in parts:
            merged.update(part)
        return merged

    def sort(self) -> list[tuple[str, int]] | None:
        """No sort, or one key either way."""
        if self.rng.random() < 0.3:
            return None
        return [(self.rng.choice(FIELDS), self.rng.choice([1, -1]))]

    def update(self) -> dict[str, Any]:
        """An update that often moves a document within an index."""
        name = self.rng.choice(["a", "b", "c", "d.e", "d"])
        return self.rng.choice(
            [
                {"$set": {name: self.value()}},
                {"$unset": {name: ""}},
                {"$inc": {"a": 1}},
                {"$set": {"a": self.value(), "b": self.value()}},
                {"$push": {"c": self.value()}},
            ]
        )

    def write(self) -> Callable[[Any], Any]:
        """One random write, as a call to make on a collection (drawn before either call)."""
        rng, f, u, sort = self.rng, self.filter(), self.update(), self.sort()
        doc = self.document(self.doc_id())
        key = self.doc_id()
        replacement = {k: v for k, v in self.document(key).items() if k != "_id"}
        many = [self.document(self.doc_id()) for _ in range(3)]
        ordered = rng.random() < 0.5
        bulk = self._bulk(key, f, u, many, replacement)
        writes: list[Callable[[Any], Any]] = [
            lambda c: c.insert_one(dict(doc)),
            lambda c: c.insert_many([dict(d) for d in many], ordered=ordered),
            lambda c: c.update_one(f, u),
            lambda c: c.update_many(f, u),
            lambda c: c.update_one({**f, "_id": key}, u, upsert=True),
            lambda c: c.replace_one({"_id": key}, replacement, upsert=ordered),
            lambda c: c.delete_one(f),
            lambda c: c.delete_many(f),
            lambda c: c.find_one_and_update(f, u, sort=sort),
            lambda c: c.bulk_write(bulk(), ordered=ordered),
        ]
        return rng.choice(writes)

    def _bulk(
        self, key: Any, f: Any, u: Any, many: list[Any], replacement: Any
    ) -> Callable[[], list[Any]]:
        value = self.value()
        return lambda: [
            UpdateOne({"_id": key}, u),
            InsertOne(dict(many[0])),
            UpdateMany(f, {"$set": {"b": value}}),
            ReplaceOne({"_id": many[1]["_id"]}, dict(replacement)),
            DeleteOne({"_id": many[2]["_id"]}),
        ]

    def index(self) -> Any:
        """One of the indexes the random collections declare."""
        return self.rng.choice(INDEXES)
