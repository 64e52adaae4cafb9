"""Retrying a finished broadcast end to end: exactly the eligible recipients, none twice,
and one answer to the question, only for a broadcast."""

from __future__ import annotations

from bot.demo.simulator import TelegramSimulator, UserState
from bot.storage.mongo import Database
from tests.admin.operations_kit import MANY, USERS, reply_of, rows, run_operation, shows
from tests.botkit import ADMIN, eventually, last, press, send_now, texts, wait_status
from tests.conftest import Launch
from tests.support import seed


async def test_retry_reaches_exactly_the_eligible_and_never_a_recipient_twice(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    came_back, still_blocked, flaky, gone, in_doubt, lost = USERS
    await seed(db, sim, USERS)
    others = await seed(db, sim, MANY[:4])
    await launch(record_users=True)
    sim.set_state(came_back, UserState.BLOCKED)
    sim.set_state(still_blocked, UserState.BLOCKED)
    sim.set_state(gone, UserState.DEACTIVATED)
    sim.fail_next(flaky, error_message="RPC_CALL_FAIL", error_code=500, times=3)
    sim.fail_next(lost, error_message="RPC_CALL_FAIL", error_code=500, times=3)
    bid = await send_now(sim, db, "/broadcast Once each")
    # a run stopped while these two were being sent: one had got it, one had not
    await db["deliveries"].update_many(
        {"broadcast_id": bid, "user_id": {"$in": [in_doubt, lost]}},
        {"$set": {"status": "sending"}},
    )
    await sim.feed_message(came_back, "hello again")  # recorded: no longer marked blocked
    await eventually(lambda: _unmarked(db, came_back))

    await sim.feed_message(ADMIN, f"/broadcast_retry {bid}")
    question = last(sim)
    assert (question.text or "").startswith(f"🔁 Retry {bid}?")
    assert "👥 Recipients: 4" in (question.text or "")
    assert "⛔ Left out, still blocked or gone: 2" in (question.text or "")
    assert await press(sim, question, "Yes, retry") == "🔁 Retrying"
    doc = await wait_status(db, bid, "completed")
    await eventually(lambda: shows(sim, db, bid, "Run 2 (a retry)"))

    got = {uid: texts(sim, uid).count("Once each") for uid in [*USERS, *others]}
    assert got == {**dict.fromkeys([*USERS, *others], 1), still_blocked: 0, gone: 0}
    doc = await db["broadcasts"].find_one({"_id": bid})
    first, second = doc["runs"]
    delivered = len(others) + 1  # and the admin, recorded as a user by its commands
    assert (first["sent"], first["failed"]) == (delivered + 1, 5)  # as its summary said
    assert (second["recipients"], second["sent"], second["failed"]) == (4, 4, 0)
    assert (doc["sent_count"], doc["failed_count"]) == (delivered + 4, 2)
    ledger = await rows(db, bid)
    assert ledger[in_doubt].get("duplicate")  # Telegram refused the repeat: same random_id
    history = await reply_of(sim, f"/broadcast_history {bid}")
    assert "• Run 2" in history

    assert (await reply_of(sim, f"/broadcast_retry {bid}")).startswith("🔁 Nobody to retry")


async def _unmarked(db: Database, uid: int) -> bool:
    doc = await db["users"].find_one({"user_id": uid})
    return doc is not None and doc.get("bot_blocked_at") is None


async def test_retry_answers_once_and_only_for_a_finished_broadcast(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch()
    sim.fail_next(USERS[0], error_message="RPC_CALL_FAIL", error_code=500, times=3)
    bid = await send_now(sim, db, "/broadcast Again")
    op = await run_operation(sim, db, f"/broadcast_edit {bid} Again, edited")

    assert "not a broadcast" in await reply_of(sim, f"/broadcast_retry {op['_id']}")
    await sim.feed_message(ADMIN, f"/broadcast_retry {bid}")
    question = last(sim)
    assert f"It goes out as first sent: the edit {op['_id']}" in (question.text or "")
    await sim.feed_callback(ADMIN, question.message_id, b"bc:retry_yes:" + bid.encode())
    await sim.feed_callback(ADMIN, question.message_id, b"bc:retry_yes:" + bid.encode())
    answers = [a.text for a in sim.callback_answers[-2:]]
    assert answers == ["🔁 Retrying", "This question was answered already."]
    await wait_status(db, bid, "completed")
    assert texts(sim, USERS[0]).count("Again") == 1
    assert len((await db["broadcasts"].find_one({"_id": bid}))["runs"]) == 2
