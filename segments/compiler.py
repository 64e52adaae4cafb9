"""Segments -> MongoDB filter: base eligibility, the built-ins, custom filters, composition.

Pure: relative times come from the ``now`` the caller passes, never the clock,
and every call returns fresh containers (a caller may mutate the result).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bot.delivery.errors import quote
from segments.model import (
    MAX_DAYS,
    MIN_DAYS,
    CustomSegment,
    FieldMap,
    SegmentError,
    SegmentKind,
    SegmentParameterError,
    SegmentRef,
    parse_relative,
)

SIMPLE: Final = {
    "all": SegmentKind.ALL,
    "premium": SegmentKind.PREMIUM,
    "admins": SegmentKind.ADMINS,
}
FORMS: Final = ("active_<N>d", "inactive_<N>d", "new_<N>d", "lang:<code>")
# Concrete names standing for the parametrized forms, for suggestions.
EXAMPLES: Final = (
    "active_7d",
    "active_30d",
    "active_90d",
    "inactive_30d",
    "inactive_90d",
    "new_7d",
    "new_30d",
    "lang:en",
)
_PARAMETRIZED = re.compile(r"(active|inactive|new)_([0-9]+)d")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_LOGICAL = ("$and", "$or", "$nor")
_UNTOUCHED = ("$regex", "$options")


def parse_builtin(given: str) -> SegmentRef | None:
    """The built-in segment ``given`` names (any case), or None if it names none.

    Raises:
        SegmentParameterError: If ``given`` has the form of a parametrized
            built-in with a bad parameter (``active_0d``, ``active_07d``,
            ``lang:ENGLISH!!``).
    """
    name = given.strip().lower()
    if name in SIMPLE:
        return SegmentRef(name, SIMPLE[name])
    if name.startswith("lang:"):
        return _language(given, name.removeprefix("lang:"))
    match = _PARAMETRIZED.fullmatch(name)
    if match is None:
        return None
    kind, digits = match.groups()
    days = int(digits) if len(digits) <= 5 else MAX_DAYS + 1
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise SegmentParameterError(
            f"Segment {quote(given)}: the number of days must be {MIN_DAYS}-{MAX_DAYS}."
        )
    if digits != str(days):
        raise SegmentParameterError(
            f"Segment {quote(given)}: write the days without leading zeros, like {kind}_{days}d."
        )
    return SegmentRef(name, SegmentKind(kind), days=days)


def is_builtin_name(name: str) -> bool:
    """Whether ``name`` is, or has the form of, a built-in (``active_0d`` has the form)."""
    try:
        return parse_builtin(name) is not None
    except SegmentParameterError:
        return True


def _language(given: str, code: str) -> SegmentRef:
    if _LANGUAGE.fullmatch(code) is None:
        raise SegmentParameterError(
            f"Segment {quote(given)}: {quote(code)} is not a language code; use 2-3 letters"
            " and optional subtags, like lang:de or lang:pt-br."
        )
    return SegmentRef(f"lang:{code}", SegmentKind.LANG, language=code)


def base_conditions(fields: FieldMap, require_terms: bool) -> list[dict[str, Any]]:
    """Who may get any broadcast, one condition per item.

    Not banned, not blocked, not deactivated (a missing or null mark counts
    as unmarked), and, with ``require_terms``, terms accepted.
    """
    terms = [{fields.terms_accepted: True}] if require_terms else []
    return [
        *terms,
        {fields.role: {"$ne": "banned"}},
        {fields.bot_blocked_at: None},
        {fields.deactivated_at: None},
    ]


def builtin_filter(
    ref: SegmentRef, fields: FieldMap, admin_ids: frozenset[int], now: datetime
) -> dict[str, Any]:
    """The condition of a built-in segment; ``{}`` for ``all``."""
    cutoff = now - timedelta(days=ref.days or 0)
    match ref.kind:
        case SegmentKind.PREMIUM:
            return {fields.is_premium: True}
        case SegmentKind.ADMINS:
            return _admins(fields, admin_ids)
        case SegmentKind.ACTIVE:
            return {fields.last_seen: {"$gte": cutoff}}
        case SegmentKind.INACTIVE:
            return {"$or": [{fields.last_seen: {"$lt": cutoff}}, {fields.last_seen: None}]}
        case SegmentKind.NEW:
            return {fields.created_at: {"$gte": cutoff}}
        case SegmentKind.LANG:
            # Anchored and case-sensitive, so an index on the field serves it.
            return {fields.language_code: {"$regex": f"^{ref.language}(-|$)"}}
        case SegmentKind.ALL:
            return {}
    raise SegmentError(f"Segment {quote(ref.name)} is not a built-in.")


def _admins(fields: FieldMap, admin_ids: frozenset[int]) -> dict[str, Any]:
    if not admin_ids:
        return {fields.role: "admin"}
    return {"$or": [{fields.role: "admin"}, {fields.user_id: {"$in": sorted(admin_ids)}}]}


def custom_filter(segment: CustomSegment, fields: FieldMap, now: datetime) -> dict[str, Any]:
    """``segment``'s filter with relative dates resolved and logical field names mapped.

    A key naming a logical field (``last_seen``) becomes the collection's name
    for it (``last_active``), at the top and inside ``$and``/``$or``/``$nor``;
    other keys, and keys inside ``$elemMatch`` or documents, stay as written.

    Raises:
        SegmentError: If mapping a key gives a name the same table already has.
    """
    resolved = resolve_dates(segment.filter, now)
    return rename_fields(resolved, fields.as_dict(), segment.name)


def resolve_dates(value: Any, now: datetime) -> Any:
    """A copy of ``value`` with every relative date string (``now-30d``) made a datetime.

    Regular expressions and their options are left as they are.
    """
    if isinstance(value, str):
        offset = parse_relative(value)
        return value if offset is None else now + offset
    if isinstance(value, dict):
        return {
            key: item if key in _UNTOUCHED else resolve_dates(item, now)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [resolve_dates(item, now) for item in value]
    return value


def rename_fields(query: dict[str, Any], names: Mapping[str, str], segment: str) -> dict[str, Any]:
    """A copy of ``query`` with its logical field names mapped through ``names``.

    Raises:
        SegmentError: If two keys of one table end up with the same name.
    """
    collisions = field_collisions(query, names)
    if collisions:
        raise SegmentError(f"Segment {quote(segment)}: {collisions[0]}.")
    renamed: dict[str, Any] = {}
    for key, value in query.items():
        if key in _LOGICAL and isinstance(value, list):
            value = [rename_fields(item, names, segment) for item in value]
        renamed[names.get(key, key)] = value
    return renamed


def field_collisions(query: dict[str, Any], names: Mapping[str, str]) -> list[str]:
    """Keys of one table of ``query`` that :func:`rename_fields` would merge, as problems."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for key, value in query.items():
        target = names.get(key, key)
        if target in seen:
            problems.append(
                f"fields {quote(seen[target])} and {quote(key)} are both {quote(target)}"
                " once [fields] applies; write the condition once"
            )
        seen.setdefault(target, key)
        if key in _LOGICAL and isinstance(value, list):
            for item in value:
                problems.extend(field_collisions(item, names) if isinstance(item, dict) else ())
    return problems


def combine(
    base: Sequence[dict[str, Any]],
    included: Sequence[dict[str, Any]],
    excluded: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """``base`` and every ``included`` condition and none of the ``excluded`` ones.

    Empty conditions (``all``) are dropped. With nothing beyond ``base``, its
    conditions are merged into one table (their fields are distinct);
    otherwise the result is ``{"$and": [*base, *included, {"$nor": excluded}]}``.
    """
    parts = [part for part in included if part]
    if excluded:
        parts.append({"$nor": list(excluded)})
    if not parts:
        return {key: value for condition in base for key, value in condition.items()}
    return {"$and": [*base, *parts]}


def utc(now: datetime) -> datetime:
    """``now`` in UTC.

    Raises:
        ValueError: If ``now`` is naive: the compiler never guesses a timezone.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, got {now!r}")
    return now.astimezone(UTC)


def index_fields(fields: FieldMap) -> list[str]:
    """The collection's fields the base conditions and the built-ins filter on, to index."""
    return [
        fields.user_id,
        fields.last_seen,
        fields.created_at,
        fields.language_code,
        fields.is_premium,
        fields.role,
        fields.bot_blocked_at,
        fields.deactivated_at,
        fields.terms_accepted,
    ]
