"""Narrow patches to mongomock 4.3, applied once when the package is imported.

Everywhere:
- pymongo >= 4.11 passes ``sort`` to the bulk builder, which mongomock does not
  accept, so ``bulk_write([UpdateOne(...)])`` fails; the argument is dropped
  (it only matters for ``updateOne`` with a sort, which we never send).
- documents keep their own copy of their strings, as a real server does, so
  a caller's objects are not pinned by the database (this matters to the
  memory benchmark, which counts what our code keeps alive).
- ``$strLenCP`` (a string's length in code points), which mongomock names but
  does not implement, is computed as MongoDB does: an error for anything but a
  string.

On collections whose store is indexed (see :mod:`.store`), the index path:
- matching reads candidates off an index, then applies mongomock's whole
  filter to them in natural order (``_iter_documents``: find, count, update,
  delete, the unique-index check);
- a sort on an index's next key walks it, applying the filter as it goes, and a
  cursor's ``limit`` stops the walk (``_get_dataset``, ``Cursor``);
- ``find_one`` asks for one document, a leading ``$match`` of ``aggregate``
  narrows first, and an update in place re-files the document.
Sorting, projection and matching stay mongomock's, so results are the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import mongomock.collection
from mongomock import OperationFailure, helpers
from mongomock import aggregate as mongomock_aggregate

from bot.storage.inmemory.store import IndexedCollectionStore

_process_pipeline: Any = mongomock_aggregate.process_pipeline
_aware: Any = helpers.make_datetime_timezone_aware_in_document
_hashdict: Any = helpers.hashdict
_Builder: Any = mongomock.collection.BulkOperationBuilder
_Collection: Any = mongomock.collection.Collection
_Cursor: Any = mongomock.collection.Cursor
_original = {
    name: getattr(_Collection, name)
    for name in (
        "_insert",
        "_iter_documents",
        "_get_dataset",
        "_apply_update_document",
        "_apply_update_pipeline",
        "find_one",
        "aggregate",
    )
}
_original_add_update = _Builder.add_update
_original_add_replace = _Builder.add_replace
_original_compute_results = _Cursor._compute_results
_Parser: Any = mongomock_aggregate._Parser
_original_string_operator = _Parser._handle_string_operator
_original_next = _Cursor.__next__


def _add_update(self: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
    return _original_add_update(self, *args, **kwargs)


def _add_replace(self: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
    return _original_add_replace(self, *args, **kwargs)


def _string_operator(self: Any, operator: str, values: Any) -> Any:
    if operator != "$strLenCP":
        return _original_string_operator(self, operator, values)
    value = self.parse(values)
    if not isinstance(value, str):
        raise OperationFailure(f"$strLenCP requires a string argument, found: {type(value)}")
    return len(value)


def _own(value: Any) -> Any:
    # A copy of a string, so the database holds its own text (deepcopy shares strings):
    # a real server keeps its own bytes and never pins the caller's objects.
    return "".join([value[:1], value[1:]]) if type(value) is str and len(value) > 1 else value


def _insert(self: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(data, dict):
        data.update({key: _own(value) for key, value in data.items()})
    return _original["_insert"](self, data, *args, **kwargs)


def _indexed(collection: Any) -> IndexedCollectionStore | None:
    store = collection._store
    return store if isinstance(store, IndexedCollectionStore) else None


def _iter_documents(self: Any, filter: Any) -> Any:
    store = _indexed(self)
    if store is None:
        return _original["_iter_documents"](self, filter)
    return store.matching(filter)


def _get_dataset(
    self: Any, spec: Any, sort: Any, fields: Any, as_class: Any, take: int | None = None
) -> Iterable[Any]:
    store = _indexed(self)
    walked = None if store is None else store.sorted_matching(spec, sort, take)
    if walked is None:
        return _original["_get_dataset"](self, spec, sort, fields, as_class)  # type: ignore[no-any-return]
    return (self._copy_only_fields(doc, fields, as_class) for doc in walked)


def _compute_results(self: Any, with_limit_and_skip: bool = False) -> Any:
    if not (with_limit_and_skip and self._limit and _indexed(self.collection)):
        return _original_compute_results(self, with_limit_and_skip)
    # mongomock computes every result and then slices; stop at skip + limit instead.
    take = self._skip + abs(self._limit)
    cached = self.__dict__.get("_first_results")
    if cached is None or cached[0] is not self._factory or cached[1] < take:
        found = _get_dataset(self.collection, self._spec, self._sort, self._projection, dict, take)
        results = list(itertools.islice(found, take))
        if self.collection.codec_options.tz_aware:
            results = [_aware(x) for x in results]
        cached = self.__dict__["_first_results"] = (self._factory, take, results)
    return cached[2][self._skip : take]


def _cursor_next(self: Any) -> Any:
    if not _indexed(self.collection):
        return _original_next(self)
    # mongomock slices all its results anew for each document: keep the slice.
    state = (self._factory, self._skip, self._limit)
    page = self.__dict__.get("_page")
    if page is None or page[0] != state:
        page = self.__dict__["_page"] = (state, self._compute_results(with_limit_and_skip=True))
    if self._emitted >= len(page[1]):
        raise StopIteration
    self._emitted += 1
    return page[1][self._emitted - 1]


def _find_one(self: Any, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
    # find's positional arguments are (projection, skip, limit): a third is a limit.
    if not _indexed(self) or len(args) > 2 or "limit" in kwargs:
        return _original["find_one"](self, filter, *args, **kwargs)
    return _original["find_one"](self, filter, *args, limit=1, **kwargs)


def _aggregate(self: Any, pipeline: Any, session: Any = None, **kwargs: Any) -> Any:
    first = pipeline[0] if pipeline and isinstance(pipeline, list) else None
    match = first.get("$match") if isinstance(first, dict) and len(first) == 1 else None
    if not _indexed(self) or not isinstance(match, dict):
        return _original["aggregate"](self, pipeline, session, **kwargs)
    # The narrowed documents go through the whole pipeline, its $match included.
    narrowed = list(self.find(match))
    return _process_pipeline(narrowed, self.database, pipeline, session)


def _store_key(doc: Any) -> Any:
    key = doc.get("_id")
    return _hashdict(key) if isinstance(key, dict) else key


def _apply_update_document(
    self: Any, existing_document: Any, spec: Any, document: Any, was_insert: bool
) -> Any:
    store, key = _indexed(self), _store_key(existing_document)
    try:
        return _original["_apply_update_document"](
            self, existing_document, spec, document, was_insert
        )
    finally:  # also after a failed update: mongomock leaves its partial changes
        if store is not None:
            store.refresh(key, existing_document, _written(document))


def _apply_update_pipeline(self: Any, existing_document: Any, *args: Any, **kwargs: Any) -> Any:
    store, key = _indexed(self), _store_key(existing_document)
    try:
        return _original["_apply_update_pipeline"](self, existing_document, *args, **kwargs)
    finally:
        if store is not None:
            store.refresh(key, existing_document)


def _written(update: Any) -> set[str] | None:
    """The top-level fields an update document writes; None: any (a replacement)."""
    names: set[str] = set()
    if not isinstance(update, dict):
        return None
    for op, fields in update.items():
        if not op.startswith("$") or not isinstance(fields, dict):
            return None
        names.update(path.split(".")[0] for path in fields)
        if op == "$rename":
            names.update(str(path).split(".")[0] for path in fields.values())
    return names


def apply() -> None:
    """Install the patches (idempotent: the originals are captured at import)."""
    _Builder.add_update = _add_update
    _Builder.add_replace = _add_replace
    _Parser._handle_string_operator = _string_operator
    _Collection._insert = _insert
    _Collection._iter_documents = _iter_documents
    _Collection._get_dataset = _get_dataset
    _Collection._apply_update_document = _apply_update_document
    _Collection._apply_update_pipeline = _apply_update_pipeline
    _Collection.find_one = _find_one
    _Collection.aggregate = _aggregate
    _Cursor._compute_results = _compute_results
    _Cursor.__next__ = _Cursor.next = _cursor_next
