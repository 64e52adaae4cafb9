"""The send pipeline end to end: simulator at the Telegram seam, MongoDB behind the ledger.

These run in real time, kept short with high rates and fast polling; the few
that take seconds do so because Telegram's FloodWait is whole seconds.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.app import Core
from bot.delivery.content import ParseMode, TextContent, content_to_document
from bot.delivery.policy import ProgressSnapshot
from bot.delivery.report import summary_text
from bot.delivery.service import Audience, TestMode
from bot.demo.simulator import TelegramSimulator, UserState
from bot.storage.mongo import Database
from tests.support import ADMIN, ProgressLog, broadcast, create_running, make_core, receipts, seed


async def test_text_reaches_every_active_user_once(db: Database, sim: TelegramSimulator) -> None:
    users = await seed(db, sim, range(100, 400))
    core = make_core(db, sim)
    bid, summary = await broadcast(core)
    assert set(receipts(sim, users).values()) == {1}
    assert sim.inbox(users[0])[0].text == "Hello everyone"
    assert (summary.status, summary.total, summary.sent, summary.failed) == (
        "completed",
        300,
        300,
        0,
    )
    doc = await core.store.get(bid)
    assert (doc["status"], doc["sent_count"], doc["total_users"]) == ("completed", 300, 300)
    rows = db["deliveries"].find({"broadcast_id": bid})
    assert {(r["status"], r["message_id"] is not None) async for r in rows} == {("sent", True)}


async def test_each_error_category_is_recorded(db: Database, sim: TelegramSimulator) -> None:
    ok = await seed(db, sim, range(100, 120))
    await seed(db, sim, [201, 202], UserState.BLOCKED)
    await seed(db, sim, [301], UserState.DEACTIVATED)
    never = await seed(db, sim, [401], UserState.NEVER_STARTED)
    sim.fail_next(ok[0], error_message="CHAT_WRITE_FORBIDDEN", error_code=403)
    sim.fail_next(ok[1], error_message="MESSAGE_TOO_LONG", error_code=400)
    sim.fail_next(ok[2], error_message="RPC_CALL_FAIL", error_code=500, times=None)
    sim.fail_next(ok[3], exception=AttributeError("'NoneType' object has no attribute 'x'"))
    sim.fail_next(ok[4], error_message="RPC_CALL_FAIL", error_code=500, times=2)
    core = make_core(db, sim)
    bid, summary = await broadcast(core)
    assert summary.errors == {
        "blocked": 2,
        "deactivated": 1,
        "invalid": 1,
        "forbidden": 1,
        "content": 1,
        "transient": 1,
        "unknown": 1,
    }
    assert summary.sent == len(ok) - 4  # ok[4] got through on its third attempt
    assert receipts(sim, [ok[4]]) == {ok[4]: 1}
    retried = await db["deliveries"].find_one({"broadcast_id": bid, "user_id": ok[2]})
    assert (retried["status"], retried["attempts"]) == ("failed", 3)
    assert summary.status == "completed"
    assert len(never) == 1


async def test_unreachable_users_are_marked_never_deleted(
    db: Database, sim: TelegramSimulator
) -> None:
    await seed(db, sim, range(100, 110))
    await seed(db, sim, [201], UserState.BLOCKED)
    await seed(db, sim, [301], UserState.DEACTIVATED)
    await broadcast(make_core(db, sim))
    assert await db["users"].count_documents({}) == 12
    blocked = await db["users"].find_one({"user_id": 201})
    gone = await db["users"].find_one({"user_id": 301})
    active = await db["users"].find_one({"user_id": 100})
    assert "bot_blocked_at" in blocked
    assert "deactivated_at" not in blocked
    assert "deactivated_at" in gone
    assert "bot_blocked_at" not in active
    assert "deactivated_at" not in active


async def test_flood_wait_pauses_all_workers_and_nobody_gets_two(
    db: Database, sim: TelegramSimulator
) -> None:
    slow = TelegramSimulator("slow", telegram_limit=10, clock=asyncio.get_running_loop().time)
    await slow.start()
    try:
        users = await seed(db, slow, range(100, 150))
        core = make_core(db, slow, rate=40, concurrency=8)
        _, summary = await broadcast(core)
    finally:
        await slow.stop()
    assert set(receipts(slow, users).values()) == {1}
    assert summary.sent == 50
    assert slow.flood_waits >= 1
    # Workers that ignored the pause would hit the flood period over and over.
    assert slow.flood_waits <= 3 * 8
    assert core.throttle.limiter.rate < 40
    # every send reported its latency once: 50 answers and the FloodWait'ed attempts
    assert core.throttle.limiter.latency.count == 50 + slow.flood_waits


async def test_every_answer_reaches_the_limiter(db: Database, sim: TelegramSimulator) -> None:
    await seed(db, sim, range(100, 130))
    await seed(db, sim, [201], UserState.BLOCKED)
    core = make_core(db, sim)
    await broadcast(core)
    assert core.throttle.limiter.latency.count == 31


async def test_content_rejected_by_telegram_stops_early(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 1100))
    for uid in users:
        sim.fail_next(uid, error_message="ENTITY_BOUNDS_INVALID", error_code=400, times=None)
    core = make_core(db, sim, concurrency=4)
    bid, summary = await broadcast(core)
    assert summary.status == "failed"
    assert summary.stop_reason
    assert "ENTITY_BOUNDS_INVALID" in summary.stop_reason
    assert summary.failed <= 3 + 4
    assert summary.not_sent >= 1000 - 3 - 4
    assert await core.ledger.tally(bid) == await core.ledger.tally(bid)
    assert (await core.ledger.tally(bid)).sending == 0


async def test_content_invalid_before_sending_sends_nothing(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 110))
    core = make_core(db, sim)
    too_long = TextContent("<b>" + "x" * 4097 + "</b>", ParseMode.HTML)
    _, summary = await broadcast(core, too_long)
    assert summary.status == "failed"
    assert summary.stop_reason
    assert "4096" in summary.stop_reason
    assert sum(receipts(sim, users).values()) == 0


async def test_markup_does_not_count_toward_the_length(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, [100])
    _, summary = await broadcast(make_core(db, sim), TextContent("<b>" + "x" * 4096 + "</b>"))
    assert summary.sent == 1
    assert receipts(sim, users) == {100: 1}


async def test_pause_yields_resume_continues_cancel_acts_within_a_second(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 400))
    core = make_core(db, sim, rate=100, concurrency=4, control_poll_s=0.05)
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.sleep(0.3)
    assert await core.service.pause(bid, by=ADMIN)
    paused = await asyncio.wait_for(run, 1)  # the run gives the sender up
    paused_at = sim.sent_total
    assert (paused.status, paused.sent) == ("paused", paused_at)
    assert (await core.ledger.tally(bid)).sending == 0, "claims go back to pending"
    await asyncio.sleep(0.3)
    assert sim.sent_total == paused_at, "sent while paused"

    assert await core.service.resume(bid, by=ADMIN)
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.sleep(0.3)
    assert sim.sent_total > paused_at
    assert await core.service.cancel(bid, by=ADMIN)
    summary = await asyncio.wait_for(run, 1)
    cancelled_at = sim.sent_total
    await asyncio.sleep(0.1)
    assert sim.sent_total == cancelled_at
    assert summary.status == "cancelled"
    assert summary.sent == cancelled_at
    assert max(receipts(sim, users).values()) == 1
    assert summary.not_sent == len(users) - summary.sent - summary.failed
    tally = await core.ledger.tally(bid)
    assert (tally.sending, tally.pending, tally.sent) == (0, summary.not_sent, summary.sent)
    doc = await core.store.get(bid)
    audit = [(a["action"], a["by"]) for a in doc["audit"]]
    assert audit == [
        ("created", ADMIN),
        ("started", ADMIN),
        ("paused", ADMIN),
        ("resumed", ADMIN),
        ("cancelled", ADMIN),
        ("stopped", None),  # the run's own record of how it ended
    ]


async def crash_mid_run(core: Core, bid: str, after_s: float) -> None:
    """Stop a run as a crash would: its clean-up is cut short (a second cancel)."""
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.sleep(after_s)
    run.cancel()
    await asyncio.sleep(0)  # the run starts winding down...
    run.cancel()  # ...and dies before it can
    with pytest.raises(asyncio.CancelledError):
        await run


@pytest.mark.parametrize(("window_s", "doubt"), [(3600.0, "retried"), (0.0, "unknown")])
async def test_crash_mid_run_then_resume_sends_nobody_twice_and_skips_nobody(
    db: Database, sim: TelegramSimulator, window_s: float, doubt: str
) -> None:
    users = await seed(db, sim, range(100, 700))
    first = make_core(db, sim, rate=300, concurrency=8)
    bid = await create_running(first)
    await crash_mid_run(first, bid, 0.8)
    before = sim.sent_total
    assert 0 < before < len(users)
    left_in_doubt = await db["deliveries"].count_documents({"status": "sending"})
    assert 0 < left_in_doubt <= 8

    restarted = make_core(db, sim, rate=1000, concurrency=8, in_doubt_window_s=window_s)
    assert await restarted.service.interrupted() == [bid]
    summary = await restarted.service.run(bid)

    counts = receipts(sim, users)
    assert max(counts.values()) == 1, "someone got the message twice"
    in_doubt = {r["user_id"] async for r in db["deliveries"].find({"status": "sending"})}
    assert all(counts[u] == 1 for u in users if u not in in_doubt), "someone was skipped"
    assert summary.sent + summary.failed + summary.unknown == summary.total == len(users)
    assert summary.status == "completed"
    if doubt == "retried":  # sent again with the same random_id: Telegram refused repeats
        assert (summary.unknown, len(in_doubt), summary.sent) == (0, 0, len(users))
    else:  # strict at-most-once: in doubt stays unknown, never resent
        assert len(in_doubt) == summary.unknown == left_in_doubt
    tally = await restarted.ledger.tally(bid)
    assert (tally.sent, tally.failed, tally.sending, tally.pending) == (
        summary.sent,
        summary.failed,
        summary.unknown,
        0,
    )


async def test_a_clean_stop_leaves_nobody_in_doubt(db: Database, sim: TelegramSimulator) -> None:
    users = await seed(db, sim, range(100, 700))
    first = make_core(db, sim, rate=300, concurrency=8, in_doubt_window_s=0.0)
    bid = await create_running(first)
    run = asyncio.create_task(first.service.run(bid))
    await asyncio.sleep(0.5)
    run.cancel()  # a deploy: bot.stop()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert 0 < sim.sent_total < len(users)
    assert await db["deliveries"].count_documents({"status": "sending"}) == 0
    assert (await first.store.get(bid))["status"] == "running"

    summary = await make_core(db, sim, in_doubt_window_s=0.0).service.run(bid)
    assert (summary.status, summary.sent, summary.unknown) == ("completed", len(users), 0)
    assert set(receipts(sim, users).values()) == {1}


async def test_sending_starts_before_a_large_snapshot_is_written(
    db: Database, sim: TelegramSimulator
) -> None:
    await seed(db, sim, range(100, 3100))
    sent_while_writing: list[int] = []

    async def progress(snap: ProgressSnapshot) -> None:
        doc = await db["broadcasts"].find_one({"_id": snap.broadcast_id})
        if not doc.get("snapshot_complete"):
            sent_while_writing.append(snap.sent)

    core = make_core(
        db, sim, rate=1000, progress_every=1, snapshot_batch=100, progress_min_interval_s=0.0
    )
    bid = await create_running(core)
    summary = await core.service.run(bid, progress)
    failed = [r async for r in db["deliveries"].find({"status": "failed"})]
    assert summary.sent == 3000, failed
    assert any(sent > 0 for sent in sent_while_writing)


async def test_a_cancel_before_the_snapshot_is_written_counts_the_whole_audience(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 1100))
    core = make_core(db, sim, rate=200, concurrency=4, snapshot_batch=50, control_poll_s=0.05)
    bid = await create_running(core)
    run = asyncio.create_task(core.service.run(bid))
    await asyncio.sleep(0.3)  # some sent, the snapshot two pages ahead of them at most
    assert await core.service.cancel(bid, by=ADMIN)
    summary = await asyncio.wait_for(run, 1)

    tally = await core.ledger.tally(bid)
    assert 0 < tally.total < len(users), "the cancel came before the snapshot was written"
    assert summary.total == len(users)
    assert summary.not_sent == len(users) - summary.sent - summary.failed
    assert (await core.store.get(bid))["total_users"] == len(users)


async def test_progress_reports_are_throttled(db: Database, sim: TelegramSimulator) -> None:
    await seed(db, sim, range(100, 400))
    log = ProgressLog()
    core = make_core(db, sim, rate=150, progress_every=10, progress_min_interval_s=0.4)
    bid = await create_running(core)
    await core.service.run(bid, log)
    assert len(log.snaps) >= 3
    assert all(b - a >= 0.4 for a, b in zip(log.at, log.at[1:], strict=False))
    done = [s.done for s in log.snaps]
    assert all(b - a >= 10 for a, b in zip(done, done[1:], strict=False))
    last = log.snaps[-1]
    assert last.rate > 0
    assert last.eta_s is not None


async def test_test_mode_sends_to_test_users_only(db: Database, sim: TelegramSimulator) -> None:
    users = await seed(db, sim, range(100, 200))
    core = make_core(db, sim, test_mode=TestMode(True, (100, 101)))
    bid, summary = await broadcast(core, audience=Audience(query={}))
    assert summary.total == 2
    assert sum(receipts(sim, users).values()) == 2
    doc = await core.store.get(bid)
    assert doc["test_mode"] is True
    assert doc["requested_target"]["filter"] == {}


async def test_broadcast_document_records_what_history_needs(
    db: Database, sim: TelegramSimulator
) -> None:
    await seed(db, sim, range(100, 105))
    core = make_core(db, sim)
    content = TextContent("Sale <b>today</b>", ParseMode.HTML)
    bid, _ = await broadcast(core, content, Audience(query={"lang": "de"}, description="German"))
    await core.store.set_progress_message(bid, ADMIN, 42)
    doc = await core.store.get(bid)
    assert doc["schema_version"] == 1
    assert doc["content"] == content_to_document(content)
    assert doc["message_text"] == "Sale <b>today</b>"
    assert doc["target"] == {"filter": {"lang": "de"}, "description": "German"}
    assert doc["progress_message"] == {"chat_id": ADMIN, "message_id": 42}
    assert doc["admin_id"] == ADMIN
    for field in ("created_at", "started_at", "completed_at", "duration_seconds"):
        assert doc[field] is not None


async def test_an_unreadable_audience_stops_the_run_instead_of_hanging(
    db: Database, sim: TelegramSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(db, sim, range(100, 105))
    core = make_core(db, sim)
    with caplog.at_level(logging.ERROR, logger="bot.delivery.run"):
        bid, summary = await broadcast(core, audience=Audience(query={"$bogus": 1}))
    assert summary.status == "failed"
    # The admin reads a category; the driver's text (naming the query) is in the log only.
    reason = "the audience could not be read: an unexpected error (details in the log)"
    assert summary.stop_reason == reason
    assert (await db["broadcasts"].find_one({"_id": bid}))["stop_reason"] == reason
    assert "$bogus" not in summary_text(summary)
    assert "$bogus" in caplog.text


async def test_a_paused_broadcast_is_not_sent_until_resumed(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 150))
    core = make_core(db, sim, control_poll_s=0.05)
    bid = await create_running(core)
    assert await core.service.pause(bid, by=ADMIN)
    paused = await asyncio.wait_for(core.service.run(bid), 1)
    assert (paused.status, sum(receipts(sim, users).values())) == ("paused", 0)
    assert await core.service.resume(bid, by=ADMIN)
    summary = await asyncio.wait_for(core.service.run(bid), 10)
    assert summary.sent == 50
