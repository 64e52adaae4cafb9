"""The MongoDB lease and the leadership loop over it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import AutoReconnect

from bot.storage.mongo import Database
from scheduler.lease import Leadership, MongoLease, utc_now

TTL = timedelta(seconds=30)
# Leadership tests run on the real clock: a short ttl keeps take-overs quick.
SHORT_TTL = timedelta(seconds=1.0)  # room for a busy machine: renewals can be late
RENEW_S = 0.1


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lease_for(db: Database, clock: FakeClock) -> Callable[[str], MongoLease]:
    return lambda holder: MongoLease(db["leases"], "scheduler", holder, TTL, clock)


async def test_first_acquires_and_second_is_refused(lease_for: Callable[[str], MongoLease]) -> None:
    first, second = lease_for("a"), lease_for("b")
    assert await first.acquire()
    assert not await second.acquire()
    assert await first.holder() == "a"


async def test_holder_renews_its_lease(
    lease_for: Callable[[str], MongoLease], clock: FakeClock
) -> None:
    first, second = lease_for("a"), lease_for("b")
    assert await first.acquire()
    clock.advance(TTL * 0.9)
    assert await first.acquire()
    clock.advance(TTL * 0.9)  # past the first expiry, before the renewed one
    assert not await second.acquire()
    assert await second.holder() == "a"


async def test_expiry_lets_another_take_over(
    lease_for: Callable[[str], MongoLease], clock: FakeClock
) -> None:
    first, second = lease_for("a"), lease_for("b")
    assert await first.acquire()
    clock.advance(TTL)
    assert await first.holder() is None
    assert await second.acquire()
    assert not await first.acquire()
    assert await first.holder() == "b"


async def test_release_lets_another_take_it(lease_for: Callable[[str], MongoLease]) -> None:
    first, second = lease_for("a"), lease_for("b")
    assert await first.acquire()
    await second.release()  # not its lease: nothing happens
    assert await first.holder() == "a"
    await first.release()
    assert await first.holder() is None
    assert await second.acquire()


async def test_naive_clock_is_rejected(db: Database) -> None:
    lease = MongoLease(db["leases"], "scheduler", "a", TTL, datetime.utcnow)  # noqa: DTZ003
    with pytest.raises(ValueError, match="aware"):
        await lease.acquire()


class Member:
    """One instance taking part in the election, recording its callbacks."""

    def __init__(self, db: Database, holder: str, *, elected_fails: bool = False) -> None:
        self.lease = FlakyLease(db["leases"], "scheduler", holder, SHORT_TTL)
        self.elected, self.deposed = asyncio.Event(), asyncio.Event()
        self.calls: list[str] = []
        self.elected_fails = elected_fails
        self.leadership = Leadership(
            self.lease, renew_every=RENEW_S, on_elected=self.on_elected, on_deposed=self.on_deposed
        )

    async def on_elected(self) -> None:
        self.calls.append("elected")
        self.elected.set()
        if self.elected_fails:
            raise RuntimeError("scheduler did not start")

    async def on_deposed(self) -> None:
        self.calls.append("deposed")
        self.deposed.set()


class FlakyLease(MongoLease):
    """A MongoDB lease whose database can be made to fail."""

    failing = False

    async def acquire(self) -> bool:
        if self.failing:
            raise AutoReconnect("connection refused")
        return await super().acquire()


@pytest.fixture
async def members(db: Database) -> AsyncIterator[Callable[..., Member]]:
    made: list[Member] = []

    def make(holder: str, **options: bool) -> Member:
        made.append(Member(db, holder, **options))
        return made[-1]

    yield make
    for member in made:
        await member.leadership.stop()


def thief(db: Database) -> MongoLease:
    """A lease holder whose clock runs ahead: to it, every lease has expired."""
    return MongoLease(
        db["leases"], "scheduler", "thief", SHORT_TTL, lambda: utc_now() + SHORT_TTL * 2
    )


async def test_exactly_one_of_two_leads(members: Callable[..., Member]) -> None:
    a, b = members("a"), members("b")
    await asyncio.gather(a.leadership.start(), b.leadership.start())
    leader, other = (a, b) if a.leadership.is_leader else (b, a)
    assert (leader.leadership.is_leader, other.leadership.is_leader) == (True, False)
    await asyncio.sleep(RENEW_S * 1.5)  # let both renewal loops run once
    assert (leader.calls, other.calls) == (["elected"], [])
    assert await a.lease.holder() == leader.lease.identity


async def test_another_leads_once_the_leader_dies(members: Callable[..., Member]) -> None:
    a, b = members("a"), members("b")
    await a.leadership.start()
    await b.leadership.start()
    await a.leadership.abandon()
    async with asyncio.timeout(SHORT_TTL.total_seconds() + 2 * RENEW_S):
        await b.elected.wait()
    assert b.leadership.is_leader
    assert a.calls == ["elected"]  # a crash tells nobody


async def test_leader_is_deposed_when_its_lease_is_stolen(
    db: Database, members: Callable[..., Member]
) -> None:
    a = members("a")
    await a.leadership.start()
    assert a.leadership.is_leader
    assert await thief(db).acquire()
    async with asyncio.timeout(3 * RENEW_S):
        await a.deposed.wait()
    assert not a.leadership.is_leader
    assert a.calls == ["elected", "deposed"]


async def test_a_leader_that_cannot_start_its_work_steps_down_and_frees_the_lease(
    members: Callable[..., Member],
) -> None:
    a, b = members("a", elected_fails=True), members("b")

    await a.leadership.start()

    assert not a.leadership.is_leader
    assert a.calls == ["elected", "deposed"]
    assert await a.lease.holder() is None
    await b.leadership.start()
    assert b.leadership.is_leader


async def test_leader_steps_down_when_the_database_fails(members: Callable[..., Member]) -> None:
    a = members("a")
    await a.leadership.start()
    a.lease.failing = True
    async with asyncio.timeout(SHORT_TTL.total_seconds() + 2 * RENEW_S):
        await a.deposed.wait()
    a.elected.clear()
    a.lease.failing = False
    async with asyncio.timeout(SHORT_TTL.total_seconds() + 2 * RENEW_S):
        await a.elected.wait()
    assert a.calls == ["elected", "deposed", "elected"]


async def test_stop_deposes_then_releases(members: Callable[..., Member]) -> None:
    a, b = members("a"), members("b")
    await a.leadership.start()
    await a.leadership.stop()
    assert a.calls == ["elected", "deposed"]
    assert await a.lease.holder() is None
    await b.leadership.start()
    assert b.leadership.is_leader


async def test_renewal_must_be_well_within_the_ttl(db: Database) -> None:
    lease = MongoLease(db["leases"], "scheduler", "a", SHORT_TTL)

    async def nothing() -> None:
        return None

    with pytest.raises(ValueError, match="renew_every"):
        Leadership(lease, renew_every=0.5, on_elected=nothing, on_deposed=nothing)


async def test_a_leader_rides_out_a_short_database_outage(db: Database) -> None:
    lease = FlakyLease(db["leases"], "scheduler", "a", timedelta(seconds=2))
    calls: list[str] = []

    async def elected() -> None:
        calls.append("elected")

    async def deposed() -> None:
        calls.append("deposed")

    leadership = Leadership(lease, renew_every=RENEW_S, on_elected=elected, on_deposed=deposed)
    await leadership.start()
    try:
        lease.failing = True
        await asyncio.sleep(5 * RENEW_S)  # several failed renewals, well within the lease
        lease.failing = False
        await asyncio.sleep(2 * RENEW_S)
        assert leadership.is_leader
        assert calls == ["elected"]
    finally:
        await leadership.stop()
