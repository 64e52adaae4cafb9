"""Cancelling for good takes two taps: "Cancel it? Yes / No" on the status message and
for /broadcast_cancel of a broadcast that is sending or a repeating schedule."""

from __future__ import annotations

import pytest

from bot.admin.install import BroadcastBot
from bot.admin.status import callback_data
from bot.demo.simulator import ReceivedMessage, TelegramSimulator
from bot.storage.mongo import Database
from tests.botkit import (
    ADMIN,
    as_awaitable,
    broadcast_id,
    button,
    confirmation,
    eventually,
    last,
    press,
    running,
    status_message,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

OTHER_ADMIN = 1_000_002
USERS = list(range(5001, 5011))  # 2 s of sending at 5 msg/s: time to press buttons


@pytest.fixture
async def bot(db: Database, sim: TelegramSimulator, launch: Launch) -> BroadcastBot:
    await seed(db, sim, USERS)
    await db["users"].insert_one({"user_id": OTHER_ADMIN, "role": "admin"})
    sim.add_user(OTHER_ADMIN, first_name="Second")
    return await launch(rate=5)


def labels(message: ReceivedMessage) -> list[str]:
    return [text for row in message.buttons for text, _ in row]


async def started(sim: TelegramSimulator, db: Database, text: str) -> str:
    confirm = await confirmation(sim, f"/broadcast {text}")
    await press(sim, confirm, "Send now")
    bid = broadcast_id(confirm)
    await running(sim, db, bid)
    return bid


async def status(db: Database, bid: str) -> str:
    return str((await db["broadcasts"].find_one({"_id": bid}))["status"])


async def delivered(sim: TelegramSimulator) -> int:
    return sum(len(sim.inbox(user)) for user in USERS)


# the status message ---------------------------------------------------------------------


async def test_cancel_on_the_status_message_asks_and_no_gives_the_buttons_back(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await started(sim, db, "One")
    doc = await db["broadcasts"].find_one({"_id": bid})

    assert await press(sim, status_message(sim, doc), "Cancel") == "Cancel it? Yes / No"
    assert labels(status_message(sim, doc)) == ["🛑 Yes, cancel it", "↩️ No"]
    assert await status(db, bid) == "running"
    assert await press(sim, status_message(sim, doc), "No") == "↩️ Not cancelled"
    assert labels(status_message(sim, doc)) == ["⏸ Pause", "🛑 Cancel"]
    assert await status(db, bid) == "running"

    await press(sim, status_message(sim, doc), "Cancel")
    assert await press(sim, status_message(sim, doc), "Yes") == "🛑 Cancelled"
    await wait_status(db, bid, "cancelled")
    await eventually(lambda: as_awaitable("CANCELLED" in (status_message(sim, doc).text or "")))

    summary = status_message(sim, doc)
    assert summary.buttons == ()
    assert "📅 Cancelled: " in (summary.text or "")
    assert "Completed:" not in (summary.text or "")
    assert "👤 By: boss (1000001)" in (summary.text or "")  # as the history names its creator
    assert await delivered(sim) < len(USERS)


async def test_another_admin_who_cancels_is_named_by_id(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await started(sim, db, "One")

    await sim.feed_message(OTHER_ADMIN, f"/broadcast_cancel {bid}")
    assert await press(sim, last(sim, OTHER_ADMIN), "Yes", user=OTHER_ADMIN) == "🛑 Cancelled"
    doc = await wait_status(db, bid, "cancelled")

    await eventually(lambda: as_awaitable("CANCELLED" in (status_message(sim, doc).text or "")))
    assert "👤 By: Admin (1000002)" in (status_message(sim, doc).text or "")


async def test_cancel_while_paused_asks_and_yes_cancels(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await started(sim, db, "One")
    doc = await db["broadcasts"].find_one({"_id": bid})
    await press(sim, status_message(sim, doc), "Pause")
    await wait_status(db, bid, "paused")

    assert await press(sim, status_message(sim, doc), "Cancel") == "Cancel it? Yes / No"
    assert await press(sim, status_message(sim, doc), "No") == "↩️ Not cancelled"
    assert labels(status_message(sim, doc)) == ["▶️ Resume", "🛑 Cancel"]
    await press(sim, status_message(sim, doc), "Cancel")
    assert await press(sim, status_message(sim, doc), "Yes") == "🛑 Cancelled"

    assert await status(db, bid) == "cancelled"
    shown = status_message(sim, doc)
    assert (shown.text or "").startswith("🛑 BROADCAST CANCELLED")  # its summary, at once
    assert shown.buttons == ()
    final = await db["broadcasts"].find_one({"_id": bid})
    assert final["completed_at"] is not None
    assert final["sent_count"] + final["not_sent_count"] == final["total_users"]


async def test_cancel_of_a_queued_broadcast_asks_too(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    first = await started(sim, db, "One")
    second = await confirmation(sim, "/broadcast Two")
    await press(sim, second, "Send now")
    queued = await db["broadcasts"].find_one({"_id": broadcast_id(second)})

    assert await press(sim, status_message(sim, queued), "Cancel") == "Cancel it? Yes / No"
    assert await status(db, broadcast_id(second)) == "queued"
    assert await press(sim, status_message(sim, queued), "Yes") == "🛑 Cancelled"

    shown = status_message(sim, queued)
    assert shown.text == f"🛑 Broadcast {broadcast_id(second)} cancelled before it started."
    assert shown.buttons == ()
    await wait_status(db, first, "completed")
    assert all(texts(sim, user) == ["One"] for user in USERS)


async def test_the_questions_buttons_work_on_their_own_message_only(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await started(sim, db, "One")
    doc = await db["broadcasts"].find_one({"_id": bid})
    await press(sim, status_message(sim, doc), "Cancel")
    yes = button(status_message(sim, doc), "Yes")
    other = await sim.feed_message(ADMIN, "unrelated")

    await sim.feed_callback(ADMIN, other, yes)

    assert sim.callback_answers[-1].text == "This button has expired."
    assert await status(db, bid) == "running"
    assert yes == f"bc:cancel_yes:{bid}".encode()


# /broadcast_cancel ------------------------------------------------------------------------


async def test_broadcast_cancel_of_a_running_broadcast_asks_first(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await started(sim, db, "One")

    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")
    question = last(sim)
    assert (question.text or "").startswith(f"🛑 Cancel it? {bid} is sending: ")
    assert labels(question) == ["🛑 Yes, cancel it", "↩️ No"]
    assert await press(sim, question, "No") == "↩️ Not cancelled"
    assert await status(db, bid) == "running"
    answered = next(m for m in sim.inbox(ADMIN) if m.message_id == question.message_id)
    assert (answered.text, answered.buttons) == (f"↩️ Not cancelled: {bid} goes on.", ())

    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")
    question = last(sim)
    assert await press(sim, question, "Yes") == "🛑 Cancelled"
    await wait_status(db, bid, "cancelled")
    answered = next(m for m in sim.inbox(ADMIN) if m.message_id == question.message_id)
    assert (answered.text or "").startswith(f"🛑 Cancelled {bid}. Sending stops")
    assert answered.buttons == ()
    assert await delivered(sim) < len(USERS)


async def test_yes_after_the_broadcast_ended_cancels_nothing(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await started(sim, db, "One")
    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")
    question = last(sim)
    await wait_status(db, bid, "completed")

    assert await press(sim, question, "Yes") == "🛑 Cancelled"

    answered = next(m for m in sim.inbox(ADMIN) if m.message_id == question.message_id)
    assert answered.text == f"{bid} is already completed: nothing to cancel."
    assert await status(db, bid) == "completed"


async def test_a_late_cancel_tap_on_a_finished_broadcast_asks_nothing(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await started(sim, db, "Done soon")
    doc = await wait_status(db, bid, "completed")
    shown = status_message(sim, doc)
    # The old Cancel button, tapped after the end (a client that had not refreshed).
    await sim.feed_callback(ADMIN, shown.message_id, callback_data("cancel", bid).encode())

    assert sim.callback_answers[-1].text == "It has already finished (it is completed)."
    assert not status_message(sim, doc).buttons  # no Yes / No question
    assert await status(db, bid) == "completed"


async def test_broadcast_cancel_of_a_repeating_schedule_asks_first(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(ADMIN, "/broadcast --at 'tomorrow 9:00' --every 'day 09:00' Tick")
    confirm = last(sim)
    await press(sim, confirm, "Schedule")
    bid = broadcast_id(confirm)

    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")
    question = last(sim)
    assert question.text == f"🛑 Cancel it? {bid} repeats (0 run(s) so far); no run would follow."
    assert await status(db, bid) == "scheduled"
    await press(sim, question, "Yes")

    assert await status(db, bid) == "cancelled"
    answered = next(m for m in sim.inbox(ADMIN) if m.message_id == question.message_id)
    assert answered.text == f"🛑 Cancelled {bid}. None of its runs will be sent any more."
    await sim.feed_message(ADMIN, "/broadcast_scheduled")
    assert texts(sim)[-1] == "🗓 Nothing is scheduled."


async def test_broadcast_cancel_of_a_one_off_schedule_cancels_at_once(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(ADMIN, "/broadcast --at 'tomorrow 9:00' Once")
    confirm = last(sim)
    await press(sim, confirm, "Schedule")
    bid = broadcast_id(confirm)

    await sim.feed_message(ADMIN, f"/broadcast_cancel {bid}")

    assert texts(sim)[-1] == f"🛑 Cancelled {bid}."
    assert await status(db, bid) == "cancelled"
