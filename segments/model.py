"""What a segment is: field names, references to segments, custom segments, and our errors.

A segment name typed by an admin resolves to a :class:`SegmentRef` (a built-in
with its parameter, or a custom segment); the compiler turns refs into a
MongoDB filter written with the names of a :class:`FieldMap`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final

from bot.delivery.errors import BroadcastError, quote

MIN_DAYS, MAX_DAYS = 1, 3650
# Relative dates in custom filters: "now", "now-30d", "now+2h".
_RELATIVE = re.compile(r"now(?:([+-])([0-9]{1,9})([smhdw]))?")
# Anything an author probably meant as a relative date ("now - 30d", "NOW-1d").
_RELATIVE_LIKE = re.compile(r"\s*now\s*([+-].*)?", re.IGNORECASE | re.DOTALL)
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_RELATIVE = timedelta(days=36525)  # a hundred years either way
RELATIVE_FORMS = "now, or now-N / now+N with a unit s, m, h, d or w (now-30d, now+2h)"


class SegmentError(BroadcastError, ValueError):
    """A segment name, parameter or field mapping is not valid; the message quotes it."""


class UnknownSegmentError(SegmentError, LookupError):
    """No segment has this name.

    Attributes:
        name: The name as given.
        suggestion: The closest known name, if one is close enough.
        known: The known names, parametrized built-ins written as forms
            (``active_<N>d``).
    """

    def __init__(self, name: str, suggestion: str | None, known: tuple[str, ...]) -> None:
        hint = f" Did you mean {quote(suggestion)}?" if suggestion else ""
        super().__init__(f"Unknown segment {quote(name)}.{hint} Known: {', '.join(known)}.")
        self.name = name
        self.suggestion = suggestion
        self.known = known


class SegmentParameterError(SegmentError):
    """A parametrized built-in has a bad parameter (``active_0d``, ``lang:ENGLISH!!``)."""


class SegmentFileError(BroadcastError, ValueError):
    """A segments file cannot be used; every problem found is reported at once.

    The message has one line per problem, each starting with the file path.

    Attributes:
        path: The file, as given.
        problems: One line per problem, without the path.
    """

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))
        self.path = path
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class FieldMap:
    """The users collection's field name for each logical field the segments use.

    Every attribute defaults to its own name; a host bot that stores the last
    activity in ``last_active`` passes ``FieldMap(last_seen="last_active")``.

    Raises:
        SegmentError: On construction, if a name is empty, starts with ``$`` or
            is used for two logical fields.
    """

    user_id: str = "user_id"
    first_name: str = "first_name"
    username: str = "username"
    language_code: str = "language_code"
    is_premium: str = "is_premium"
    created_at: str = "created_at"
    last_seen: str = "last_seen"
    role: str = "role"
    terms_accepted: str = "terms_accepted"
    bot_blocked_at: str = "bot_blocked_at"
    deactivated_at: str = "deactivated_at"

    def __post_init__(self) -> None:
        problems = field_map_problems(self.as_dict())
        if problems:
            raise SegmentError("; ".join(problems))

    @staticmethod
    def logical_names() -> tuple[str, ...]:
        """The logical fields, in declaration order."""
        return tuple(f.name for f in fields(FieldMap))

    def as_dict(self) -> dict[str, str]:
        """Logical field -> the collection's field name."""
        return {name: getattr(self, name) for name in self.logical_names()}


def field_map_problems(mapping: dict[str, str]) -> list[str]:
    """What is wrong with a logical -> stored field mapping, one line per problem."""
    problems = [
        f"field {logical} = {quote(name)}: {reason}"
        for logical, name in mapping.items()
        if (reason := field_name_problem(name)) is not None
    ]
    seen: dict[str, str] = {}
    for logical, name in mapping.items():
        if name in seen:
            problems.append(
                f"field {logical} = {quote(name)}: already used for {seen[name]};"
                " each logical field needs its own name"
            )
        seen.setdefault(name, logical)
    return problems


def field_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a field name of a MongoDB document, or None."""
    if not name:
        return "a field name cannot be empty"
    if name.startswith("$"):
        return "a field name cannot start with $"
    if "\0" in name:
        return "a field name cannot contain a NUL character"
    return None


class SegmentKind(StrEnum):
    """Which segment a :class:`SegmentRef` names."""

    ALL = "all"
    PREMIUM = "premium"
    ADMINS = "admins"
    ACTIVE = "active"
    INACTIVE = "inactive"
    NEW = "new"
    LANG = "lang"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """A resolved segment name: ``name`` is canonical (lowercase, ``active_30d``, ``lang:pt-br``).

    ``days`` is set for ``active``/``inactive``/``new``, ``language`` for ``lang``.
    """

    name: str
    kind: SegmentKind
    days: int | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class CustomSegment:
    """A segment defined in the segments file.

    ``filter`` is validated and may hold relative dates (``"now-30d"``), which
    the compiler resolves; it uses the collection's own field names.
    """

    name: str
    description: str
    filter: dict[str, Any]


def parse_relative(text: str) -> timedelta | None:
    """The offset from now that ``text`` stands for (``now-30d`` -> -30 days), or None.

    Only the exact forms ``now``, ``now-<N><unit>`` and ``now+<N><unit>`` are
    relative dates; see :func:`relative_problem` for near misses.
    """
    match = _RELATIVE.fullmatch(text)
    if match is None:
        return None
    sign, amount, unit = match.groups()
    if sign is None:
        return timedelta()
    offset = timedelta(seconds=int(amount) * _UNIT_SECONDS[unit])
    return -offset if sign == "-" else offset


def relative_problem(text: str) -> str | None:
    """Why ``text``, which looks like a relative date, is not a valid one, or None."""
    if _RELATIVE_LIKE.fullmatch(text) is None:
        return None
    offset = parse_relative(text)
    if offset is None:
        return f"{quote(text)} is not a relative date; write {RELATIVE_FORMS}"
    if abs(offset) > MAX_RELATIVE:
        return f"{quote(text)} is too far from now; at most 100 years either way"
    return None
