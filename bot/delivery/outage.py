"""Waiting out an unreachable database: a pure backoff policy and the guard a run uses.

Every database operation of a run goes through :class:`OutageGuard`. When the
storage says the database cannot be reached (:class:`StorageUnavailableError`)
the guard marks the outage (the run stops sending and tells the admin), waits
with backoff and tries again, so the run goes on where it stood. Past
``limit_s`` of one outage it gives up with :class:`OutageTooLongError`, and the
run stops in a state the next run resumes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.delivery.errors import StorageUnavailableError
from bot.delivery.limiter import Clock, Sleep

T = TypeVar("T")


class OutageTooLongError(StorageUnavailableError):
    """The database stayed unreachable longer than the run may wait."""


@dataclass(frozen=True, slots=True)
class OutagePolicy:
    """Retry delays: ``first_delay_s`` doubling up to ``max_delay_s``; give up after ``limit_s``.

    ``observe``, when set, is told when a run's outage starts (True) and when the run
    stops waiting for the database (False: it is back, or the run gave up), for metrics.
    """

    limit_s: float = 600.0
    first_delay_s: float = 0.25
    max_delay_s: float = 5.0
    observe: Callable[[bool], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.limit_s <= 0 or self.first_delay_s <= 0 or self.max_delay_s < self.first_delay_s:
            raise ValueError("limit_s and first_delay_s must be positive, max_delay_s >= first")

    def delay(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (1 for the first retry)."""
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** (attempt - 1)))


class OutageGuard:
    """Runs one run's database operations, waiting out outages.

    Args:
        policy: Delays and the limit.
        clock: Monotonic seconds.
        sleep: Awaited between attempts.
        on_change: Called when an outage starts or ends (to show it to the admin).
    """

    def __init__(
        self, policy: OutagePolicy, clock: Clock, sleep: Sleep, on_change: Callable[[], None]
    ) -> None:
        self.policy, self.clock, self.sleep, self.on_change = policy, clock, sleep, on_change
        #: When the current outage began (the clock's reading), None while reachable.
        self.down_since: float | None = None
        self.last_error: str | None = None
        #: How long the last outage that ended lasted, in seconds.
        self.last_outage_s: float | None = None

    @property
    def down(self) -> bool:
        """Whether the database is unreachable as far as the last operation knows."""
        return self.down_since is not None

    async def __call__(self, operation: Callable[[], Awaitable[T]]) -> T:
        """``await operation()``, retried while the database is unreachable.

        Raises:
            OutageTooLongError: The outage lasted longer than ``policy.limit_s``.
        """
        attempt = 0
        first_failed: float | None = None
        while True:
            try:
                result = await operation()
            except StorageUnavailableError as error:
                attempt += 1
                self._failed(error)
                assert self.down_since is not None
                # Measured from this operation's own first failure too: other operations
                # that succeed meanwhile (a partial outage) end the shared outage, not this one.
                first_failed = self.clock() if first_failed is None else first_failed
                since = min(first_failed, self.down_since)
                if self.clock() - since >= self.policy.limit_s:
                    self._tell(down=False)  # no longer waiting: the run stops
                    raise OutageTooLongError(
                        f"the database was unreachable for {self.policy.limit_s:g} s: {error}"
                    ) from error
                await self.sleep(self.policy.delay(attempt))
                continue
            if self.down_since is not None:
                self.last_outage_s = self.clock() - self.down_since
                self.down_since = None
                self._tell(down=False)
                self.on_change()
            return result

    def _failed(self, error: StorageUnavailableError) -> None:
        self.last_error = str(error)
        if self.down_since is None:
            self.down_since = self.clock()
            self._tell(down=True)
            self.on_change()

    def _tell(self, *, down: bool) -> None:
        if self.policy.observe is not None:
            self.policy.observe(down)
