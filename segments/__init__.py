"""User segments: names an admin types -> a MongoDB filter over the users collection.

Pure: no database here. :class:`SegmentCatalog` knows the built-ins and the
custom segments of a segments file, validates names and compiles them with a
``now`` passed in.

May import: :mod:`bot.delivery.errors` only; no database driver.
"""

from __future__ import annotations

from segments.catalog import SegmentCatalog, load_catalog
from segments.compiler import index_fields
from segments.model import (
    CustomSegment,
    FieldMap,
    SegmentError,
    SegmentFileError,
    SegmentKind,
    SegmentParameterError,
    SegmentRef,
    UnknownSegmentError,
)
from segments.validation import ALLOWED_OPERATORS

__all__ = [
    "ALLOWED_OPERATORS",
    "CustomSegment",
    "FieldMap",
    "SegmentCatalog",
    "SegmentError",
    "SegmentFileError",
    "SegmentKind",
    "SegmentParameterError",
    "SegmentRef",
    "UnknownSegmentError",
    "index_fields",
    "load_catalog",
]
