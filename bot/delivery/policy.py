"""Pure delivery policy: retries, the content error budget, and progress throttling.

Plain values in, decisions out; no I/O and no clock of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.delivery.errors import ErrorCategory


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transient failures are retried with exponential backoff, ``max_attempts`` in all."""

    max_attempts: int = 3
    base_delay_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay_s < 0 or self.factor < 1:
            raise ValueError("max_attempts >= 1, base_delay_s >= 0 and factor >= 1 required")

    def delay_before(self, attempt: int, category: ErrorCategory) -> float | None:
        """Seconds to wait before attempt number ``attempt + 1``, or None to give up."""
        if category is not ErrorCategory.TRANSIENT or attempt >= self.max_attempts:
            return None
        return min(self.max_delay_s, self.base_delay_s * self.factor ** (attempt - 1))


@dataclass(frozen=True, slots=True)
class ContentGuard:
    """Stop a broadcast whose content Telegram rejects, before it fails for everyone.

    The broadcast stops once ``threshold`` recipients failed with a content
    error while fewer recipients than that received it.
    """

    threshold: int = 3

    def should_stop(self, content_failures: int, sent: int) -> bool:
        """Whether the content itself is evidently being rejected."""
        return content_failures >= self.threshold and sent < content_failures


@dataclass(slots=True)
class ProgressGate:
    """Lets a progress report through at most every ``every_n`` recipients and ``min_interval_s``.

    Both must have passed since the last report; the final report is not gated.
    """

    every_n: int
    min_interval_s: float = 3.0
    _last_done: int = field(default=0, init=False)
    _last_at: float = field(default=float("-inf"), init=False)

    def due(self, done: int, now: float) -> bool:
        """Whether a report for ``done`` processed recipients may go out at ``now``."""
        if done - self._last_done < self.every_n or now - self._last_at < self.min_interval_s:
            return False
        self._last_done, self._last_at = done, now
        return True


@dataclass(slots=True)
class Counters:
    """Running counts of one broadcast run."""

    sent: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        """Recipients with a final result."""
        return self.sent + self.failed

    def record(self, error: ErrorCategory | None) -> None:
        """Count one settled recipient."""
        if error is None:
            self.sent += 1
            return
        self.failed += 1
        self.errors[error.value] = self.errors.get(error.value, 0) + 1


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    """What a progress report shows."""

    broadcast_id: str
    total: int
    total_known: bool
    sent: int
    failed: int
    errors: dict[str, int]
    unknown: int
    elapsed_s: float
    rate: float
    eta_s: float | None
    paused: bool = False
    #: When the database became unreachable (sending waits for it), None while it is fine.
    db_down_since: datetime | None = None
    skipped: int = 0
    #: Seconds left of the FloodWait Telegram asked for (0: none now).
    flood_wait_s: float = 0.0
    #: Seconds spent waiting out FloodWaits so far (not counted in rate or elapsed time).
    flood_waited_s: float = 0.0

    @property
    def done(self) -> int:
        """Recipients with a final result."""
        return self.sent + self.failed + self.unknown + self.skipped


def snapshot(
    broadcast_id: str,
    counters: Counters,
    *,
    total: int,
    total_known: bool,
    unknown: int,
    elapsed_s: float,
    run_done: int,
    run_elapsed_s: float,
    paused: bool = False,
    db_down_since: datetime | None = None,
    skipped: int = 0,
    flood_wait_s: float = 0.0,
    flood_waited_s: float = 0.0,
) -> ProgressSnapshot:
    """Build a snapshot.

    The rate counts only this run's sending time (``run_elapsed_s`` without pauses), so a
    resume does not inflate it and a FloodWait does not deflate it; ``total`` is the
    counted audience while the snapshot is still being written.
    """
    rate = run_done / run_elapsed_s if run_elapsed_s > 0 else 0.0
    remaining = max(0, total - counters.done - unknown - skipped)
    eta = remaining / rate if rate > 0 and total_known else None
    return ProgressSnapshot(
        broadcast_id=broadcast_id,
        total=total,
        total_known=total_known,
        sent=counters.sent,
        failed=counters.failed,
        errors=dict(counters.errors),
        unknown=unknown,
        elapsed_s=elapsed_s,
        rate=rate,
        eta_s=eta,
        paused=paused,
        db_down_since=db_down_since,
        skipped=skipped,
        flood_wait_s=flood_wait_s,
        flood_waited_s=flood_waited_s,
    )


@dataclass(slots=True)
class PauseClock:
    """Time spent waiting out FloodWaits, overlapping waits counted once (pure).

    Every worker that hits a FloodWait reports it; they overlap, and the union of
    the waits is what the broadcast spent not sending.
    """

    _until: float = float("-inf")
    _waited: float = 0.0
    _started: float = float("-inf")

    def add(self, now: float, seconds: float) -> None:
        """Telegram asked, at ``now``, to wait ``seconds``."""
        end = now + max(0.0, seconds)
        if now >= self._until:  # a new pause
            self._waited += self._past()
            self._started = now
        self._until = max(self._until, end)

    def waited(self, now: float) -> float:
        """Seconds paused by FloodWaits up to ``now``."""
        if self._started == float("-inf"):
            return self._waited
        return self._waited + max(0.0, min(now, self._until) - self._started)

    def left(self, now: float) -> float:
        """Seconds of the current FloodWait still to wait."""
        return max(0.0, self._until - now)

    def _past(self) -> float:
        """Close the previous pause (wholly in the past): its length."""
        if self._started == float("-inf"):
            return 0.0
        length = self._until - self._started
        self._started = float("-inf")
        return length
