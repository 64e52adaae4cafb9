"""Reads a segments file (TOML): the field mapping and the custom segments, all checked.

The file::

    [fields]                 # optional: logical field = the collection's field
    last_seen = "last_active"

    [segments.vip]
    description = "Paying users active this month"
    filter = { plan = { "$in" = ["pro", "team"] }, last_seen = { "$gte" = "now-30d" } }

Every problem in the file is reported at once, in one :class:`SegmentFileError`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any, Final

from bot.delivery.errors import quote
from segments.compiler import field_collisions, is_builtin_name
from segments.model import (
    CustomSegment,
    FieldMap,
    SegmentFileError,
    field_map_problems,
)
from segments.validation import filter_problems

NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
_TABLES: Final = ("fields", "segments")
_SEGMENT_KEYS: Final = ("description", "filter")


def read_segment_file(path: Path) -> tuple[FieldMap, dict[str, CustomSegment]]:
    """The field mapping and the custom segments (in file order) of the file at ``path``.

    Raises:
        SegmentFileError: If the file is missing, unreadable, not TOML, or
            has any problem; the message lists them all.
    """
    data = _read_toml(path)
    problems = [
        f"unknown table {quote(key)}; a segments file has [fields] and [segments.<name>]"
        for key in data
        if key not in _TABLES
    ]
    fields = _fields(data.get("fields", {}), problems)
    segments = _segments(data.get("segments", {}), fields, problems)
    if problems:
        raise SegmentFileError(str(path), problems)
    return fields, segments


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        problem = "file not found"
    except OSError as error:
        problem = f"cannot read the file: {error.strerror or error}"
    except UnicodeDecodeError:
        problem = "not UTF-8 text"
    except tomllib.TOMLDecodeError as error:
        problem = f"not valid TOML: {error}"
    raise SegmentFileError(str(path), [problem])


def _fields(table: Any, problems: list[str]) -> FieldMap:
    if not isinstance(table, dict):
        problems.append("[fields] must be a table of logical field = field name")
        return FieldMap()
    logical = FieldMap.logical_names()
    mapping: dict[str, str] = {}
    for key, value in table.items():
        if key not in logical:
            problems.append(f"[fields]: unknown field {quote(key)}{_suggest(key, logical)}")
        elif not isinstance(value, str):
            problems.append(f"[fields]: {key} must be a field name in quotes, got {value!r}")
        else:
            mapping[key] = value
    found = field_map_problems({**FieldMap().as_dict(), **mapping})
    problems.extend(f"[fields]: {problem}" for problem in found)
    return FieldMap() if found else FieldMap(**mapping)


def _suggest(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {quote(close[0])}?" if close else ""
    return f"{hint} Known fields: {', '.join(known)}"


def _segments(table: Any, fields: FieldMap, problems: list[str]) -> dict[str, CustomSegment]:
    if not isinstance(table, dict):
        problems.append("segments must be tables: [segments.<name>]")
        return {}
    segments: dict[str, CustomSegment] = {}
    for name, body in table.items():
        found = [*_name_problems(name), *_body_problems(body)]
        if not found:
            found.extend(field_collisions(body["filter"], fields.as_dict()))
        problems.extend(f"segment {quote(name)}: {problem}" for problem in found)
        if not found:
            description = body.get("description", "")
            segments[name] = CustomSegment(name, description, body["filter"])
    return segments


def _name_problems(name: str) -> list[str]:
    if NAME.fullmatch(name) is None:
        return ["a name is a lowercase letter, then up to 31 lowercase letters, digits or _"]
    if is_builtin_name(name):
        return [f"{quote(name)} is the name of a built-in segment"]
    return []


def _body_problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["must be a table with a filter, like [segments.vip] filter = { plan = 1 }"]
    problems = [
        f"unknown key {quote(key)} (a segment has description and filter)"
        for key in body
        if key not in _SEGMENT_KEYS
    ]
    description = body.get("description", "")
    if not isinstance(description, str):
        problems.append(f"description must be text in quotes, got {description!r}")
    query = body.get("filter")
    if query is None:
        problems.append("has no filter")
    elif not isinstance(query, dict):
        problems.append(f"filter must be a table, like filter = {{ plan = 1 }}, got {query!r}")
    elif not query:
        problems.append('filter is empty; the segment of everyone is the built-in "all"')
    else:
        problems.extend(filter_problems(query))
    return problems
