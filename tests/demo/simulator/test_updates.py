"""Updates fed to the bot through the simulator: messages, albums, forwards and button presses
reaching its handlers."""

from __future__ import annotations

import pytest
from hydrogram import Client, filters
from hydrogram.handlers import CallbackQueryHandler, MessageHandler
from hydrogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.demo.simulator import TelegramSimulator, UserState
from tests.demo.simulator.kit import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
)


async def test_feed_message_runs_registered_handler(sim: TelegramSimulator) -> None:
    seen: list[str] = []

    async def on_start(client: Client, message: Message) -> None:
        seen.append(message.text)
        await message.reply("Welcome!", quote=True)

    sim.add_handler(MessageHandler(on_start, filters.command("start")))

    message_id = await sim.feed_message(CAROL, "/start")

    assert seen == ["/start"]
    [reply] = sim.inbox(CAROL)
    assert (reply.text, reply.reply_to_message_id) == ("Welcome!", message_id)


async def test_feed_message_reactivates_a_user_who_blocked_the_bot(
    sim: TelegramSimulator,
) -> None:
    sim.set_state(BOB, UserState.BLOCKED)

    await sim.feed_message(BOB, "/start")
    await sim.send_message(BOB, "welcome back")

    assert [m.text for m in sim.inbox(BOB)] == ["welcome back"]


async def test_feed_album_arrives_as_one_group_the_bot_can_copy(sim: TelegramSimulator) -> None:
    seen: list[tuple[str | None, object]] = []

    async def on_media(client: Client, message: Message) -> None:
        seen.append((message.media_group_id, message.media))

    sim.add_handler(MessageHandler(on_media, filters.media))

    ids = await sim.feed_album(CAROL, ["photo", ("video", "the clip")], reply_to_message_id=3)

    assert len(seen) == 2
    assert seen[0][0] == seen[1][0] is not None  # one update per item, one group
    album = await sim.get_media_group(CAROL, ids[0])
    assert [m.caption for m in album] == [None, "the clip"]
    assert album[0].reply_to_message_id == 3
    await sim.copy_media_group(ALICE, CAROL, ids[1])
    assert [m.media for m in sim.inbox(ALICE)] == ["photo", "video"]


async def test_feed_forward_carries_the_origin(sim: TelegramSimulator) -> None:
    post = await sim.seed_message(CHANNEL, "News of the day")
    texts: list[tuple[str, int | None]] = []

    async def on_text(client: Client, message: Message) -> None:
        origin = message.forward_from_chat.id if message.forward_from_chat else None
        texts.append((message.text, origin))

    sim.add_handler(MessageHandler(on_text, filters.text))

    [forwarded] = await sim.feed_forward(CAROL, CHANNEL, [post])
    await sim.forward_messages(ALICE, CAROL, forwarded)

    assert texts == [("News of the day", CHANNEL)]
    [received] = sim.inbox(ALICE)
    assert (received.text, received.forwarded) == ("News of the day", True)
    with pytest.raises(ValueError, match="no such messages"):
        await sim.feed_forward(CAROL, CHANNEL, [404])


async def test_feed_callback_reaches_handler_and_records_answer(sim: TelegramSimulator) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Pause", callback_data="pause")]])
    status = await sim.send_message(ADMIN, "Broadcast running", reply_markup=keyboard)
    pressed: list[tuple[object, int]] = []

    async def on_press(client: Client, query: CallbackQuery) -> None:
        pressed.append((query.data, query.message.id))
        await query.answer("Paused")

    sim.add_handler(CallbackQueryHandler(on_press))

    query_id = await sim.feed_callback(ADMIN, status.id, b"pause")

    assert pressed == [("pause", status.id)]
    [answer] = sim.callback_answers
    assert (answer.query_id, answer.user_id, answer.text) == (query_id, ADMIN, "Paused")
