"""Checks a custom segment's filter: only the operators we allow, used the way MongoDB expects.

Allowed: comparison (``$eq $ne $gt $gte $lt $lte``), sets (``$in $nin $all``),
logic (``$and $or $nor $not``), ``$exists``, ``$size``, ``$elemMatch`` and
anchored ``$regex`` with ``$options``. Everything else (``$where``,
``$function``, ``$expr``, ``$text``, ``$mod``, misspellings...) is refused, so
a segments file can neither run code on the server nor force a slow scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, Final

from bot.delivery.errors import quote
from segments.model import relative_problem

MAX_DEPTH: Final = 10
COMPARISON: Final = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
SETS: Final = ("$in", "$nin", "$all")
LOGICAL: Final = ("$and", "$or", "$nor")
ALLOWED_OPERATORS: Final = (
    *COMPARISON,
    *SETS,
    *LOGICAL,
    "$not",
    "$exists",
    "$size",
    "$elemMatch",
    "$regex",
    "$options",
)
_REGEX_OPTIONS: Final = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def filter_problems(query: dict[str, Any]) -> list[str]:
    """What is wrong with ``query``, one line per problem; empty if it is fine.

    Each line starts with where the problem is (``plan.$in``) when it is not
    at the top of the filter.
    """
    checker = _Checker()
    checker.query(query, "", 1)
    return checker.problems


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _misplaced(operator: str) -> str:
    if operator not in ALLOWED_OPERATORS:
        allowed = " ".join(ALLOWED_OPERATORS)
        return f"operator {quote(operator)} is not allowed (allowed: {allowed})"
    if operator in LOGICAL:
        return f"operator {quote(operator)} combines conditions; it cannot apply to a field"
    return (
        f"operator {quote(operator)} must apply to a field,"
        f' like last_seen = {{ "{operator}" = ... }}'
    )


class _Checker:
    """Walks a filter and collects problems; ``depth`` counts nested tables and lists."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}" if where else problem)

    def too_deep(self, where: str, depth: int) -> bool:
        if depth > MAX_DEPTH:
            self.add(where, f"the filter is nested deeper than {MAX_DEPTH} levels")
        return depth > MAX_DEPTH

    def query(self, doc: dict[str, Any], where: str, depth: int) -> None:
        """A table of conditions: field names and ``$and``/``$or``/``$nor``."""
        if self.too_deep(where, depth):
            return
        for key, value in doc.items():
            at = _join(where, key)
            if key in LOGICAL:
                self.logical(key, value, at, depth)
            elif key.startswith("$"):
                self.add(where, _misplaced(key))
            elif not key:
                self.add(where, "a field name cannot be empty")
            else:
                self.condition(value, at, depth + 1)

    def logical(self, operator: str, value: Any, at: str, depth: int) -> None:
        if not (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
            self.add(at, f"{quote(operator)} needs a non-empty list of tables")
            return
        for index, item in enumerate(value):
            self.query(item, f"{at}[{index}]", depth + 1)

    def condition(self, value: Any, at: str, depth: int) -> None:
        """What a field must match: a table of operators, or a value to equal."""
        if isinstance(value, dict) and any(key.startswith("$") for key in value):
            self.operators(value, at, depth)
        else:
            self.literal(value, at, depth)

    def operators(self, ops: dict[str, Any], at: str, depth: int) -> None:
        if self.too_deep(at, depth):
            return
        if not all(key.startswith("$") for key in ops):
            self.add(at, "a table cannot mix operators and field names")
        for key, value in ops.items():
            check = _OPERANDS.get(key)
            if check is None:
                if key.startswith("$"):
                    self.add(at, _misplaced(key))
                continue
            check(self, value, _join(at, key), depth + 1)
        if "$options" in ops and "$regex" not in ops:
            self.add(at, '"$options" is only allowed next to "$regex"')

    def literal(self, value: Any, at: str, depth: int) -> None:
        """A value to compare with: no operators inside, dates absolute or relative."""
        if self.too_deep(at, depth):
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if key.startswith("$"):
                    self.add(at, _misplaced(key))
                else:
                    self.literal(item, _join(at, key), depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.literal(item, f"{at}[{index}]", depth + 1)
        else:
            problem = _scalar_problem(value)
            if problem is not None:
                self.add(at, problem)

    def list_of_values(self, value: Any, at: str, depth: int) -> None:
        if not isinstance(value, list):
            self.add(at, f"needs a list of values, like [1, 2], got {_shown(value)}")
            return
        self.literal(value, at, depth)

    def exists(self, value: Any, at: str, depth: int) -> None:
        if not isinstance(value, bool):
            self.add(at, f"needs true or false, got {_shown(value)}")

    def size(self, value: Any, at: str, depth: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.add(at, f"needs a whole number of items, 0 or more, got {_shown(value)}")

    def elem_match(self, value: Any, at: str, depth: int) -> None:
        if not isinstance(value, dict) or not value:
            self.add(at, "needs a non-empty table of conditions")
        elif all(key.startswith("$") and key not in LOGICAL for key in value):
            self.operators(value, at, depth)  # elements are values: { "$gte" = 80 }
        else:
            self.query(value, at, depth)  # elements are documents: { score = 80 }

    def negation(self, value: Any, at: str, depth: int) -> None:
        if not isinstance(value, dict) or not value:
            self.add(at, 'needs a table of operators, like { "$in" = [1, 2] }')
        elif not all(key.startswith("$") for key in value):
            self.add(at, 'needs operators, not field names, like { "$regex" = "^a" }')
        else:
            self.operators(value, at, depth)

    def regex(self, value: Any, at: str, depth: int) -> None:
        if not isinstance(value, str):
            self.add(at, f"needs a pattern string, got {_shown(value)}")
        elif (problem := anchoring_problem(value)) is not None:
            self.add(at, f"{quote(value)} {problem}")
        else:
            try:
                re.compile(value)
            except re.error as error:
                self.add(at, f"{quote(value)} is not a valid regular expression: {error}")

    def options(self, value: Any, at: str, depth: int) -> None:
        if not isinstance(value, str) or not set(value) <= _REGEX_OPTIONS.keys():
            self.add(at, f"{_shown(value)} is not allowed; use the letters i, m, s and x")


_OPERANDS: Final[dict[str, Callable[[_Checker, Any, str, int], None]]] = {
    **dict.fromkeys(COMPARISON, _Checker.literal),
    **dict.fromkeys(SETS, _Checker.list_of_values),
    "$exists": _Checker.exists,
    "$size": _Checker.size,
    "$elemMatch": _Checker.elem_match,
    "$not": _Checker.negation,
    "$regex": _Checker.regex,
    "$options": _Checker.options,
}


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return relative_problem(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return f"{value.isoformat()} has no timezone; add Z or an offset like +02:00"
        return None
    if isinstance(value, date | time):
        shown = value.isoformat()
        return f"{shown} is not a full date and time; write it like 2025-01-31T00:00:00Z"
    return None


def _shown(value: Any) -> str:
    return quote(value) if isinstance(value, str) else quote(repr(value))


def anchoring_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not an anchored prefix search that an index can serve, or None.

    Anchored means: ``^`` (or ``\\A``) first, no ``|`` outside parentheses (``^a|b``
    matches ``b`` anywhere), and no ``.*``/``.+`` right after the anchor (``^.*x``
    matches anywhere): each forces MongoDB to scan every document.
    """
    if not pattern.startswith(("^", "\\A")):
        return "must be anchored: start it with ^ so an index serves it"
    body = pattern[1:] if pattern.startswith("^") else pattern[2:]
    if _top_level_alternation(body):
        return "has | outside parentheses, so it matches anywhere: write ^(a|b)"
    lead = body.lstrip("(").removeprefix("?:")
    if lead[:1] == "." and lead[1:2] in ("*", "+", "?", "{"):
        return "starts with a wildcard after ^, so it matches anywhere: start with fixed text"
    return None


def _top_level_alternation(body: str) -> bool:
    depth, in_class, escaped = 0, False, False
    for char in body:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "|" and depth == 0:
            return True
    return False
