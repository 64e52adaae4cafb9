"""mongomock's storage with indexes: every write files the document, queries read them.

:class:`IndexedCollectionStore` replaces mongomock's ``CollectionStore`` in the
databases :func:`~bot.storage.inmemory.in_memory_database` makes. It keeps an
:class:`~bot.storage.inmemory.index.Index` on ``_id`` and on the keys of each
index declared with ``create_index`` (so nothing is indexed that a real server
would not index), up to date through the only three ways mongomock changes a
collection: setting a document, deleting one, and updating one in place (the
patches call :meth:`IndexedCollectionStore.refresh` after that).

It answers two questions, and counts the documents its answers make mongomock
examine (:class:`QueryStats`), so tests can see that a query's cost does not
grow with the collection.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import mongomock.filtering
import mongomock.store

from bot.storage.inmemory.index import Bucket, Index, merged_walk
from bot.storage.inmemory.planner import Access, access, field_terms

filter_applies: Any = mongomock.filtering.filter_applies
_CollectionStore: Any = mongomock.store.CollectionStore
_DatabaseStore: Any = mongomock.store.DatabaseStore
_ServerStore: Any = mongomock.store.ServerStore
ID = ("_id",)
#: Past this share of the collection (and this many), candidates off an index beat no scan.
SCAN_SHARE = 0.5
FEW = 32


@dataclass(slots=True)
class QueryStats:
    """What the queries of one collection cost so far."""

    examined: int = 0  # documents a filter was applied to
    scans: int = 0  # queries that examined the whole collection


class IndexedCollectionStore(_CollectionStore):  # type: ignore[misc]
    """A collection's documents, their insertion order, and their indexes."""

    def __init__(self, name: str) -> None:
        self.seq: dict[Any, int] = {}
        self._numbers = itertools.count()
        self.structures: dict[tuple[str, ...], Index] = {ID: Index(ID)}
        self.stats = QueryStats()
        self._definitions: dict[str, Any] = {}
        super().__init__(name)

    # mongomock's index definitions (it also assigns the attribute directly) --------------------

    @property
    def indexes(self) -> dict[str, Any]:
        """mongomock's index definitions: name -> {"key": [(field, direction)], ...}."""
        return self._definitions

    @indexes.setter
    def indexes(self, definitions: dict[str, Any]) -> None:
        self._definitions = definitions
        self._sync_structures()

    def create_index(self, index_name: str, index_dict: dict[str, Any]) -> None:
        """Declare an index (mongomock's signature) and build it."""
        super().create_index(index_name, index_dict)
        self._sync_structures()

    def drop_index(self, index_name: str) -> None:
        """Forget an index."""
        super().drop_index(index_name)
        self._sync_structures()

    def _sync_structures(self) -> None:
        wanted = {ID, *(fields for d in self._definitions.values() if (fields := _fields(d)))}
        for fields in list(self.structures):
            if fields not in wanted:
                del self.structures[fields]
        for fields in wanted - set(self.structures):
            index = self.structures[fields] = Index(fields)
            index.build((key, self.seq[key], doc) for key, doc in self._documents.items())

    # the three ways documents change -----------------------------------------------------------

    def __setitem__(self, key: Any, doc: Any) -> None:
        super().__setitem__(key, doc)
        seq = self.seq.get(key)
        if seq is None:
            seq = self.seq[key] = next(self._numbers)
        for index in self.structures.values():
            index.file(key, seq, doc)

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        del self.seq[key]
        for index in self.structures.values():
            index.unfile(key)

    def refresh(self, key: Any, doc: Any, written: set[str] | None = None) -> None:
        """Re-file a document changed in place (if it is still the stored one).

        ``written``: the top-level fields the change wrote (None: any); only the
        indexes on them can have moved.
        """
        if self._documents.get(key) is not doc:
            return
        for index in self.structures.values():
            if written is None or not written.isdisjoint(index.roots):
                index.file(key, self.seq[key], doc)

    def drop(self) -> None:
        """Empty the collection and forget its indexes."""
        super().drop()
        self.seq.clear()
        self.structures = {ID: Index(ID)}

    # queries ---------------------------------------------------------------------------------

    def matching(self, filter: Any) -> Iterator[Any]:
        """The stored documents matching ``filter``, in natural order (mongomock's scan)."""
        if self.is_empty:
            filter_applies(filter, {})  # mongomock validates the filter even then
        accessed = self._cheapest(field_terms(filter))
        if accessed is None:
            self.stats.scans += 1
            documents: list[Any] = list(self._documents.values())
        else:
            keys = sorted(set(accessed.keys()), key=self.seq.__getitem__)
            documents = [self._documents[key] for key in keys]
        return self._examine(filter, documents)

    def sorted_matching(self, filter: Any, sort: Any, take: int | None) -> Iterable[Any] | None:
        """Matches in ``sort`` order walked off an index (the first ``take``); None: can't."""
        order = _single_sort(sort)
        if order is None or self.is_empty:  # (is_empty also expires TTL documents)
            return None
        terms = field_terms(filter)
        walks = [access(i, terms, for_sort=True) for i in self.structures.values()]
        walk = min(
            (w for w in walks if w is not None and w.index.fields[-1] == order[0] and w.walkable),
            key=lambda w: w.estimate,
            default=None,
        )
        if walk is None:
            return None
        other = self._cheapest(terms)
        budget = len(self._documents) if other is None else other.estimate
        buckets = [place for place in walk.reached if isinstance(place, Bucket)]
        keys = merged_walk(buckets, walk.spans[0], descending=order[1] < 0)
        if take is None:
            return self._examine(filter, self._fetch(keys)) if walk.estimate <= budget else None
        return self._first_matches(filter, keys, take, budget)

    def _first_matches(
        self, filter: Any, keys: Iterator[Any], take: int, budget: int
    ) -> list[Any] | None:
        # Walk until ``take`` matches; give up (None) once the walk costs more than the
        # best unordered plan would, so a selective filter never walks the collection.
        found: list[Any] = []
        for examined, doc in enumerate(self._fetch(keys), start=1):
            self.stats.examined += 1
            if filter_applies(filter, doc):
                found.append(doc)
                if len(found) >= take:
                    break
            elif examined > budget:
                return None
        return found

    def _cheapest(self, terms: dict[str, Any]) -> Access | _ById | None:
        if not terms:
            return None
        ids = terms.get("_id")
        if ids is not None and ids.equals is not None:  # the store is a hash on _id
            return _ById([value for value in ids.equals if value in self._documents])
        options = [access(index, terms) for index in self.structures.values()]
        best = min((a for a in options if a is not None), key=lambda a: a.estimate, default=None)
        if best is None or best.estimate > max(FEW, SCAN_SHARE * len(self._documents)):
            return None
        return best

    def _fetch(self, keys: Iterator[Any]) -> Iterator[Any]:
        return (self._documents[key] for key in keys)

    def _examine(self, filter: Any, documents: Iterable[Any]) -> Iterator[Any]:
        stats = self.stats
        for doc in documents:
            stats.examined += 1
            if filter_applies(filter, doc):
                yield doc


@dataclass(slots=True)
class _ById:
    """Candidates looked up by ``_id`` in the store itself."""

    found: list[Any]

    @property
    def estimate(self) -> int:
        """How many candidates."""
        return len(self.found)

    def keys(self) -> Iterator[Any]:
        """Their store keys."""
        return iter(self.found)


class IndexedDatabaseStore(_DatabaseStore):  # type: ignore[misc]
    """A database whose collections keep indexes."""

    def __getitem__(self, name: str) -> IndexedCollectionStore:
        collections: dict[str, IndexedCollectionStore] = self._collections
        if name not in collections:
            collections[name] = IndexedCollectionStore(name)
        return collections[name]


class IndexedServerStore(_ServerStore):  # type: ignore[misc]
    """A server whose databases keep indexes."""

    def __getitem__(self, name: str) -> IndexedDatabaseStore:
        databases: dict[str, IndexedDatabaseStore] = self._databases
        if name not in databases:
            databases[name] = IndexedDatabaseStore()
        return databases[name]


def _fields(definition: dict[str, Any]) -> tuple[str, ...]:
    # Text, hashed and geo indexes order nothing we can use.
    key = definition.get("key") or []
    if not all(direction in (1, -1) for _, direction in key):
        return ()
    return tuple(name for name, _ in key)


def _single_sort(sort: Any) -> tuple[str, int] | None:
    if not sort:
        return None
    items = list(sort.items() if isinstance(sort, dict) else sort)
    if len(items) != 1:
        return None
    name, direction = items[0]
    if not isinstance(name, str) or name.startswith("$") or direction not in (1, -1):
        return None
    return name, direction
