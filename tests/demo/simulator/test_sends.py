"""Sending through the simulator: what a user receives, the states that refuse it, users
added late or in bulk, and requests it does not answer."""

from __future__ import annotations

import pytest
from hydrogram import errors, raw
from hydrogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from bot.demo.simulator import TelegramSimulator, UserState
from tests.demo.simulator.kit import (
    ALICE,
    BOB,
    FakeClock,
)


async def test_send_message_delivers_to_active_user(sim: TelegramSimulator) -> None:
    sent = await sim.send_message(ALICE, "Hello **there**")

    assert sent.chat.id == ALICE
    assert sent.outgoing
    assert sent.from_user.id == sim.world.directory.bot_id
    assert sent.text == "Hello there"
    assert sent.entities is not None
    [received] = sim.inbox(ALICE)
    assert (received.message_id, received.text, received.media) == (sent.id, "Hello there", None)
    assert sim.sent_total == 1
    assert sim.received_counts() == {ALICE: 1}


async def test_send_records_keyboard_and_flags(sim: TelegramSimulator) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes", callback_data="vote:yes")],
            [InlineKeyboardButton("Site", url="https://example.org")],
        ]
    )

    await sim.send_message(
        ALICE, "Vote", reply_markup=keyboard, disable_notification=True, protect_content=True
    )

    [received] = sim.inbox(ALICE)
    assert received.buttons == ((("Yes", "vote:yes"),), (("Site", "https://example.org"),))
    assert received.silent
    assert received.protected
    assert not received.forwarded


@pytest.mark.parametrize(
    ("state", "error"),
    [
        (UserState.BLOCKED, errors.UserIsBlocked),
        (UserState.DEACTIVATED, errors.InputUserDeactivated),
        (UserState.NEVER_STARTED, errors.PeerIdInvalid),
    ],
)
async def test_user_states_raise_hydrogram_errors(
    sim: TelegramSimulator, state: UserState, error: type[Exception]
) -> None:
    sim.set_state(BOB, state)

    with pytest.raises(error):
        await sim.send_message(BOB, "hi")

    assert sim.inbox(BOB) == []
    assert sim.sent_total == 0


async def test_unknown_user_is_peer_id_invalid(sim: TelegramSimulator) -> None:
    with pytest.raises(errors.PeerIdInvalid):
        await sim.send_message(999_999, "hi")


async def test_user_added_after_start_resolves(sim: TelegramSimulator) -> None:
    sim.add_user(555, first_name="Late")

    sent = await sim.send_message(555, "welcome")

    assert sent.chat.first_name == "Late"
    assert [m.text for m in sim.inbox(555)] == ["welcome"]


async def test_bulk_users_are_cached_peers(clock: FakeClock) -> None:
    sim = TelegramSimulator(clock=clock, telegram_limit=1000)
    sim.add_users(range(100_000, 120_000))
    await sim.start()
    try:
        await sim.send_message(119_999, "hi")
    finally:
        await sim.stop()

    assert sim.request_counts["users.GetUsers"] == 0
    assert sim.received_counts() == {119_999: 1}


async def test_unanswered_request_names_itself(sim: TelegramSimulator) -> None:
    with pytest.raises(NotImplementedError, match="help.GetConfig"):
        await sim.invoke(raw.functions.help.GetConfig())
