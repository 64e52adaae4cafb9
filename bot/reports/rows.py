"""One ledger row as the report's CSV writes it (pure: plain values in, text out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.delivery.model import as_utc

#: The CSV's header, in column order.
CSV_COLUMNS = (
    "user_id",
    "status",
    "category",
    "error",
    "settled_at",
    "message_ids",
    "attempts",
    "duplicate",
)
#: The statuses of ledger rows, in the order the CSV lists them.
STATUSES = ("sent", "failed", "sending", "pending")


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger holds of one recipient.

    ``category`` and ``error`` (Telegram's error, as recorded) only for a failed row;
    ``settled_at``: when the send was answered (a row retried holds its last answer);
    ``message_ids``: every message of the copy (an album has several), empty when
    unknown (``duplicate``: Telegram refused a repeat; the first send's ids were lost).
    """

    user_id: int
    status: str
    category: str | None = None
    error: str | None = None
    settled_at: datetime | None = None
    message_ids: tuple[int, ...] = ()
    attempts: int = 0
    duplicate: bool = False


def entry_of(row: Mapping[str, Any]) -> LedgerEntry:
    """The entry of a stored ledger row (``deliveries`` document)."""
    ids = row.get("message_ids") or ([row["message_id"]] if row.get("message_id") else [])
    failed = row.get("status") == "failed"
    return LedgerEntry(
        user_id=int(row["user_id"]),
        status=str(row.get("status")),
        category=str(row["error"]) if failed and row.get("error") else None,
        error=str(row["error_code"]) if failed and row.get("error_code") else None,
        settled_at=as_utc(row.get("settled_at")),
        message_ids=tuple(int(i) for i in ids),
        attempts=int(row.get("attempts") or 0),
        duplicate=bool(row.get("duplicate")),
    )


def iso_utc(moment: datetime | None) -> str:
    """``2026-11-29T14:30:00.125Z`` (ISO 8601, UTC, milliseconds); empty for None."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def csv_row(entry: LedgerEntry) -> list[str]:
    """The CSV fields of ``entry``, in :data:`CSV_COLUMNS` order (album ids space-separated)."""
    return [
        str(entry.user_id),
        entry.status,
        entry.category or "",
        entry.error or "",
        iso_utc(entry.settled_at),
        " ".join(str(i) for i in entry.message_ids),
        str(entry.attempts),
        "yes" if entry.duplicate else "",
    ]
