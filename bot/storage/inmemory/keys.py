"""How a stored value becomes an index key, with mongomock's own comparison rules.

An index holds only *exact* values: scalars of a type whose Python equality and
ordering agree with how mongomock matches and sorts them (``None``, numbers,
booleans, strings, ObjectIds and naive datetimes). Anything else (arrays,
subdocuments, bytes, aware datetimes, NaN, a path that leads nowhere) is kept
aside as *loose*: always a candidate, never trusted for order.

An order key is ``(type rank, value)``, the rank being mongomock's BSON type
order, so keys of different types compare by rank alone and never raise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bson import ObjectId
from mongomock import filtering as _mongomock_filtering

_filtering: Any = _mongomock_filtering
NOTHING: Any = _filtering.NOTHING  # mongomock's missing value
iter_key_candidates: Any = _filtering.iter_key_candidates
#: mongomock's BSON comparison rank of each exact type (filtering._get_compare_type).
RANK: dict[type, int] = {
    type(None): 5,
    int: 10,
    float: 10,
    str: 15,
    ObjectId: 35,
    bool: 40,
    datetime: 45,
}
#: Above every entry (value, seq, key) of the same order key.
TOP = math.inf
Key = tuple[Any, ...]


class _Loose:
    """The marker of a value that no index can place."""

    def __repr__(self) -> str:
        return "LOOSE"


LOOSE: Any = _Loose()


def exact(value: Any) -> bool:
    """Whether ``value`` can be indexed (and looked up) as itself."""
    kind = type(value)
    if kind not in RANK:
        return False
    if kind is float:
        return not math.isnan(value)
    return kind is not datetime or value.tzinfo is None


def order_key(value: Any) -> Key:
    """The order key of an exact value (``None`` also stands for a missing field)."""
    return (5, 0) if value is None else (RANK[type(value)], value)


def type_floor(rank: int) -> Key:
    """Below every order key of that rank."""
    return (rank,)


def type_ceiling(rank: int) -> Key:
    """Above every order key of that rank."""
    return (rank + 0.5,)


def equal_keys(value: Any) -> list[Key]:
    """The order keys of every exact value that Python (hence mongomock) finds equal."""
    keys = [order_key(value)]
    if type(value) is bool:
        keys.append((10, int(value)))
    elif type(value) in (int, float) and value in (0, 1):
        keys.append((40, bool(value)))
    return keys


def lookup_values(value: Any) -> list[Any]:
    """What an equality on ``value`` may match in a hashed level of an index.

    mongomock also matches an ObjectId against its string inside an array.
    """
    return [value, str(value)] if type(value) is ObjectId else [value]


def level_values(field: str, doc: Any) -> Any:
    """The values ``doc`` is filed under in a hashed level: each array element on its own.

    One value is returned as itself (a frozenset per document and level would
    cost 200 bytes), several as a frozenset.
    """
    if "." not in field:  # the usual case, without mongomock's path walk
        value = doc.get(field)
        if exact(value):
            return value
    values: set[Any] = set()
    candidates = iter_key_candidates(field, doc)
    if not candidates:
        return frozenset((LOOSE,))
    for candidate in candidates:
        if candidate is NOTHING:
            values.add(None)
        elif isinstance(candidate, list | tuple):
            values.update(_elements(candidate))
        else:
            values.add(candidate if exact(candidate) else LOOSE)
    return next(iter(values)) if len(values) == 1 else frozenset(values)


def _elements(array: Iterable[Any]) -> set[Any]:
    found = {item if exact(item) else LOOSE for item in array}
    return found or {LOOSE}


def last_key(field: str, doc: Any) -> Key | Any:
    """The order key ``doc`` is sorted by in the ordered level, or LOOSE.

    Only a single exact value (or a missing field) sorts as itself; mongomock
    sorts an array by its first element but matches any of them.
    """
    if "." not in field:  # the usual case, without mongomock's path walk
        value = doc.get(field)
        if exact(value):
            return order_key(value)
    candidates = iter_key_candidates(field, doc)
    if len(candidates) != 1:
        return LOOSE
    value = candidates[0]
    if value is NOTHING:
        return (5, 0)
    return order_key(value) if exact(value) else LOOSE
