"""The segments a bot knows: the built-ins, its custom ones, and how to turn names into a filter.

Built-ins (names match in any case):

- ``all``: everyone eligible (no condition beyond the base).
- ``premium``: Telegram Premium users.
- ``admins``: users with role ``admin``, or whose id is in ``admin_ids``.
- ``active_<N>d``, ``inactive_<N>d``, ``new_<N>d`` (N = 1-3650, no leading
  zeros): seen in the last N days; not seen for N days, or never; joined in the
  last N days.
- ``lang:<code>``: language ``<code>`` or a regional variant of it
  (``lang:pt`` is ``pt`` and ``pt-br``). :meth:`SegmentCatalog.listing` shows
  it as the form ``lang:<code>``, the other parametrized ones as examples.

Every filter also carries the base eligibility: not banned, not blocked, not
deactivated, and terms accepted if ``require_terms``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.delivery.errors import quote
from segments.compiler import (
    EXAMPLES,
    FORMS,
    SIMPLE,
    base_conditions,
    builtin_filter,
    combine,
    custom_filter,
    is_builtin_name,
    parse_builtin,
    utc,
)
from segments.loader import read_segment_file
from segments.model import (
    CustomSegment,
    FieldMap,
    SegmentError,
    SegmentKind,
    SegmentRef,
    UnknownSegmentError,
)

_BUILTIN_LISTING = (
    ("all", "everyone who can receive broadcasts"),
    ("premium", "Telegram Premium users"),
    ("admins", "the bot's admins (role admin, or in ADMIN_IDS)"),
    ("active_30d", "seen in the last 30 days; any active_<N>d, N = 1-3650"),
    ("inactive_30d", "not seen for 30 days, or never; any inactive_<N>d"),
    ("new_7d", "joined in the last 7 days; any new_<N>d"),
    ("lang:<code>", "language <code> or a variant of it: lang:pt is pt and pt-br"),
)


@dataclass(frozen=True, slots=True)
class SegmentCatalog:
    """The built-in and custom segments, and what a filter needs to know about the users.

    Args:
        fields: The users collection's field names.
        custom: Custom segments by name (lowercase), in the order to list them.
        admin_ids: Ids that count as ``admins`` besides users with role admin.
        require_terms: Whether only users who accepted the terms are eligible.

    Raises:
        SegmentError: On construction, if a custom segment's key is not its
            name or is the name of a built-in.
    """

    fields: FieldMap = FieldMap()
    custom: Mapping[str, CustomSegment] = field(default_factory=dict)
    admin_ids: frozenset[int] = frozenset()
    require_terms: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "custom", MappingProxyType(dict(self.custom)))
        object.__setattr__(self, "admin_ids", frozenset(self.admin_ids))
        for name, segment in self.custom.items():
            if name != segment.name or is_builtin_name(name):
                raise SegmentError(f"Custom segment {quote(name)} cannot have this name.")

    @classmethod
    def from_file(
        cls, path: Path, *, admin_ids: Iterable[int] = (), require_terms: bool = False
    ) -> SegmentCatalog:
        """The catalog with the field mapping and custom segments of the file at ``path``.

        Raises:
            SegmentFileError: If the file is missing or has any problem.
        """
        fields, custom = read_segment_file(path)
        return cls(fields, custom, frozenset(admin_ids), require_terms)

    def with_overrides(
        self, *, admin_ids: Iterable[int] | None = None, require_terms: bool | None = None
    ) -> SegmentCatalog:
        """A copy with other ``admin_ids`` and/or ``require_terms``."""
        ids = self.admin_ids if admin_ids is None else frozenset(admin_ids)
        terms = self.require_terms if require_terms is None else require_terms
        return replace(self, admin_ids=ids, require_terms=terms)

    def resolve(self, name: str) -> SegmentRef:
        """The segment ``name`` (any case) stands for.

        Raises:
            SegmentParameterError: If it is a parametrized built-in with a bad
                parameter (``active_0d``, ``lang:ENGLISH!!``).
            UnknownSegmentError: If no segment has this name.
        """
        builtin = parse_builtin(name)
        if builtin is not None:
            return builtin
        key = name.strip().lower()
        if key in self.custom:
            return SegmentRef(key, SegmentKind.CUSTOM)
        customs = tuple(self.custom)
        close = difflib.get_close_matches(key, (*SIMPLE, *EXAMPLES, *customs), n=1)
        raise UnknownSegmentError(name, close[0] if close else None, self.known_names())

    def known_names(self) -> tuple[str, ...]:
        """The names to show as known: built-ins (parametrized ones as forms), then custom."""
        return (*SIMPLE, *FORMS, *self.custom)

    def check(self, segments: Sequence[str], excludes: Sequence[str] = ()) -> None:
        """Validate every name, raising the first problem; nothing is compiled.

        Raises:
            SegmentError: The first problem (an unknown name, a bad parameter,
                or excluding ``all``).
        """
        self._refs(segments, excludes)

    def compile(
        self, segments: Sequence[str], excludes: Sequence[str], now: datetime
    ) -> dict[str, Any]:
        """The filter of users in every one of ``segments`` and in none of ``excludes``.

        ``{"$and": [*base, *segments, {"$nor": excludes}]}``, without ``all``
        and without an empty ``$nor``; just :meth:`base_filter` when nothing is
        left. Relative times count back from ``now`` (aware; made UTC).

        Raises:
            SegmentError: As :meth:`check`.
            ValueError: If ``now`` is naive.
        """
        now = utc(now)
        included, excluded = self._refs(segments, excludes)
        return combine(
            base_conditions(self.fields, self.require_terms),
            [self._filter(ref, now) for ref in included],
            [self._filter(ref, now) for ref in excluded],
        )

    def base_filter(self) -> dict[str, Any]:
        """Who may get any broadcast, as one table (what ``all`` compiles to)."""
        return combine(base_conditions(self.fields, self.require_terms), [], [])

    def listing(self) -> list[tuple[str, str]]:
        """(name, description) for each segment to show an admin: built-ins, then custom.

        Parametrized built-ins appear as one example each (``active_30d``),
        ``lang:<code>`` as its form; the descriptions say how to vary them.
        """
        custom = [(s.name, s.description or "(no description)") for s in self.custom.values()]
        return [*_BUILTIN_LISTING, *custom]

    def describe(self, segments: Sequence[str], excludes: Sequence[str] = ()) -> str:
        """Who the names select, for a confirmation: ``lang:de and premium, excluding admins``.

        "and" says what composition means: users in every one of the segments.

        Raises:
            SegmentError: As :meth:`check`.
        """
        included, excluded = self._refs(segments, excludes)
        named = [ref.name for ref in included if ref.kind is not SegmentKind.ALL]
        text = " and ".join(named) or "all users"
        if excluded:
            text += ", excluding " + " and ".join(ref.name for ref in excluded)
        return text

    def _refs(
        self, segments: Sequence[str], excludes: Sequence[str]
    ) -> tuple[list[SegmentRef], list[SegmentRef]]:
        # dict.fromkeys drops repeats ("vip", "VIP") and keeps the order given.
        included = list(dict.fromkeys(self.resolve(name) for name in segments))
        excluded = list(dict.fromkeys(self.resolve(name) for name in excludes))
        if any(ref.kind is SegmentKind.ALL for ref in excluded):
            raise SegmentError('Excluding "all" would leave no one to send to.')
        return included, excluded

    def _filter(self, ref: SegmentRef, now: datetime) -> dict[str, Any]:
        if ref.kind is SegmentKind.CUSTOM:
            return custom_filter(self.custom[ref.name], self.fields, now)
        return builtin_filter(ref, self.fields, self.admin_ids, now)


def load_catalog(
    path: Path | None, *, admin_ids: Iterable[int] = (), require_terms: bool = False
) -> SegmentCatalog:
    """The catalog of the file at ``path``, or of the built-ins only when ``path`` is None.

    Raises:
        SegmentFileError: If ``path`` is given and the file is missing or has
            any problem.
    """
    if path is None:
        return SegmentCatalog(admin_ids=frozenset(admin_ids), require_terms=require_terms)
    return SegmentCatalog.from_file(path, admin_ids=admin_ids, require_terms=require_terms)
