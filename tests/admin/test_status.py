"""The admin's status message and its buttons, against the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hydrogram import raw
from hydrogram.enums import ParseMode
from hydrogram.errors import RPCError
from hydrogram.raw.core import TLObject

from bot.admin.status import (
    CALLBACK_PREFIX,
    StatusMessage,
    callback_data,
    control_buttons,
    parse_callback,
)
from bot.app import utc_now
from bot.delivery.model import new_broadcast_id
from bot.delivery.policy import ProgressSnapshot
from bot.delivery.report import Summary, summary_text
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.support import ADMIN, create_running, make_core, seed

BID = new_broadcast_id(utc_now())


class FloodingEdits(TelegramSimulator):
    """Answers the next ``floods`` edits with FLOOD_WAIT_``seconds``, as Telegram may."""

    floods = 0
    seconds = 30

    async def invoke(self, query: TLObject, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query, raw.functions.messages.EditMessage) and self.floods:
            self.floods -= 1
            error = raw.types.RpcError(error_code=420, error_message=f"FLOOD_WAIT_{self.seconds}")
            RPCError.raise_it(error, type(query))
        return await super().invoke(query, *args, **kwargs)


def snap(sent: int, *, paused: bool = False) -> ProgressSnapshot:
    return ProgressSnapshot(BID, 10, True, sent, 0, {}, 0, 2.0, sent / 2, 1.0, paused)


def summary(status: str = "completed") -> Summary:
    now = utc_now()
    return Summary(BID, status, 10, 9, 1, 0, 0, {"blocked": 1}, 0, now, now, 4.0)


async def status_message(client: TelegramSimulator) -> StatusMessage:
    message = await client.send_message(ADMIN, "Starting...", parse_mode=ParseMode.DISABLED)
    return StatusMessage(client, ADMIN, message.id, BID)


# callback data --------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["pause", "resume", "cancel", "cancel_yes", "cancel_no"])
def test_callback_data_round_trips(action: str) -> None:
    data = callback_data(action, BID)
    assert data == f"{CALLBACK_PREFIX}:{action}:{BID}"
    assert len(data.encode()) <= 64
    assert parse_callback(data) == (action, BID)
    assert parse_callback(data.encode()) == (action, BID)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "bc",
        "bc:pause",
        "bc:pause:",
        "bc::" + BID,
        "menu:pause:" + BID,
        "BC:pause:" + BID,
        "bc:Pause:" + BID,
        "bc:pause:" + BID + ":extra",
        "bc:pause:id with spaces",
        "bc:pause:" + "x" * 62,
        b"\xff\xfebc:pause:x",
        b"help",
    ],
)
def test_foreign_or_malformed_callback_data_is_rejected(data: str | bytes) -> None:
    assert parse_callback(data) is None


@pytest.mark.parametrize(
    ("action", "broadcast_id"),
    [("pause", "x" * 60), ("pa:use", BID), ("pause", "a:b"), ("", BID), ("pause", "")],
)
def test_callback_data_refuses_what_cannot_round_trip(action: str, broadcast_id: str) -> None:
    with pytest.raises(ValueError, match="callback data|cannot encode"):
        callback_data(action, broadcast_id)


def test_control_buttons_toggle_pause_and_resume() -> None:
    running = control_buttons(BID, paused=False).inline_keyboard
    paused = control_buttons(BID, paused=True).inline_keyboard
    assert [(b.text, b.callback_data) for b in running[0]] == [
        ("⏸ Pause", f"bc:pause:{BID}"),
        ("🛑 Cancel", f"bc:cancel:{BID}"),
    ]
    assert [(b.text, b.callback_data) for b in paused[0]] == [
        ("▶️ Resume", f"bc:resume:{BID}"),
        ("🛑 Cancel", f"bc:cancel:{BID}"),
    ]


# the status message ---------------------------------------------------------------------------


async def test_a_run_edits_the_status_message_then_the_summary_replaces_it(
    db: Database, sim: TelegramSimulator
) -> None:
    users = await seed(db, sim, range(100, 106))
    core = make_core(db, sim, progress_every=1, progress_min_interval_s=0)
    bid = await create_running(core)
    message = await sim.send_message(ADMIN, "Starting...", parse_mode=ParseMode.DISABLED)
    status = StatusMessage(sim, ADMIN, message.id, bid)
    seen = []

    async def progress(snapshot: ProgressSnapshot) -> None:
        await status(snapshot)
        seen.append(sim.inbox(ADMIN)[-1])

    async with asyncio.timeout(5):
        result = await core.service.run(bid, progress)
    await status.finish(result, by="@admin")

    assert seen
    shown = seen[-1]
    assert shown.edited
    assert shown.text is not None
    assert shown.text.startswith("📢 BROADCAST IN PROGRESS")
    assert "👥 Total Users: 6" in shown.text
    assert shown.buttons == ((("⏸ Pause", f"bc:pause:{bid}"), ("🛑 Cancel", f"bc:cancel:{bid}")),)
    inbox = sim.inbox(ADMIN)
    assert len(inbox) == 1, "the status is edited, not sent again"
    final = inbox[0]
    assert final.text is not None
    assert final.text.startswith("✅ BROADCAST COMPLETED")
    assert f"✅ Successfully Sent: {len(users)}" in final.text
    assert "👤 By: @admin" in final.text
    assert final.buttons == ()


@pytest.mark.parametrize(
    ("status", "title", "ended"),
    [
        ("completed", "✅ BROADCAST COMPLETED", "📅 Completed: "),
        ("cancelled", "🛑 BROADCAST CANCELLED", "📅 Cancelled: "),
        ("failed", "⚠️ BROADCAST STOPPED", "📅 Stopped: "),
    ],
)
def test_the_summary_says_how_it_ended(status: str, title: str, ended: str) -> None:
    ending = summary(status)
    lines = summary_text(ending, by="Admin (1000001)").splitlines()

    assert lines[0] == title
    assert [line for line in lines if line.startswith("📅")] == [
        f"{ended}{ending.completed_at:%Y-%m-%d %H:%M:%S} UTC"
    ]
    assert lines[-1] == "👤 By: Admin (1000001)"


async def test_progress_keeps_the_cancel_question_until_it_is_answered(
    sim: TelegramSimulator,
) -> None:
    status = await status_message(sim)
    status.asking_cancel = True

    await status(snap(3))
    asked = sim.inbox(ADMIN)[-1]
    status.asking_cancel = False
    await status(snap(4))
    answered = sim.inbox(ADMIN)[-1]

    assert asked.buttons == (
        (("🛑 Yes, cancel it", f"bc:cancel_yes:{BID}"), ("↩️ No", f"bc:cancel_no:{BID}")),
    )
    assert [text for text, _ in answered.buttons[0]] == ["⏸ Pause", "🛑 Cancel"]


async def test_a_paused_snapshot_offers_resume(sim: TelegramSimulator) -> None:
    status = await status_message(sim)
    await status(snap(3, paused=True))
    shown = sim.inbox(ADMIN)[-1]
    assert shown.text is not None
    assert shown.text.startswith("📢 BROADCAST PAUSED")
    assert [text for text, _ in shown.buttons[0]] == ["▶️ Resume", "🛑 Cancel"]


async def test_a_second_trouble_replaces_the_first_line_under_the_progress(
    sim: TelegramSimulator,
) -> None:
    status = await status_message(sim)
    await status(snap(3))
    progress = sim.inbox(ADMIN)[-1].text

    await status.add_line("⚠️ Stopped: the database stayed unreachable for too long.")
    await status.add_line("⚠️ Stopped: an unexpected error.")

    assert sim.inbox(ADMIN)[-1].text == f"{progress}\n\n⚠️ Stopped: an unexpected error."


async def test_an_unchanged_status_is_not_an_error(sim: TelegramSimulator) -> None:
    status = await status_message(sim)
    await status(snap(3))
    await status(snap(3))  # Telegram answers MESSAGE_NOT_MODIFIED
    assert sim.request_counts["messages.EditMessage"] == 2
    assert len(sim.inbox(ADMIN)) == 1


async def test_a_deleted_status_message_gets_the_summary_as_a_new_message(
    sim: TelegramSimulator,
) -> None:
    status = await status_message(sim)
    await sim.delete_messages(ADMIN, status.message_id)
    await status(snap(3))  # MESSAGE_ID_INVALID: logged, not raised
    await status.finish(summary("cancelled"))
    first, second = sim.inbox(ADMIN)
    assert first.deleted
    assert second.text is not None
    assert second.text.startswith("🛑 BROADCAST CANCELLED")
    assert second.buttons == ()
    assert status.message_id == second.message_id


async def test_flood_wait_skips_edits_until_it_is_over() -> None:
    client = FloodingEdits(telegram_limit=1000, clock=asyncio.get_running_loop().time)
    await client.start()
    try:
        client.add_user(ADMIN)
        status = await status_message(client)
        client.floods = 1
        await status(snap(1))  # FLOOD_WAIT_30: swallowed
        await status(snap(2))  # inside the wait: not even tried
        assert client.request_counts["messages.EditMessage"] == 0
        assert sim_text(client) == "Starting..."
        await status.finish(summary())  # the summary is worth one more try
    finally:
        await client.stop()
    assert (sim_text(client) or "").startswith("✅ BROADCAST COMPLETED")
    assert len(client.inbox(ADMIN)) == 1


async def test_a_long_flood_wait_on_finish_falls_back_to_a_new_message() -> None:
    client = FloodingEdits(telegram_limit=1000, clock=asyncio.get_running_loop().time)
    await client.start()
    try:
        client.add_user(ADMIN)
        message = await client.send_message(ADMIN, "Starting...", parse_mode=ParseMode.DISABLED)
        status = StatusMessage(client, ADMIN, message.id, BID, flood_wait_cap_s=5)
        client.floods = 1
        await status.finish(summary())
    finally:
        await client.stop()
    first, second = client.inbox(ADMIN)
    assert first.text == "Starting..."
    assert (second.text or "").startswith("✅ BROADCAST COMPLETED")


async def test_calls_after_finish_do_not_bring_the_buttons_back(sim: TelegramSimulator) -> None:
    status = await status_message(sim)
    await status.finish(summary())
    await status(snap(5))
    assert sim.inbox(ADMIN)[-1].buttons == ()


async def test_status_message_is_found_from_the_broadcast_document(
    db: Database, sim: TelegramSimulator
) -> None:
    await seed(db, sim, [100])
    core = make_core(db, sim)
    bid = await create_running(core)
    assert StatusMessage.from_document(sim, await core.store.get(bid)) is None
    await core.store.set_progress_message(bid, ADMIN, 42)
    found = StatusMessage.from_document(sim, await core.store.get(bid))
    assert found is not None
    assert (found.chat_id, found.message_id, found.broadcast_id) == (ADMIN, 42, bid)


def sim_text(client: TelegramSimulator) -> str | None:
    return client.inbox(ADMIN)[-1].text
