"""The Telegram simulator, driven through hydrogram's own high-level API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hydrogram import Client, errors, filters, raw
from hydrogram.handlers import CallbackQueryHandler, MessageHandler
from hydrogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.demo.simulator import TelegramSimulator, UserState

ADMIN, ALICE, BOB, CAROL = 10, 11, 12, 13
CHANNEL = -1001234567890


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def started(clock: FakeClock, **options: Any) -> TelegramSimulator:
    sim = TelegramSimulator(clock=clock, date_origin=1_700_000_000.0, **options)
    sim.add_user(ADMIN, first_name="Admin", username="admin")
    sim.add_users([ALICE, BOB, CAROL])
    return await sim.start()


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[TelegramSimulator]:
    simulator = await started(clock)
    yield simulator
    await simulator.stop()


def message_of(result: Message | list[Message]) -> Message:
    assert isinstance(result, Message)
    return result


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


async def test_latency_is_awaited(clock: FakeClock) -> None:
    sim = await started(clock, latency_ms=30)
    try:
        began = time.perf_counter()
        await sim.send_message(ALICE, "slow")
        elapsed = time.perf_counter() - began
    finally:
        await sim.stop()

    assert elapsed >= 0.029


async def test_photo_copy_arrives_as_photo_with_caption(sim: TelegramSimulator) -> None:
    source_id = await sim.seed_message(ADMIN, media="photo", caption="Sale today")
    source = message_of(await sim.get_messages(ADMIN, source_id))

    copied = message_of(await source.copy(ALICE))

    assert source.photo is not None
    assert copied.photo is not None
    assert copied.photo.file_unique_id == source.photo.file_unique_id
    [received] = sim.inbox(ALICE)
    assert (received.media, received.text, received.forwarded) == ("photo", "Sale today", False)


@pytest.mark.parametrize(
    "kind", ["video", "document", "audio", "voice", "animation", "sticker", "video_note"]
)
async def test_every_media_kind_copies(sim: TelegramSimulator, kind: str) -> None:
    source_id = await sim.seed_message(CHANNEL, media=kind)

    await sim.copy_message(ALICE, CHANNEL, source_id)

    assert [m.media for m in sim.inbox(ALICE)] == [kind]


async def test_album_copy_arrives_as_one_group(sim: TelegramSimulator) -> None:
    ids = await sim.seed_album(CHANNEL, ["photo", ("video", "the clip"), "photo"])

    copies = await sim.copy_media_group(ALICE, CHANNEL, ids[1])

    received = sim.inbox(ALICE)
    assert [m.media for m in received] == ["photo", "video", "photo"]
    assert [m.text for m in received] == [None, "the clip", None]
    assert len({m.grouped_id for m in received}) == 1
    assert received[0].grouped_id is not None
    assert [c.id for c in copies] == [m.message_id for m in received]


async def test_album_counts_each_message_globally(clock: FakeClock) -> None:
    sim = await started(clock, telegram_limit=4)
    try:
        ids = await sim.seed_album(CHANNEL, ["photo", "photo", "photo"])
        await sim.copy_media_group(ALICE, CHANNEL, ids[0])
        await sim.send_message(BOB, "fourth")
        with pytest.raises(errors.FloodWait):
            await sim.send_message(CAROL, "fifth")
    finally:
        await sim.stop()


async def test_forward_keeps_origin_and_grouping(sim: TelegramSimulator) -> None:
    ids = await sim.seed_album(CHANNEL, ["photo", "document"])

    forwarded = await sim.forward_messages(ALICE, CHANNEL, ids)

    assert isinstance(forwarded, list)
    assert [m.forward_from_chat.id for m in forwarded if m.forward_from_chat] == [CHANNEL] * 2
    received = sim.inbox(ALICE)
    assert all(m.forwarded for m in received)
    assert received[0].grouped_id == received[1].grouped_id is not None


async def test_missing_message_is_empty(sim: TelegramSimulator) -> None:
    missing = message_of(await sim.get_messages(ALICE, 404))

    assert missing.empty


async def test_edit_message_text_and_not_modified(sim: TelegramSimulator) -> None:
    sent = await sim.send_message(ALICE, "Sending... 0%")

    edited = await sim.edit_message_text(ALICE, sent.id, "Sending... 50%")
    with pytest.raises(errors.MessageNotModified):
        await sim.edit_message_text(ALICE, sent.id, "Sending... 50%")

    assert edited.text == "Sending... 50%"
    [received] = sim.inbox(ALICE)
    assert (received.text, received.edited) == ("Sending... 50%", True)


async def test_delete_messages_marks_them_deleted(sim: TelegramSimulator) -> None:
    sent = await sim.send_message(ALICE, "oops")

    assert await sim.delete_messages(ALICE, sent.id) == 1

    assert sim.inbox(ALICE)[0].deleted
    assert message_of(await sim.get_messages(ALICE, sent.id)).empty


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


async def test_unanswered_request_names_itself(sim: TelegramSimulator) -> None:
    with pytest.raises(NotImplementedError, match="help.GetConfig"):
        await sim.invoke(raw.functions.help.GetConfig())


async def test_a_bot_deletes_only_what_it_sent_in_the_last_48_hours(
    sim: TelegramSimulator,
) -> None:
    young = message_of(await sim.send_message(ALICE, "young"))
    old = message_of(await sim.send_message(BOB, "old"))
    sim.pass_time(48 * 3600 - 1)
    fresh = message_of(await sim.send_message(BOB, "fresh"))
    sim.pass_time(1)  # "old" is 48 hours old now; "young" is too

    with pytest.raises(errors.MessageDeleteForbidden):
        await sim.delete_messages(BOB, [fresh.id, old.id])
    assert [m.deleted for m in sim.inbox(BOB)] == [False, False]  # all or nothing
    assert await sim.delete_messages(BOB, fresh.id) == 1
    with pytest.raises(errors.MessageDeleteForbidden):
        await sim.delete_messages(ALICE, young.id)
    assert sim.touches(BOB) == [("delete", (fresh.id, old.id)), ("delete", (fresh.id,))]
    assert sim.touches(ALICE) == [("delete", (young.id,))]


async def test_touches_list_edits_and_deletes_asked_also_of_what_is_gone(
    sim: TelegramSimulator,
) -> None:
    sent = message_of(await sim.send_message(ALICE, "first"))
    await sim.edit_message_text(ALICE, sent.id, "second")
    assert await sim.delete_messages(ALICE, sent.id) == 1
    assert await sim.delete_messages(ALICE, sent.id) == 0  # gone: nothing deleted, no error

    assert sim.touches(ALICE) == [
        ("edit", (sent.id,)),
        ("delete", (sent.id,)),
        ("delete", (sent.id,)),
    ]
    assert sim.touches(BOB) == []
