"""Which stored values are Telegram user ids (pure).

A host bot's users collection may hold ``user_id`` as an integer, an Int64, a
float (``123.0`` from a JSON import) or a string of digits. Those are the same
user and are sent to; anything else (a fraction, a word, a missing field, a
boolean) cannot be, and is counted and reported as skipped with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: Telegram's largest user id (hydrogram's MAX_USER_ID).
MAX_USER_ID = 999_999_999_999
_DIGITS = re.compile(r"\+?[0-9]{1,13}")
#: Examples of skipped values kept for the summary and the log.
SAMPLE = 5


def user_id_of(value: Any) -> int | str:
    """The user id ``value`` stands for, or the reason it stands for none."""
    if value is None:
        return "no user id"
    if isinstance(value, bool):
        return "a boolean, not a user id"
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            return "a fraction, not a user id"
        number = int(value)
    elif isinstance(value, str):
        if not _DIGITS.fullmatch(value.strip()):
            return "text that is not a user id"
        number = int(value.strip())
    else:
        return f"a {type(value).__name__}, not a user id"
    if not 1 <= number <= MAX_USER_ID:
        return "a number outside Telegram's user ids"
    return number


@dataclass(slots=True)
class Skipped:
    """Audience entries that are not user ids: how many, why, and a few examples."""

    count: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def add(self, value: Any, reason: str) -> None:
        """Count one skipped value."""
        self.count += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if len(self.examples) < SAMPLE:
            self.examples.append(repr(value)[:60])

    def to_document(self) -> dict[str, Any]:
        """The ``skipped`` field of the broadcast document."""
        return {"count": self.count, "reasons": dict(self.reasons), "examples": self.examples}

    @classmethod
    def from_document(cls, doc: dict[str, Any] | None) -> Skipped:
        """Counts stored by :meth:`to_document` (a resumed run goes on counting)."""
        doc = doc or {}
        return cls(
            int(doc.get("count", 0)), dict(doc.get("reasons", {})), list(doc.get("examples", []))
        )


def sort_out(values: list[Any], skipped: Skipped) -> list[int]:
    """The user ids among ``values`` (first occurrence kept); the rest counted in ``skipped``."""
    ids: dict[int, None] = {}
    for value in values:
        found = user_id_of(value)
        if isinstance(found, int):
            ids[found] = None
        else:
            skipped.add(value, found)
    return list(ids)
