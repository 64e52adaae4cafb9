"""The installed bot under faults: deploys mid-broadcast, a job store that dies after start,
a database that is down while people write to the bot, and one that blips while the bot starts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.demo.simulator import TelegramSimulator
from bot.storage.faulty import FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.mongo import Database
from scheduler.jobs import in_memory_job_store
from tests.botkit import (
    ADMIN,
    ShiftedClock,
    broadcast_id,
    confirmation,
    eventually,
    last,
    press,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

USERS = list(range(9000, 9060))
OUTSIDER = 3_000_002


def copies(sim: TelegramSimulator, text: str) -> list[int]:
    return [texts(sim, uid).count(text) for uid in USERS]


async def sending(sim: TelegramSimulator, command: str) -> str:
    confirm = await confirmation(sim, command)
    await press(sim, confirm, "Send now")
    bid = broadcast_id(confirm)

    async def some_sent() -> bool:
        return sum(copies(sim, command.split(maxsplit=1)[1])) >= 10

    await eventually(some_sent)
    return bid


async def launch_on_faulty(db: Database, launch: Launch, **options: Any) -> FaultPlan:
    """A bot on ``db`` behind the fault injector; the plan that injects its faults."""
    plan = FaultPlan(clock=asyncio.get_running_loop().time)
    await launch(database=FaultyDatabase(db, plan), **options)
    return plan


async def in_doubt(db: Database, bid: str) -> int:
    found: int = await db["deliveries"].count_documents({"broadcast_id": bid, "status": "sending"})
    return found


async def test_a_deploy_mid_broadcast_loses_nobody(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    bot = await launch(rate=30)
    bid = await sending(sim, "/broadcast Deployed")
    await bot.stop()  # the deploy: the process stops cleanly
    assert await in_doubt(db, bid) == 0, "a clean stop left recipients in doubt"
    assert 10 <= sum(copies(sim, "Deployed")) < len(USERS)

    await launch(rate=1000)  # the new version starts
    doc = await wait_status(db, bid, "completed")
    assert copies(sim, "Deployed") == [1] * len(USERS)
    assert (doc["sent_count"], doc.get("unknown_count", 0)) == (len(USERS), 0)


async def test_a_handover_between_instances_loses_nobody(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    leader = await launch(holder="a", rate=30)
    standby = await launch(holder="b", rate=30)
    bid = await sending(sim, "/broadcast Handed over")
    await leader.stop()  # releases the lease: the standby takes over at its next attempt

    async def standby_leads() -> bool:
        return standby.scheduler is not None and standby.scheduler.is_leader

    await eventually(standby_leads)
    doc = await wait_status(db, bid, "completed")
    assert copies(sim, "Handed over") == [1] * len(USERS)
    assert (doc["sent_count"], doc.get("unknown_count", 0)) == (len(USERS), 0)


class BreakableStores:
    """In-memory job stores that can be broken after the scheduler started with them."""

    def __init__(self) -> None:
        self.broken = False
        self._make = in_memory_job_store()

    def __call__(self) -> Any:
        store = self._make()
        for name in ("get_due_jobs", "get_next_run_time", "get_all_jobs", "add_job", "update_job"):
            setattr(store, name, self._guard(getattr(store, name)))
        return store

    def _guard(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if self.broken:
                raise ConnectionError("the job store's MongoDB went away")
            return method(*args, **kwargs)

        return call


async def test_a_job_store_failing_after_start_still_lets_the_sweep_fire(
    sim: TelegramSimulator, db: Database, launch: Launch, clock: ShiftedClock
) -> None:
    await seed(db, sim, USERS)
    stores = BreakableStores()
    bot = await launch(jobs=stores)
    assert bot.scheduler is not None

    async def started() -> bool:
        return bot.scheduler is not None and bot.scheduler.jobs is not None

    await eventually(started)
    stores.broken = True  # APScheduler is running; its store fails from now on
    await sim.feed_message(ADMIN, "/broadcast --at 'in 1 hour' While broken")
    assert await press(sim, last(sim), "Schedule") == "🗓 Scheduled"
    bid = broadcast_id(last(sim))
    clock.advance(timedelta(hours=1, seconds=1))

    await wait_status(db, bid, "completed")
    assert copies(sim, "While broken") == [1] * len(USERS)


async def test_while_the_database_is_down_nobody_sees_its_internals(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    sim.add_user(OUTSIDER)
    plan = await launch_on_faulty(db, launch, record_users=True)
    plan.outage(collections=["users", "broadcasts", "broadcast_admins"])

    await sim.feed_message(OUTSIDER, "/broadcast Hello")
    await sim.feed_message(OUTSIDER, "/start")
    await sim.feed_message(ADMIN, "/broadcast_history")
    await sim.feed_message(ADMIN, "/broadcast Hi all")

    outsider, admin = texts(sim, OUTSIDER), texts(sim, ADMIN)
    assert outsider[0] == "⚠️ Sorry, that did not work. Please try again in a little while."
    assert all(text.startswith("⚠️ The database cannot be reached") for text in admin)
    for text in [*outsider, *admin]:
        assert "AutoReconnect" not in text
        assert "injected" not in text
        assert "connection closed" not in text
    plan.heal()
    await sim.feed_message(ADMIN, "/broadcast_history")
    assert not texts(sim, ADMIN)[-1].startswith("⚠️")


async def test_a_button_pressed_while_the_database_is_down_is_answered_and_changes_nothing(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    plan = await launch_on_faulty(db, launch)
    confirm = await confirmation(sim, "/broadcast Pressed while down")
    plan.outage(collections=["broadcasts"])

    answer = await press(sim, confirm, "Send now")

    assert answer == "⚠️ That did not work; nothing was changed."  # the spinner stops
    assert texts(sim, ADMIN)[-1].startswith("⚠️ The database cannot be reached")
    plan.heal()
    stored = await db["broadcasts"].find_one({"_id": broadcast_id(confirm)})
    assert stored is not None
    assert stored["status"] == "draft"
    assert copies(sim, "Pressed while down") == [0] * len(USERS)


async def test_a_start_during_a_database_blip_waits_it_out(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    plan = FaultPlan(clock=asyncio.get_running_loop().time)
    blip = plan.outage(operations=["create_index"], count=3)  # a deploy during an election
    await launch(database=FaultyDatabase(db, plan))

    assert blip.remaining == 0
    assert "broadcast_status_user" in await db["deliveries"].index_information()
    bid = await sending(sim, "/broadcast After the blip")
    await wait_status(db, bid, "completed")
    assert copies(sim, "After the blip") == [1] * len(USERS)


async def test_a_personalised_preview_while_the_users_are_unreadable_names_no_internals(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    plan = await launch_on_faulty(db, launch)
    plan.outage(collections=["users"])

    await sim.feed_message(ADMIN, "/broadcast --preview Hi {first_name|there}")

    told = texts(sim, ADMIN)[-1]
    assert told.startswith("⚠️ The database cannot be reached"), told
    assert "AutoReconnect" not in told
