"""The broadcast queue: one broadcast at a time, oldest first, resumed after a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from hydrogram.enums import ParseMode

from bot.admin.queue import UNEXPECTED, BroadcastQueue
from bot.admin.status import StatusMessage
from bot.app import Core
from bot.delivery.content import TextContent
from bot.delivery.ports import ProgressCallback
from bot.delivery.report import Summary
from bot.delivery.service import Audience
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.support import ADMIN, make_core, receipts, seed


class AdminChat:
    """What the handlers do: a status message per broadcast, the summary at the end."""

    def __init__(self, core: Core, sim: TelegramSimulator) -> None:
        self.core, self.sim = core, sim
        self.statuses: dict[str, StatusMessage] = {}
        self.summaries: list[Summary] = []

    async def status_for(self, doc: dict[str, Any]) -> ProgressCallback | None:
        bid = str(doc["_id"])
        status = StatusMessage.from_document(self.sim, doc)
        if status is None:
            message = await self.sim.send_message(
                ADMIN, f"Starting {bid}", parse_mode=ParseMode.DISABLED
            )
            await self.core.store.set_progress_message(bid, ADMIN, message.id)
            status = StatusMessage(self.sim, ADMIN, message.id, bid)
        self.statuses[bid] = status
        return status

    async def on_finished(self, summary: Summary) -> None:
        await self.statuses[summary.broadcast_id].finish(summary)
        self.summaries.append(summary)

    async def finished(self, count: int) -> list[Summary]:
        await until(lambda: len(self.summaries) >= count)
        return self.summaries


async def until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (simulator counters have no event to wait on), up to 5 s."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("condition not met within 5 s")


async def queued(core: Core, text: str, audience: Audience | None = None) -> str:
    return await core.service.create(
        TextContent(text), audience or Audience(query={}), admin_id=ADMIN
    )


def fast_core(db: Database, sim: TelegramSimulator, rate: float = 1000) -> Core:
    return make_core(db, sim, rate=rate, control_poll_s=0.05, progress_min_interval_s=0)


async def test_two_broadcasts_run_one_after_the_other(db: Database, sim: TelegramSimulator) -> None:
    users = await seed(db, sim, range(100, 140))
    core = fast_core(db, sim, rate=400)
    admin = AdminChat(core, sim)
    queue = BroadcastQueue(core, admin.status_for, admin.on_finished)
    await queue.start()
    try:
        first, second = await queued(core, "first"), await queued(core, "second")
        assert await queue.submit(first) == 0
        assert await queue.submit(second) == 1
        await until(lambda: queue.current == first)
        assert queue.ahead_of(second) == 1
        summaries = await admin.finished(2)
    finally:
        await queue.stop()

    assert [s.broadcast_id for s in summaries] == [first, second]
    assert all((s.status, s.sent) == ("completed", len(users)) for s in summaries)
    assert set(receipts(sim, users).values()) == {2}
    got = [m for u in users for m in sim.inbox(u)]
    # Private chats share one message id sequence: ids give the global order of delivery.
    last_of_first = max(m.message_id for m in got if m.text == "first")
    first_of_second = min(m.message_id for m in got if m.text == "second")
    assert last_of_first < first_of_second
    statuses = sim.inbox(ADMIN)
    assert len(statuses) == 2
    assert all((m.text or "").startswith("✅ BROADCAST COMPLETED") for m in statuses)
    assert all(m.edited and m.buttons == () for m in statuses)
    for bid in (first, second):
        assert (await core.store.get(bid))["status"] == "completed"
    assert queue.current is None


async def test_positions_and_a_broadcast_cancelled_while_queued_is_skipped(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 160))
    core = fast_core(db, sim, rate=300)
    admin = AdminChat(core, sim)
    queue = BroadcastQueue(core, admin.status_for, admin.on_finished)
    await queue.start()
    try:
        ids = [await queued(core, text) for text in ("one", "two", "three")]
        assert [await queue.submit(bid) for bid in ids] == [0, 1, 2]
        assert queue.ahead_of("bc_unknown") is None
        assert await core.service.cancel(ids[1], by=ADMIN)
        summaries = await admin.finished(2)
        await asyncio.sleep(0.05)  # room for a wrong third run to show up
        assert await queue.submit(ids[0]) is None  # finished: not waiting any more
    finally:
        await queue.stop()

    assert [s.broadcast_id for s in admin.summaries] == [ids[0], ids[2]]
    assert all(s.sent == len(users) for s in summaries)
    texts = {m.text for u in users for m in sim.inbox(u)}
    assert texts == {"one", "three"}
    skipped = await core.store.get(ids[1])
    assert skipped["status"] == "cancelled"
    assert "started_at" not in skipped
    assert await db["deliveries"].count_documents({"broadcast_id": ids[1]}) == 0
    assert len(sim.inbox(ADMIN)) == 2


async def test_restart_resumes_the_interrupted_broadcast_without_repeats(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 300))
    first_core = fast_core(db, sim, rate=400)
    before = AdminChat(first_core, sim)
    queue = BroadcastQueue(first_core, before.status_for, before.on_finished)
    await queue.start()
    bid = await queued(first_core, "news")
    await queue.submit(bid)
    await until(lambda: sim.sent_total >= 40)
    await queue.stop()  # the process exits mid-run
    interrupted_at = sim.sent_total
    assert 0 < interrupted_at < len(users)
    assert (await first_core.store.get(bid))["status"] == "running"
    assert before.summaries == []

    core = fast_core(db, sim)
    after = AdminChat(core, sim)
    restarted = BroadcastQueue(core, after.status_for, after.on_finished)
    await restarted.start()
    try:
        (summary,) = await after.finished(1)
    finally:
        await restarted.stop()

    counts = receipts(sim, users)
    assert max(counts.values()) == 1, "someone got the message twice"
    in_doubt = {r["user_id"] async for r in db["deliveries"].find({"status": "sending"})}
    assert all(counts[u] == 1 for u in users if u not in in_doubt), "someone was skipped"
    assert (summary.broadcast_id, summary.status) == (bid, "completed")
    assert summary.sent + summary.unknown == summary.total == len(users)
    (status,) = sim.inbox(ADMIN)  # the same status message, found on the document
    assert (status.text or "").startswith("✅ BROADCAST COMPLETED")
    assert status.buttons == ()


async def test_queued_before_a_restart_runs_after_it(db: Database, sim: TelegramSimulator) -> None:
    users = await seed(db, sim, range(100, 110))
    core = fast_core(db, sim)
    bid = await queued(core, "waiting")  # confirmed, then the process exited
    admin = AdminChat(core, sim)
    queue = BroadcastQueue(core, admin.status_for, admin.on_finished)
    await queue.start()
    try:
        (summary,) = await admin.finished(1)
    finally:
        await queue.stop()
    assert (summary.broadcast_id, summary.sent) == (bid, len(users))


async def test_failing_callbacks_never_stop_the_runner(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 110))
    core = fast_core(db, sim)
    finished: list[str] = []

    async def no_status(doc: dict[str, Any]) -> ProgressCallback | None:
        raise ConnectionError("admin chat unreachable")

    async def failing(summary: Summary) -> None:
        finished.append(summary.broadcast_id)
        raise RuntimeError("handler bug")

    queue = BroadcastQueue(core, no_status, failing, retry_first_s=0.01)
    await queue.start()
    try:
        ids = [await queued(core, text) for text in ("a", "b")]
        for bid in ids:
            await queue.submit(bid)
        await until(lambda: len(finished) == 2)
    finally:
        await queue.stop()
    assert finished == ids
    assert set(receipts(sim, users).values()) == {2}


async def test_start_twice_runs_one_runner(db: Database, sim: TelegramSimulator) -> None:
    core = fast_core(db, sim)
    admin = AdminChat(core, sim)
    queue = BroadcastQueue(core, admin.status_for)
    await queue.start()
    runner = queue._task
    try:
        await queue.start()  # a second election: the runner that runs stays
        assert queue._task is runner
    finally:
        await queue.stop()


async def test_a_run_that_raises_is_logged_and_the_next_one_runs(
    db: Database, sim: TelegramSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    users = await seed(db, sim, range(100, 110))
    core = fast_core(db, sim)
    admin = AdminChat(core, sim)

    async def vanishing(doc: dict[str, Any]) -> ProgressCallback | None:
        if doc["message_text"] == "doomed":  # the document disappears under the run
            await db["broadcasts"].delete_one({"_id": doc["_id"]})
            return None
        return await admin.status_for(doc)

    told: list[tuple[str, str]] = []

    async def trouble(broadcast_id: str, what: str) -> None:
        told.append((broadcast_id, what))

    queue = BroadcastQueue(
        core, vanishing, admin.on_finished, on_trouble=trouble, retry_first_s=0.01
    )
    await queue.start()
    try:
        doomed, fine = await queued(core, "doomed"), await queued(core, "fine")
        await queue.submit(doomed)
        await queue.submit(fine)
        (summary,) = await admin.finished(1)
    finally:
        await queue.stop()
    assert (summary.broadcast_id, summary.sent) == (fine, len(users))
    assert {m.text for u in users for m in sim.inbox(u)} == {"fine"}
    assert any("the run failed; it is retried" in r.message for r in caplog.records)
    # The admin is told a category; the exception (its type and text) is in the log only.
    assert set(told) == {(doomed, UNEXPECTED)}  # in words; the exception's text: logged
    failure = next(r for r in caplog.records if "the run failed" in r.message)
    assert failure.exc_info is not None
