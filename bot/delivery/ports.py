"""What the pipeline needs from the world: narrow interfaces defined by their user.

The Telegram adapter implements :class:`Sender`, the MongoDB adapters implement
:class:`DeliveryLedger`, :class:`BroadcastStore` and :class:`UserDirectory`; each
Protocol's docstring is the contract the run relies on. :class:`Ports` bundles
them for one process, :class:`PipelineConfig` tunes the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.delivery.content import Content
from bot.delivery.errors import SendError
from bot.delivery.limiter import Clock, Sleep
from bot.delivery.model import BroadcastStatus, DeliveryStatus, Outcome, Tally
from bot.delivery.operations import Operation
from bot.delivery.outage import OutagePolicy
from bot.delivery.policy import ContentGuard, ProgressSnapshot, RetryPolicy
from bot.delivery.throttle import Throttle

ProgressCallback = Callable[[ProgressSnapshot], Awaitable[None]]
WallClock = Callable[[], datetime]
#: A stored target of named segments -> the users filter, for the time the run starts.
TargetCompiler = Callable[[dict[str, Any], datetime], dict[str, Any]]


def no_segments(target: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The :data:`TargetCompiler` of a pipeline without segments: the stored filter as is."""
    filter_: dict[str, Any] = target.get("filter") or {}
    return filter_


@dataclass(frozen=True, slots=True)
class Receipt:
    """Telegram accepted a send: the new message ids in the recipient's chat.

    ``duplicate``: Telegram had already delivered this very message (an earlier
    attempt whose answer was lost, or a run that stopped mid-send) and refused the
    repeat; its ids are then unknown (``message_ids`` is empty).
    """

    message_ids: tuple[int, ...] = ()
    duplicate: bool = False


class PreparedMessage(Protocol):
    """Content made ready to send: the source fetched once, validated, the request built.

    Idempotence: every send with the same ``key`` to the same user carries the same
    Telegram ``random_id``, so a repeat (a retry after a lost answer, a resumed run,
    another instance) is refused by Telegram instead of delivered twice, and comes
    back as a :class:`Receipt` with ``duplicate=True``.
    """

    async def resolve(self, user_ids: Sequence[int]) -> list[int]:
        """Get ready to send to these users (one batch); returns those not to send to:
        unknown to Telegram, or refused by the message itself (:class:`Refusing`).

        Raises:
            SendError: A transient failure (ask again later); FloodWaitError.
            StorageUnavailableError: The database holding the peers cannot be read now.
        """

    async def send(self, user_id: int, key: str | None = None) -> Receipt:
        """Deliver to one user; ``key`` (the broadcast id) makes repeats idempotent.

        Raises:
            SendError: the recipient did not get it (with the category); a transient
                category may hide a delivery whose answer was lost: retry with the key.
            FloodWaitError: Telegram asked every sender to wait.
            StorageUnavailableError: A look-up before the request (the recipient's peer
                or values) could not read the database: nothing was sent.
        """


@runtime_checkable
class Refusing(Protocol):
    """A prepared message that may refuse recipients itself (an operation: a copy too old
    to delete, a copy whose ids are unknown): :meth:`PreparedMessage.resolve` reports
    them with those Telegram does not know, and they are recorded as failed, never sent."""

    def refusal(self, user_id: int) -> SendError | None:
        """Why ``user_id`` (reported by ``resolve``) gets nothing; None: Telegram does
        not know them."""


class Sender(Protocol):
    """Turns content into something sendable; the Telegram adapter implements it."""

    async def prepare(
        self, content: Content | Operation, broadcast_id: str | None = None
    ) -> PreparedMessage:
        """Validate and fetch what is needed once; ``broadcast_id``: the broadcast it is for
        (what its buttons and per-recipient lookups refer to), None for a loose preview.

        Raises:
            ContentError: The content cannot be sent (too long, source gone...).
            SendError: A transient failure reading the source (retry); FloodWaitError.
            StorageUnavailableError: The database cannot be read now (wait it out).
        """


class DeliveryLedger(Protocol):
    """Per-recipient delivery state; see :class:`bot.storage.ledger.MongoDeliveryLedger`.

    Every method may raise :class:`~bot.delivery.errors.StorageUnavailableError` when the
    database cannot be reached; each is safe to call again after it (idempotent, or
    a page read again).
    """

    async def add_pending(self, broadcast_id: str, user_ids: Sequence[int], now: datetime) -> int:
        """Add recipients as pending (idempotent); returns how many were new."""

    async def claim(
        self, broadcast_id: str, user_ids: Sequence[int], now: datetime, token: str
    ) -> list[int]:
        """Move pending rows to sending under ``token``; returns those claimed. Called again
        with the same token (after a lost answer) it returns the same rows."""

    async def release_claim(self, broadcast_id: str, token: str) -> None:
        """Return the rows still claimed under ``token`` to pending."""

    async def release(self, broadcast_id: str, user_ids: Sequence[int]) -> None:
        """Return claimed rows whose send never started to pending."""

    async def settle(self, broadcast_id: str, outcomes: Sequence[Outcome]) -> None:
        """Record results of claimed rows."""

    async def pending_page(self, broadcast_id: str, after: int | None, limit: int) -> list[int]:
        """Up to ``limit`` pending recipients with ids above ``after``, in id order."""

    async def sent_page(
        self, broadcast_id: str, after: int | None, limit: int, excluding: Sequence[str] = ()
    ) -> tuple[list[int], int | None]:
        """Up to ``limit`` recipients the broadcast was sent to, with ids above ``after``,
        leaving out those also sent in the broadcasts ``excluding`` (earlier deletes), and
        the id to continue after (None after the last page)."""

    async def retry_in_doubt(self, broadcast_id: str, claimed_since: datetime) -> int:
        """Rows left ``sending`` by a stopped run, first claimed since then, back to
        pending (sent again, idempotently: the same random_id); returns how many."""

    async def tally(self, broadcast_id: str) -> Tally:
        """Counts by status and error."""

    async def status_of(self, broadcast_id: str, user_id: int) -> DeliveryStatus | None:
        """One row's status."""


class BroadcastStore(Protocol):
    """The broadcast documents; see :class:`bot.storage.store.MongoBroadcastStore`.

    Every method may raise :class:`~bot.delivery.errors.StorageUnavailableError`.
    """

    async def insert(self, doc: dict[str, Any]) -> str:
        """Store a new document; returns its id."""

    async def with_status(self, statuses: Iterable[BroadcastStatus]) -> list[dict[str, Any]]:
        """Documents in any of ``statuses``, oldest first."""

    async def get(self, broadcast_id: str) -> dict[str, Any]:
        """The document; raises BroadcastNotFoundError."""

    async def status(self, broadcast_id: str) -> BroadcastStatus:
        """The current status."""

    async def update(self, broadcast_id: str, fields: dict[str, Any]) -> None:
        """Set fields."""

    async def transition(
        self,
        broadcast_id: str,
        expected: Iterable[BroadcastStatus],
        new: BroadcastStatus,
        *,
        at: datetime,
        by: int | None = None,
        fields: dict[str, Any] | None = None,
        action: str | None = None,
        where: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Compare-and-set the status (and ``where``), recorded in the audit trail."""

    async def add_flood_waits(
        self, broadcast_id: str, episodes: Sequence[tuple[datetime, float]]
    ) -> None:
        """Record FloodWait episodes (when it was answered, seconds asked) on the document
        (``flood_wait_log``, the latest few hundred), for the report's chart."""


class UserDirectory(Protocol):
    """The users collection; see :class:`bot.storage.users.MongoUserDirectory`."""

    async def count(self, query: dict[str, Any]) -> int:
        """How many users match ``query`` now (to show a true total while the snapshot runs)."""

    async def page(
        self, query: dict[str, Any], after: Any | None, limit: int
    ) -> tuple[list[Any], Any | None]:
        """Up to ``limit`` users matching ``query`` after key ``after``: their user id values
        as stored, and the key to continue after (None after the last page)."""

    async def mark_unreachable(
        self, blocked: Sequence[int], deactivated: Sequence[int], at: datetime
    ) -> None:
        """Mark users who blocked the bot or are gone."""


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Tuning of the pipeline; the defaults suit Telegram's free limits."""

    concurrency: int = 8
    progress_every: int = 100
    progress_min_interval_s: float = 3.0
    flush_interval_s: float = 0.25
    control_poll_s: float = 0.5
    snapshot_batch: int = 500
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    guard: ContentGuard = field(default_factory=ContentGuard)
    #: Recipients whose send was in flight when a run stopped are sent again (same
    #: random_id) while first claimed less than this long ago; 0: never (at-most-once).
    in_doubt_window_s: float = 3600.0
    outage: OutagePolicy = field(default_factory=OutagePolicy)
    #: On a stop, how long sends already on their way may take to be answered.
    stop_grace_s: float = 5.0

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.progress_every < 1 or self.snapshot_batch < 1:
            raise ValueError("concurrency, progress_every and snapshot_batch must be >= 1")
        if self.in_doubt_window_s < 0 or self.stop_grace_s < 0:
            raise ValueError("in_doubt_window_s and stop_grace_s must be >= 0")


@dataclass(frozen=True, slots=True)
class Ports:
    """Everything a run talks to."""

    store: BroadcastStore
    ledger: DeliveryLedger
    users: UserDirectory
    sender: Sender
    throttle: Throttle
    clock: Clock
    wall_clock: WallClock
    sleep: Sleep = asyncio.sleep
    compile_target: TargetCompiler = no_segments
