"""The records of a broadcast: its statuses, and each recipient's delivery state and outcome.

Plain values shared by the pipeline, the storage adapters and the admin bot.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bot.delivery.errors import ErrorCategory


class BroadcastStatus(StrEnum):
    """The life of a broadcast."""

    DRAFT = "draft"
    QUEUED = "queued"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    MISSED = "missed"


ACTIVE = frozenset({BroadcastStatus.RUNNING, BroadcastStatus.PAUSED})
FINISHED = frozenset(
    {
        BroadcastStatus.COMPLETED,
        BroadcastStatus.CANCELLED,
        BroadcastStatus.FAILED,
        BroadcastStatus.MISSED,
    }
)


def new_broadcast_id(now: datetime) -> str:
    """A readable unique id: ``bc_20261129_143000_a1b2``."""
    return f"bc_{now:%Y%m%d_%H%M%S}_{secrets.token_hex(2)}"


class DeliveryStatus(StrEnum):
    """Where one recipient's delivery stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The settled result of one recipient: delivered (``error`` None) or why not.

    ``message_ids``: the messages Telegram created in the recipient's chat (an album
    has several); empty for a failure and for ``duplicate``, a delivery an earlier
    attempt made whose answer was lost (Telegram refused the repeat).
    """

    user_id: int
    attempts: int
    message_ids: tuple[int, ...] = ()
    error: ErrorCategory | None = None
    error_code: str | None = None
    at: datetime | None = None
    duplicate: bool = False

    @property
    def sent(self) -> bool:
        """Whether the message was delivered."""
        return self.error is None

    @property
    def message_id(self) -> int | None:
        """The (first) message created, if known."""
        return self.message_ids[0] if self.message_ids else None


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts of a broadcast's ledger rows."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    errors: tuple[tuple[str, int], ...] = ()

    @property
    def total(self) -> int:
        """Every recipient in the snapshot."""
        return self.pending + self.sending + self.sent + self.failed


def as_utc(value: object) -> datetime | None:
    """A stored datetime as UTC-aware (mongomock and tz-naive clients return naive ones)."""
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
