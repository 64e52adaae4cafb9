"""Which documents a filter can possibly match, read off the indexes.

Only conditions every match must satisfy are used: a field's equality, ``$eq``
or ``$in`` of exact values, its ``$gt``/``$gte``/``$lt``/``$lte`` bounds, at the
top level or inside ``$and``. Everything else (``$or``, ``$not``, regexes,
subdocuments...) is left to mongomock's own matching, which runs on every
candidate afterwards; so the candidates only need to be a superset.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.storage.inmemory.index import (
    EVERYTHING,
    Bucket,
    Index,
    Interval,
    Node,
    bucket_keys,
    subtree_keys,
)
from bot.storage.inmemory.keys import (
    RANK,
    TOP,
    equal_keys,
    exact,
    lookup_values,
    order_key,
    type_ceiling,
    type_floor,
)

_LOWER = {"$gt": False, "$gte": True}
_UPPER = {"$lt": False, "$lte": True}


@dataclass(slots=True)
class Terms:
    """What a filter requires of one field."""

    equals: list[Any] | None = None  # one of these exact values
    low: tuple[Any, bool] | None = None  # (bound, inclusive)
    high: tuple[Any, bool] | None = None

    def spans(self) -> tuple[Interval, ...]:
        """The runs of an ordered level that can hold a match."""
        if self.equals is not None:
            keys = {k: None for value in self.equals for k in equal_keys(value)}
            return tuple(Interval(k, (*k, TOP)) for k in keys)
        if self.low is None and self.high is None:
            return EVERYTHING
        return (self._range(),)

    def _range(self) -> Interval:
        # Bounds only match values of their own type (mongomock's type bracketing).
        if self.low is not None:
            value, inclusive = self.low
            low = order_key(value) if inclusive else (*order_key(value), TOP)
        else:
            assert self.high is not None
            low, inclusive = type_floor(RANK[type(self.high[0])]), True
        if self.high is not None:
            value, high_inclusive = self.high
            high = (*order_key(value), TOP) if high_inclusive else order_key(value)
        else:
            assert self.low is not None
            high, high_inclusive = type_ceiling(RANK[type(self.low[0])]), False
        return Interval(low, high, (inclusive, high_inclusive))


def field_terms(filter: Any) -> dict[str, Terms]:
    """What ``filter`` requires of each field it constrains in a way an index can use."""
    terms: dict[str, Terms] = {}
    _collect(filter, terms)
    return terms


def _collect(filter: Any, terms: dict[str, Terms]) -> None:
    if not isinstance(filter, dict):
        return
    for name, condition in filter.items():
        if name == "$and" and isinstance(condition, list):
            for part in condition:
                _collect(part, terms)
        elif not name.startswith("$"):
            _collect_field(terms.setdefault(name, Terms()), condition)


def _collect_field(terms: Terms, condition: Any) -> None:
    if not isinstance(condition, dict):
        if exact(condition):
            _narrow(terms, lookup_values(condition))
        return
    if not condition or not all(str(op).startswith("$") for op in condition):
        return  # equality with a subdocument
    values = condition.get("$in")
    if isinstance(values, list | tuple) and all(exact(v) for v in values):
        _narrow(terms, list(values))
    if "$eq" in condition and exact(condition["$eq"]):
        _narrow(terms, [condition["$eq"]])
    for op, inclusive in _LOWER.items():
        if op in condition and exact(condition[op]) and terms.low is None:
            terms.low = (condition[op], inclusive)
    for op, inclusive in _UPPER.items():
        if op in condition and exact(condition[op]) and terms.high is None:
            terms.high = (condition[op], inclusive)


def _narrow(terms: Terms, values: list[Any]) -> None:
    # Every equality must hold; any one of them bounds the candidates, the shortest best.
    if terms.equals is None or len(values) < len(terms.equals):
        terms.equals = values


@dataclass(slots=True)
class Access:
    """A way through one index: equality on a prefix of its keys, then maybe a span."""

    index: Index
    prefix: int  # keys with an equality
    reached: list[Node | Bucket] = field(default_factory=list)
    spans: tuple[Interval, ...] = EVERYTHING
    estimate: int = 0

    def keys(self) -> Iterator[Any]:
        """Store keys of every candidate (repeats possible)."""
        for place in self.reached:
            if isinstance(place, Bucket):
                yield from bucket_keys(place, self.spans)
            else:
                yield from subtree_keys(place)

    @property
    def walkable(self) -> bool:
        """Whether the candidates come out in the order of the last key."""
        return len(self.spans) == 1 and all(
            isinstance(place, Bucket) and not place.loose for place in self.reached
        )


def access(index: Index, terms: dict[str, Terms], *, for_sort: bool = False) -> Access | None:
    """The best way through ``index`` for ``terms``; None when it does not narrow anything.

    With ``for_sort``, only an access whose candidates are ordered by the last key
    (an equality on all the other keys) is returned.
    """
    fields = index.fields
    prefix = 0
    while prefix < len(fields) and terms.get(fields[prefix], Terms()).equals is not None:
        prefix += 1
    last = len(fields) - 1
    if for_sort and prefix != last:
        return None
    lookups = [terms[name].equals or [] for name in fields[: min(prefix, last)]]
    found = Access(index, prefix, index.reach(lookups))
    if prefix >= last:
        found.spans = terms.get(fields[last], Terms()).spans()
    if prefix == 0 and found.spans is EVERYTHING and not for_sort:
        return None
    found.estimate = sum(
        place.count(found.spans) if isinstance(place, Bucket) else len(place)
        for place in found.reached
    )
    return found
