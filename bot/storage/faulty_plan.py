"""What the fault injector of :mod:`bot.storage.faulty` does, and when: plain values, no I/O.

A test (or the demo's ``--chaos``) holds a :class:`FaultPlan` and changes it while
the bot runs: outages (between two times, for the next N operations, or until
:meth:`FaultPlan.heal`), seeded random faults, slow operations, idle-cursor
expiry and "kill every open cursor" (a failover). Times come from an injected
monotonic clock and delays go through an injected sleep, so a test drives both.

The errors are PyMongo's own, as an application sees them once the driver's
own retry (retryable reads and writes retry once) has failed too.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from pymongo.errors import (
    AutoReconnect,
    CursorNotFound,
    NetworkTimeout,
    NotPrimaryError,
    PyMongoError,
)

ErrorType = type[PyMongoError]
Errors = ErrorType | tuple[ErrorType, ...]
#: What random faults raise by default, in turn: a dropped connection, a timeout, a step-down.
ROTATION = (AutoReconnect, NetworkTimeout, NotPrimaryError)
#: The idle time after which a server removes a cursor (``cursorTimeoutMillis``: 10 minutes).
CURSOR_IDLE_TIMEOUT_S = 600.0
#: The command name of a cursor's later batches, for scoping and the record.
GET_MORE = "getMore"
_MESSAGES: dict[ErrorType, str] = {AutoReconnect: "connection closed", NetworkTimeout: "timed out"}


def _scope(collections: Iterable[str], operations: Iterable[str]) -> Scope:
    def names(values: Iterable[str]) -> frozenset[str]:
        return frozenset([values] if isinstance(values, str) else values)

    return Scope(names(collections), names(operations))


def _tuple(errors: Errors) -> tuple[ErrorType, ...]:
    return errors if isinstance(errors, tuple) else (errors,)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which operations a fault covers: empty sets mean every collection or operation."""

    collections: frozenset[str] = frozenset()
    operations: frozenset[str] = frozenset()

    def covers(self, collection: str, operation: str) -> bool:
        """Whether ``operation`` (a method name, or ``getMore``) on ``collection`` is covered."""
        return (not self.collections or collection in self.collections) and (
            not self.operations or operation in self.operations
        )


@dataclass(slots=True, kw_only=True)
class FaultSource:
    """Errors raised in turn on the operations in ``scope``.

    ``after``: the operation reaches the database, then its answer is lost (as with
    ``AutoReconnect``/``NetworkTimeout``; a real ``NotPrimaryError`` always comes before).
    """

    errors: tuple[ErrorType, ...]
    scope: Scope
    after: bool = False
    raised: int = 0

    def next_error(self) -> ErrorType:
        """The error to raise now (they take turns)."""
        self.raised += 1
        return self.errors[(self.raised - 1) % len(self.errors)]


@dataclass(slots=True, kw_only=True)
class Outage(FaultSource):
    """Every covered operation fails while ``start <= now < end`` and ``remaining`` is not 0."""

    start: float = -math.inf
    end: float = math.inf
    remaining: int | None = None

    def active(self, now: float) -> bool:
        """Whether the outage is on at ``now``."""
        return self.start <= now < self.end and self.remaining != 0

    def next_error(self) -> ErrorType:
        """The error to raise now, counted against ``remaining``."""
        if self.remaining is not None:
            self.remaining -= 1
        return FaultSource.next_error(self)


@dataclass(slots=True, kw_only=True)
class RandomFaults(FaultSource):
    """Each covered operation fails with ``probability``, drawn from a seeded generator."""

    probability: float
    rng: random.Random

    def hits(self) -> bool:
        """One draw: whether this operation fails."""
        return self.rng.random() < self.probability


@dataclass(frozen=True, slots=True)
class Slowness:
    """Every covered operation takes ``delay`` seconds longer."""

    delay: float
    scope: Scope


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected error, raised before the operation reaches the database or after it."""

    error: PyMongoError
    after: bool


@dataclass(slots=True)
class FaultRecord:
    """What was injected: faults by kind (exception name) and by operation, and delays."""

    by_kind: Counter[str] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    delays: Counter[str] = field(default_factory=Counter)
    delayed_s: float = 0.0

    @property
    def faults(self) -> int:
        """How many errors were injected."""
        return sum(self.by_kind.values())

    def add(self, error: PyMongoError, operation: str) -> None:
        """Count ``error`` injected into ``operation``."""
        self.by_kind[type(error).__name__] += 1
        self.by_operation[operation] += 1

    def summary(self) -> str:
        """One line for a printout, e.g. ``3 faults (AutoReconnect 3; update_one 2, find 1)``."""
        kinds = ", ".join(f"{name} {n}" for name, n in self.by_kind.most_common())
        ops = ", ".join(f"{name} {n}" for name, n in self.by_operation.most_common())
        plural = "" if self.faults == 1 else "s"
        text = f"{self.faults} fault{plural} ({kinds}; {ops})" if self.faults else "no faults"
        slowed = sum(self.delays.values())
        return text + (f", {slowed} operations delayed {self.delayed_s:.1f} s" if slowed else "")


def make_error(kind: ErrorType, collection: str, operation: str) -> PyMongoError:
    """An instance of ``kind`` shaped like the one PyMongo raises."""
    where = f"during {operation} on {collection} (injected)"
    if kind is NotPrimaryError:  # a server's refusal: it carries the server's reply
        reply = dict(ok=0.0, errmsg="not primary", code=10107, codeName="NotWritablePrimary")
        return NotPrimaryError(f"not primary {where}", reply)
    return kind(f"{_MESSAGES.get(kind, kind.__name__)} {where}")


def cursor_not_found(cursor_id: int) -> CursorNotFound:
    """The error a server answers to a getMore for a cursor it no longer has."""
    message = f"cursor id {cursor_id} not found"
    reply = {"ok": 0.0, "errmsg": message, "code": 43, "codeName": "CursorNotFound"}
    return CursorNotFound(message, 43, reply)


class FaultPlan:
    """The faults to inject into a :class:`~bot.storage.faulty.FaultyDatabase`, and their record.

    Args:
        clock: monotonic seconds; outages' times and cursor idleness are read from it.
        sleep: awaited for added delays (``asyncio.sleep`` unless a test drives time).
        seed: seeds random faults that do not bring their own.
        cursor_idle_timeout: seconds after its last batch that a cursor is removed.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        seed: int = 0,
        cursor_idle_timeout: float = CURSOR_IDLE_TIMEOUT_S,
    ) -> None:
        self.now, self.sleep, self.seed = clock, sleep, seed
        self.cursor_idle_timeout = cursor_idle_timeout
        self.outages: list[Outage] = []
        self.random: list[RandomFaults] = []
        self.slowness: list[Slowness] = []
        self.record = FaultRecord()
        #: Bumped by :meth:`kill_open_cursors`; a cursor opened in an older generation is gone.
        self.generation = 0
        self._cursor_ids = itertools.count(7_000_000_001)  # for messages only

    def outage(
        self,
        *,
        errors: Errors = AutoReconnect,
        start: float = -math.inf,
        end: float = math.inf,
        count: int | None = None,
        after: bool = False,
        collections: Iterable[str] = (),
        operations: Iterable[str] = (),
    ) -> Outage:
        """Fail the covered operations from ``start`` to ``end`` (plan clock), or ``count`` of them.

        With neither ``end`` nor ``count`` it lasts until :meth:`heal`; several ``errors``
        take turns; ``after`` lets the operation reach the database first.
        """
        outage = Outage(
            errors=_tuple(errors),
            scope=_scope(collections, operations),
            after=after,
            start=start,
            end=end,
            remaining=count,
        )
        self.outages.append(outage)
        return outage

    def random_faults(
        self,
        probability: float,
        *,
        errors: Errors = ROTATION,
        seed: int | None = None,
        after: bool = False,
        collections: Iterable[str] = (),
        operations: Iterable[str] = (),
    ) -> RandomFaults:
        """Fail each covered operation with ``probability``, reproducibly from ``seed``."""
        faults = RandomFaults(
            errors=_tuple(errors),
            scope=_scope(collections, operations),
            after=after,
            probability=probability,
            rng=random.Random(self.seed if seed is None else seed),
        )
        self.random.append(faults)
        return faults

    def slow(
        self, delay: float, *, collections: Iterable[str] = (), operations: Iterable[str] = ()
    ) -> Slowness:
        """Add ``delay`` seconds to each covered operation."""
        slowness = Slowness(delay, _scope(collections, operations))
        self.slowness.append(slowness)
        return slowness

    def heal(self) -> None:
        """End every outage, random fault and delay: the database answers normally again."""
        self.outages.clear()
        self.random.clear()
        self.slowness.clear()

    def kill_open_cursors(self) -> None:
        """A failover: every cursor opened so far fails its next getMore."""
        self.generation += 1

    async def enter(self, collection: str, operation: str) -> Fault | None:
        """Delay ``operation``, then raise a fault due before it; return one due after it."""
        delay = sum(s.delay for s in self.slowness if s.scope.covers(collection, operation))
        if delay > 0:
            self.record.delays[operation] += 1
            self.record.delayed_s += delay
            await self.sleep(delay)
        fault = self._draw(collection, operation)
        if fault is not None and not fault.after:
            raise fault.error
        return fault

    def _draw(self, collection: str, operation: str) -> Fault | None:
        now = self.now()
        # Every random source draws for every operation it covers, so its schedule
        # depends only on its seed and the sequence of operations, not on outages.
        hit = [s for s in self.random if s.scope.covers(collection, operation) and s.hits()]
        down = [o for o in self.outages if o.active(now) and o.scope.covers(collection, operation)]
        source: Outage | RandomFaults | None = (down or hit or [None])[0]
        if source is None:
            return None
        error = make_error(source.next_error(), collection, operation)
        self.record.add(error, operation)
        return Fault(error, source.after)

    def cursor_gone(self, *, last_batch_at: float, generation: int, idle_expires: bool) -> bool:
        """Whether a cursor whose last batch came at ``last_batch_at`` was removed since."""
        if generation != self.generation:
            return True
        return idle_expires and self.now() - last_batch_at > self.cursor_idle_timeout

    def cursor_killed(self) -> CursorNotFound:
        """Record and return the error for a getMore on a removed cursor."""
        error = cursor_not_found(next(self._cursor_ids))
        self.record.add(error, GET_MORE)
        return error
