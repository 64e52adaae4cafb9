"""Messages in the simulator: media, albums and forwards copied, edits, deletes (within
Telegram's 48 hours), and what was asked of each chat."""

from __future__ import annotations

import pytest
from hydrogram import errors

from bot.demo.simulator import TelegramSimulator
from tests.demo.simulator.kit import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    FakeClock,
    message_of,
    started,
)


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


async def test_edits_have_no_age_limit_unless_one_is_set(sim: TelegramSimulator) -> None:
    sent = message_of(await sim.send_message(ALICE, "first"))
    sim.pass_time(30 * 24 * 3600)
    await sim.edit_message_text(ALICE, sent.id, "second")  # none documented for a bot
    young = message_of(await sim.send_message(ALICE, "young"))

    sim.limit_edits(3600)
    await sim.edit_message_text(ALICE, young.id, "still young")
    with pytest.raises(errors.MessageEditTimeExpired):
        await sim.edit_message_text(ALICE, sent.id, "third")

    assert [(m.text, m.edited) for m in sim.inbox(ALICE)] == [
        ("second", True),
        ("still young", True),
    ]


async def test_delete_messages_marks_them_deleted(sim: TelegramSimulator) -> None:
    sent = await sim.send_message(ALICE, "oops")

    assert await sim.delete_messages(ALICE, sent.id) == 1

    assert sim.inbox(ALICE)[0].deleted
    assert message_of(await sim.get_messages(ALICE, sent.id)).empty


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
