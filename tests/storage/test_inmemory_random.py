"""Random documents, writes and queries: the indexed database answers as plain mongomock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.storage.twins import Chaos, Twins

SEEDS = range(40)


def queries(chaos: Chaos) -> list[Any]:
    """Calls that read: find with sort/skip/limit/projection, count, find_one, aggregate."""
    f, sort = chaos.filter(), chaos.sort()
    skip, limit = chaos.rng.choice([0, 0, 1]), chaos.rng.choice([0, 1, 2, 5])
    projection = chaos.rng.choice([None, {"a": 1}, {"_id": 0, "b": 1}])
    group = [{"$match": f}, {"$group": {"_id": "$b", "n": {"$sum": 1}}}]

    def find(c: Any) -> list[Any]:
        cursor = c.find(f, projection)
        if sort:
            cursor = cursor.sort(sort)
        return list(cursor.skip(skip).limit(limit))

    return [
        find,
        lambda c: c.count_documents(f),
        lambda c: c.find_one(f, projection, sort=sort),
        lambda c: list(c.aggregate(group)),
        lambda c: sorted(map(repr, c.distinct("a", f))),
    ]


def sorted_find(f: Any, key: str, direction: int, limit: int) -> Callable[[Any], list[Any]]:
    """``find(f).sort(key, direction).limit(limit)``, as a call to make on both."""
    return lambda c: list(c.find(f).sort(key, direction).limit(limit))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_writes_and_queries_answer_as_plain_mongomock(seed: int) -> None:
    chaos, twins = Chaos(seed), Twins()
    indexes = [chaos.index() for _ in range(2)]
    early = chaos.rng.random() < 0.5  # indexes built on an empty or a filled collection
    for index in indexes if early else []:
        twins.create_index(index)
    twins.insert([chaos.document(chaos.doc_id()) for _ in range(30)], ordered=False)
    for index in [] if early else indexes:
        twins.create_index(index)
    for _ in range(25):
        twins.same(chaos.write())
        for query in queries(chaos):
            twins.same(query)
    twins.assert_same_contents()


@pytest.mark.parametrize("seed", range(12))
def test_queries_on_the_indexed_fields_alone_answer_as_plain_mongomock(seed: int) -> None:
    chaos, twins = Chaos(1000 + seed), Twins()
    for index in ["a", [("b", 1), ("c", 1)], "d.e"]:
        twins.create_index(index)
    twins.insert([chaos.document(n) for n in range(80)])
    for _ in range(60):
        for query in queries(chaos):
            twins.same(query)


@pytest.mark.parametrize("seed", range(25))
def test_sorted_walks_over_scalar_values_answer_as_plain_mongomock(seed: int) -> None:
    # No arrays nor subdocuments: every bucket is ordered, so sorts walk the indexes.
    chaos, twins = Chaos(2000 + seed, odd=0), Twins()
    for index in ["a", [("b", 1), ("c", 1)], [("b", 1), ("d.e", -1)]]:
        twins.create_index(index)
    twins.insert([chaos.document(n) for n in range(60)])
    for _ in range(40):
        b, sort = chaos.value(), chaos.rng.choice(["a", "c", "d.e", "_id"])
        f = {
            **chaos.rng.choice([{}, {"b": b}, {"b": {"$in": [b, chaos.value()]}}]),
            **chaos.filter(),
        }
        limit, direction = chaos.rng.choice([0, 1, 3, 10]), chaos.rng.choice([1, -1])
        twins.same(sorted_find(f, sort, direction, limit))
        twins.same(chaos.write())
    twins.assert_same_contents()
