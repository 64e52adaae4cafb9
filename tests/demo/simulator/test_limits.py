"""The simulator's limits and faults: flood waits (global and per chat), transient failures,
scripted errors, latency."""

from __future__ import annotations

import time

import pytest
from hydrogram import errors, raw

from bot.demo.simulator import TelegramSimulator, UserState
from tests.demo.simulator.kit import (
    ALICE,
    BOB,
    CAROL,
    FakeClock,
    started,
)


async def test_global_limit_answers_flood_wait_without_sleeping(clock: FakeClock) -> None:
    sim = await started(clock, telegram_limit=2)
    try:
        await sim.send_message(ALICE, "1")
        await sim.send_message(BOB, "2")
        began = time.perf_counter()
        with pytest.raises(errors.FloodWait) as flood:
            await sim.send_message(CAROL, "3")
        assert time.perf_counter() - began < 0.5  # hydrogram would have slept 1 s
        assert flood.value.value == 1
        clock.advance(1.0)
        await sim.send_message(CAROL, "3")
    finally:
        await sim.stop()

    assert sim.flood_waits == 1
    assert sim.received_counts() == {ALICE: 1, BOB: 1, CAROL: 1}


async def test_per_chat_flood_period_persists_for_that_chat(
    sim: TelegramSimulator, clock: FakeClock
) -> None:
    for _ in range(3):
        await sim.send_message(ALICE, "burst")
        clock.advance(0.5)

    with pytest.raises(errors.FloodWait) as first:
        await sim.send_message(ALICE, "too many")
    clock.advance(1.0)
    with pytest.raises(errors.FloodWait) as second:
        await sim.send_message(ALICE, "still too soon")
    await sim.send_message(BOB, "other chats are fine")
    clock.advance(1.0)
    await sim.send_message(ALICE, "after the wait")

    assert (first.value.value, second.value.value) == (2, 1)
    assert sim.flood_waits == 2
    assert sim.received_counts() == {ALICE: 4, BOB: 1}


async def test_global_flood_period_blocks_every_chat(clock: FakeClock) -> None:
    sim = await started(clock, telegram_limit=1)
    try:
        await sim.send_message(ALICE, "1")
        clock.advance(0.5)
        with pytest.raises(errors.FloodWait):
            await sim.send_message(BOB, "2")
        clock.advance(0.6)  # the window has room again, but the flood period lasts 1 s
        with pytest.raises(errors.FloodWait):
            await sim.send_message(CAROL, "3")
        clock.advance(0.5)
        await sim.send_message(CAROL, "3")
    finally:
        await sim.stop()

    assert sim.flood_waits == 2


async def test_failed_sends_count_toward_the_limit(clock: FakeClock) -> None:
    sim = await started(clock, telegram_limit=2)
    sim.set_state(BOB, UserState.BLOCKED)
    try:
        for _ in range(2):
            with pytest.raises(errors.UserIsBlocked):
                await sim.send_message(BOB, "hi")
        with pytest.raises(errors.FloodWait):
            await sim.send_message(ALICE, "hi")
    finally:
        await sim.stop()


@pytest.mark.parametrize(
    ("kind", "error"), [("rpc", errors.InternalServerError), ("timeout", TimeoutError)]
)
async def test_transient_failure_is_not_recorded(
    clock: FakeClock, kind: str, error: type[Exception]
) -> None:
    sim = await started(clock, transient_failure_rate=1.0, transient_error=kind)
    try:
        with pytest.raises(error):
            await sim.send_message(ALICE, "lost")
    finally:
        await sim.stop()

    assert sim.inbox(ALICE) == []
    assert sim.sent_total == 0


async def test_transient_failures_follow_the_seed(clock: FakeClock) -> None:
    async def outcomes(seed: int) -> list[bool]:
        sim = await started(clock, transient_failure_rate=0.5, seed=seed, telegram_limit=1000)
        delivered = []
        try:
            for user_id in range(1000, 1020):
                sim.add_user(user_id)
                try:
                    await sim.send_message(user_id, "x")
                except errors.InternalServerError:
                    delivered.append(False)
                else:
                    delivered.append(True)
        finally:
            await sim.stop()
        return delivered

    first = await outcomes(seed=7)

    assert first == await outcomes(seed=7)
    assert True in first
    assert False in first


async def test_fail_next_raises_the_scripted_error_once(sim: TelegramSimulator) -> None:
    sim.fail_next(ALICE, error_message="MESSAGE_TOO_LONG", error_code=400)

    with pytest.raises(errors.MessageTooLong):
        await sim.send_message(ALICE, "first")
    await sim.send_message(ALICE, "second")

    assert [m.text for m in sim.inbox(ALICE)] == ["second"]


async def test_fail_next_can_raise_any_exception_every_time(sim: TelegramSimulator) -> None:
    sim.fail_next(ALICE, exception=AttributeError("hydrogram choked"), times=None)

    for _ in range(2):
        with pytest.raises(AttributeError, match="hydrogram choked"):
            await sim.send_message(ALICE, "x")

    assert sim.inbox(ALICE) == []


async def test_fail_next_request_fails_any_request_by_name(sim: TelegramSimulator) -> None:
    sim.fail_next_request("users.GetUsers", error_message="FLOOD_WAIT_300", error_code=420)
    look_up = raw.functions.users.GetUsers(id=[raw.types.InputUserSelf()])

    await sim.send_message(ALICE, "sends are not affected")
    with pytest.raises(errors.FloodWait) as flood:
        await sim.invoke(look_up)
    users = await sim.invoke(look_up)

    assert flood.value.value == 300
    assert sim.me is not None
    assert [u.id for u in users] == [sim.me.id]
    assert sim.request_counts["users.GetUsers"] == 2


async def test_latency_is_awaited(clock: FakeClock) -> None:
    sim = await started(clock, latency_ms=30)
    try:
        began = time.perf_counter()
        await sim.send_message(ALICE, "slow")
        elapsed = time.perf_counter() - began
    finally:
        await sim.stop()

    assert elapsed >= 0.029
