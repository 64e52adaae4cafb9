"""One index of an in-memory collection: hashed levels, then one ordered level.

An index on ``(k1, ..., kn)`` is a tree: each of ``k1 .. k(n-1)`` is a hashed
level (a dict from value to subtree; an array is filed under each element), and
below them a :class:`Bucket` keeps the documents ordered by ``kn``. So equality
on a prefix of the keys reaches a few subtrees, and a range or a sort on the
next key walks one bucket in order. Documents whose value cannot be placed
(see :mod:`.keys`) sit in each level's loose part and are always candidates.

Entries are ``(rank, value, seq, key)``: the order key, then the document's
insertion number (so ties keep mongomock's natural order), then its store key.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sortedcontainers import SortedList  # type: ignore[import-untyped]

from bot.storage.inmemory.keys import LOOSE, Key, last_key, level_values

Entry = tuple[Any, Any, int, Any]


@dataclass(frozen=True, slots=True)
class Interval:
    """A run of entries: ``minimum``/``maximum`` as for ``SortedList.irange`` (None: open)."""

    minimum: Key | None = None
    maximum: Key | None = None
    inclusive: tuple[bool, bool] = (True, True)


EVERYTHING = (Interval(),)


class Bucket:
    """Documents that agree on every key but the last, ordered by the last."""

    __slots__ = ("entries", "loose")

    def __init__(self) -> None:
        self.entries = SortedList()
        self.loose: dict[Any, int] = {}  # store key -> seq

    def __len__(self) -> int:
        return len(self.entries) + len(self.loose)

    def count(self, spans: Iterable[Interval]) -> int:
        """How many entries the spans cover, plus the loose ones."""
        total = len(self.loose)
        for span in spans:
            total += max(0, self._position(span, upper=True) - self._position(span, upper=False))
        return total

    def _position(self, span: Interval, *, upper: bool) -> int:
        bound = span.maximum if upper else span.minimum
        if bound is None:
            return len(self.entries) if upper else 0
        inclusive = span.inclusive[1] if upper else span.inclusive[0]
        if upper == inclusive:
            return int(self.entries.bisect_right(bound))
        return int(self.entries.bisect_left(bound))

    def walk(self, span: Interval, *, reverse: bool = False) -> Iterator[Entry]:
        """The entries of ``span`` in order."""
        return iter(
            self.entries.irange(span.minimum, span.maximum, span.inclusive, reverse=reverse)
        )


class Node:
    """A hashed level: value -> subtree (LOOSE -> the documents it cannot place)."""

    __slots__ = ("children", "count")

    def __init__(self) -> None:
        self.children: dict[Any, Node | Bucket] = {}
        self.count = 0  # documents under this node

    def __len__(self) -> int:
        return self.count


class Index:
    """The tree of one index's keys; ``filed`` remembers where each document went."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.roots = frozenset(name.split(".")[0] for name in fields)  # top-level fields
        self.root: Node | Bucket = self._new(0)
        self.filed: dict[Any, Any] = {}  # store key -> signature

    def _new(self, level: int) -> Node | Bucket:
        return Bucket() if level == len(self.fields) - 1 else Node()

    # maintenance -----------------------------------------------------------------------------

    def signature(self, key: Any, seq: int, doc: Any) -> Any:
        """Where ``doc`` belongs: its hashed values per level, then its entry (or LOOSE)."""
        last = last_key(self.fields[-1], doc)
        entry = LOOSE if last is LOOSE else (*last, seq, key)
        if len(self.fields) == 1:
            return entry
        levels = [level_values(field, doc) for field in self.fields[:-1]]
        return (*levels, entry)

    def file(self, key: Any, seq: int, doc: Any) -> None:
        """Put ``doc`` where it belongs now (nothing moves if its keys did not change)."""
        new = self.signature(key, seq, doc)
        old = self.filed.get(key)
        if old is not None:
            if old == new:
                return
            self.unfile(key)
        self.filed[key] = new
        self._add(self.root, 0, _levels(new, self.fields), key, seq)

    def unfile(self, key: Any) -> None:
        """Forget ``key``'s document."""
        old = self.filed.pop(key, None)
        if old is not None:
            self._remove(self.root, 0, _levels(old, self.fields), key)

    def build(self, documents: Iterable[tuple[Any, int, Any]]) -> None:
        """File many documents at once (sorting each bucket once)."""
        batches: dict[Bucket, list[Entry]] = {}
        for key, seq, doc in documents:
            signature = self.signature(key, seq, doc)
            self.filed[key] = signature
            self._add(self.root, 0, _levels(signature, self.fields), key, seq, batches)
        for bucket, entries in batches.items():
            bucket.entries.update(entries)

    def _add(
        self,
        node: Node | Bucket,
        level: int,
        levels: tuple[Any, ...],
        key: Any,
        seq: int,
        batches: dict[Bucket, list[Entry]] | None = None,
    ) -> None:
        if isinstance(node, Bucket):
            entry = levels[-1]
            if entry is LOOSE:
                node.loose[key] = seq
            elif batches is None:
                node.entries.add(entry)
            else:
                batches.setdefault(node, []).append(entry)
            return
        node.count += 1
        for value in _values(levels[level]):
            child = node.children.get(value)
            if child is None:
                child = node.children[value] = self._new(level + 1)
            self._add(child, level + 1, levels, key, seq, batches)

    def _remove(self, node: Node | Bucket, level: int, levels: tuple[Any, ...], key: Any) -> None:
        if isinstance(node, Bucket):
            entry = levels[-1]
            if entry is LOOSE:
                del node.loose[key]
            else:
                node.entries.remove(entry)
            return
        node.count -= 1
        for value in _values(levels[level]):
            child = node.children[value]
            self._remove(child, level + 1, levels, key)
            if not len(child):
                del node.children[value]

    # lookups ---------------------------------------------------------------------------------

    def reach(self, prefix: list[list[Any]]) -> list[Node | Bucket]:
        """The subtrees an equality on each of the first ``len(prefix)`` keys leads to."""
        nodes: list[Node | Bucket] = [self.root]
        for values in prefix:
            found: dict[int, Node | Bucket] = {}
            for node in nodes:
                assert isinstance(node, Node)
                for value in [*values, LOOSE]:
                    child = node.children.get(value)
                    if child is not None:
                        found[id(child)] = child
            nodes = list(found.values())
        return nodes


def subtree_keys(node: Node | Bucket) -> Iterator[Any]:
    """The store key of every document under ``node`` (repeats possible)."""
    if isinstance(node, Bucket):
        yield from (entry[3] for entry in node.entries)
        yield from node.loose
        return
    for child in node.children.values():
        yield from subtree_keys(child)


def bucket_keys(bucket: Bucket, spans: Iterable[Interval]) -> Iterator[Any]:
    """The store keys of the entries in ``spans``, and of the loose documents."""
    for span in spans:
        yield from (entry[3] for entry in bucket.walk(span))
    yield from bucket.loose


def merged_walk(buckets: list[Bucket], span: Interval, *, descending: bool) -> Iterator[Any]:
    """Store keys in mongomock's sort order over several buckets (none with loose documents).

    Ascending is (order key, seq). Descending is the order key reversed, but ties
    keep ascending seq, as Python's stable ``sorted(reverse=True)`` does.
    """
    walks = [bucket.walk(span, reverse=descending) for bucket in buckets]
    entries = walks[0] if len(walks) == 1 else heapq.merge(*walks, reverse=descending)
    if descending:
        entries = _ties_ascending(entries)
    if len(buckets) == 1:
        yield from (entry[3] for entry in entries)
        return
    seen: set[Any] = set()  # an array in a hashed level files a document in several buckets
    for entry in entries:
        if entry[3] not in seen:
            seen.add(entry[3])
            yield entry[3]


def _ties_ascending(entries: Iterator[Entry]) -> Iterator[Entry]:
    for _, tied in groupby(entries, key=lambda entry: entry[:2]):
        yield from reversed(list(tied))


def _values(level: Any) -> Iterable[Any]:
    return level if isinstance(level, frozenset) else (level,)


def _levels(signature: Any, fields: tuple[str, ...]) -> tuple[Any, ...]:
    return (signature,) if len(fields) == 1 else tuple(signature)
