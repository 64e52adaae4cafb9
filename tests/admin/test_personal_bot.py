"""Personal greetings end to end: placeholders filled per recipient from the users
collection, through the simulator, with the formatting recipients see."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.admin.install import BroadcastBot
from bot.delivery.placeholders import Values
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from bot.telegram.sender import HydrogramSender
from tests.admin.operations_kit import offered, op_id, run_operation
from tests.botkit import (
    ADMIN,
    confirmation,
    entity,
    last,
    marked,
    press,
    send_now,
    texts,
    wait_status,
)
from tests.conftest import Launch

ZOE, MARYAM, NAMELESS, ANGLE = 4001, 4002, 4003, 4004
PROFILES: dict[int, dict[str, Any]] = {
    ZOE: {"first_name": "Zoë 👩‍💻", "username": "zoe", "language_code": "fr"},
    MARYAM: {"first_name": "مريم", "language_code": "ar"},
    NAMELESS: {},
    ANGLE: {"first_name": "<Ann & Bob>"},
}
USERS = list(PROFILES)


class CountedLookups:
    """The sender's look-up of recipients' values, counted (the real one does the work)."""

    def __init__(self, sender: HydrogramSender) -> None:
        self.real = sender.profiles
        self.calls: list[list[int]] = []
        sender.profiles = self

    async def __call__(self, user_ids: Sequence[int]) -> Mapping[int, Values]:
        self.calls.append(sorted(user_ids))
        return await self.real(user_ids)


@pytest.fixture
async def bot(db: Database, sim: TelegramSimulator, launch: Launch) -> BroadcastBot:
    for user_id, profile in PROFILES.items():
        sim.add_user(user_id)
        await db["users"].insert_one({"user_id": user_id, **profile})
    return await launch()


def lookups(bot: BroadcastBot) -> CountedLookups:
    sender = bot.core.pipeline.ports.sender
    assert isinstance(sender, HydrogramSender)
    return CountedLookups(sender)


async def test_names_are_filled_in_per_recipient_with_the_formatting_in_place(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    counted = lookups(bot)
    text = "/broadcast Hi {first_name|there}, 👋 welcome to the club ({language_code|?})"
    bold = entity("bold", text, "welcome")
    italic = entity("italic", text, "{first_name|there}")

    await send_now(sim, db, text, entities=[italic, bold])

    expected = {
        ZOE: "Hi Zoë 👩‍💻, 👋 welcome to the club (fr)",
        MARYAM: "Hi مريم, 👋 welcome to the club (ar)",
        NAMELESS: "Hi there, 👋 welcome to the club (?)",
        ANGLE: "Hi <Ann & Bob>, 👋 welcome to the club (?)",
    }
    for user, greeting in expected.items():
        [received] = sim.inbox(user)
        assert received.text == greeting
        name = greeting[3 : greeting.index(",")]
        assert marked(received) == [("italic", name), ("bold", "welcome")]
    assert counted.calls == [sorted(USERS)]  # one look-up for the batch, none per send


async def test_html_mode_inserts_a_name_with_angle_brackets_literally(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await send_now(sim, db, "/broadcast --parse html <b>{first_name|friend}</b> &amp; <i>co</i>")

    [received] = sim.inbox(ANGLE)
    assert received.text == "<Ann & Bob> & co"
    assert marked(received) == [("bold", "<Ann & Bob>"), ("italic", "co")]
    assert marked(sim.inbox(NAMELESS)[0]) == [("bold", "friend"), ("italic", "co")]


async def test_without_placeholders_nothing_is_looked_up(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    counted = lookups(bot)

    await send_now(sim, db, "/broadcast Hello <b>everyone</b> {{first_name} stays")

    assert {sim.inbox(user)[0].text for user in USERS} == {"Hello everyone {first_name} stays"}
    assert counted.calls == []


async def test_a_copied_caption_is_filled_too(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    photo = await sim.feed_message(ADMIN, "Sale for {first_name|you}!", media="photo")

    await send_now(sim, db, "/broadcast", reply_to_message_id=photo)

    assert [(m.media, m.text) for m in sim.inbox(MARYAM)] == [("photo", "Sale for مريم!")]
    assert [m.text for m in sim.inbox(NAMELESS)] == ["Sale for you!"]


async def test_the_preview_shows_the_admins_own_values(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await db["users"].insert_one({"user_id": ADMIN, "first_name": "Boss 👑", "username": "boss"})

    await sim.feed_message(ADMIN, "/broadcast_preview Hi <b>{first_name}</b> (@{username})")
    preview = sim.inbox(ADMIN)[-2]
    assert preview.text == "Hi Boss 👑 (@boss)"
    assert marked(preview) == [("bold", "Boss 👑")]

    confirm = await confirmation(sim, "/broadcast Hi {first_name|there}")
    assert await press(sim, confirm, "Preview to me") == "👀 Preview sent"
    assert last(sim).text == "Hi Boss 👑"
    assert all(sim.inbox(user) == [] for user in USERS)


async def test_an_unknown_placeholder_is_refused_with_the_known_ones(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(ADMIN, "/broadcast Hi {firstname}")

    reply = texts(sim)[-1]
    assert reply.startswith("Unknown placeholder {firstname}")
    assert "{first_name}, {username}, {language_code}" in reply
    assert "Usage: /broadcast" in reply
    assert await db["broadcasts"].count_documents({}) == 0


async def test_a_text_that_the_longest_name_would_push_past_the_limit_is_refused(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await db["users"].update_one({"user_id": MARYAM}, {"$set": {"first_name": "M" * 60}})
    filler = "x" * 4050

    await sim.feed_message(ADMIN, f"/broadcast {filler} {{first_name}}")
    reply = texts(sim)[-1]
    assert reply.startswith("✂️ This could be too long")
    assert "first_name 60" in reply
    assert "4,111 characters" in reply
    assert await db["broadcasts"].count_documents({}) == 0

    # Without the long name among the recipients it fits, and is offered.
    await db["users"].update_one({"user_id": MARYAM}, {"$set": {"first_name": "Maryam"}})
    confirm = await confirmation(sim, f"/broadcast {filler} {{first_name}}")
    assert "👥 Recipients: 4" in (confirm.text or "")


async def test_an_edit_fills_the_placeholders_per_recipient_as_the_send_did(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await send_now(sim, db, "/broadcast Hi {first_name|there}")
    counted = lookups(bot)

    op = await run_operation(
        sim, db, f"/broadcast_edit {bid} --parse html Hello <b>{{first_name|friend}}</b>, news"
    )

    expected = {ZOE: "Zoë 👩‍💻", MARYAM: "مريم", NAMELESS: "friend", ANGLE: "<Ann & Bob>"}
    for user, name in expected.items():
        [copy] = sim.inbox(user)
        assert (copy.text, copy.edited) == (f"Hello {name}, news", True)
        assert marked(copy) == [("bold", name)]
    assert op["sent_count"] == len(USERS)
    assert counted.calls == [sorted(USERS)]  # one look-up for the batch, none per copy


async def test_an_edit_that_the_longest_name_would_push_past_the_limit_is_refused(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    photo = await sim.feed_message(ADMIN, "Sale", media="photo")
    bid = await send_now(sim, db, "/broadcast", reply_to_message_id=photo)
    await db["users"].update_one({"user_id": MARYAM}, {"$set": {"first_name": "M" * 60}})
    filler = "x" * 1000

    await sim.feed_message(ADMIN, f"/broadcast_edit {bid} {filler} {{first_name}}")
    reply = texts(sim)[-1]
    assert reply.startswith("✂️ This could be too long")
    assert "the caption reaches 1,061 characters, and Telegram allows 1,024" in reply
    assert await db["broadcasts"].count_documents({"kind": "edit"}) == 0

    # Measured among the users the broadcast targeted: one outside them does not count.
    await db["users"].update_one({"user_id": MARYAM}, {"$set": {"first_name": "Maryam"}})
    await db["users"].insert_one({"user_id": 4999, "role": "banned", "first_name": "L" * 60})
    confirm = await offered(sim, f"/broadcast_edit {bid} {filler} {{first_name}}")
    await press(sim, confirm, "Yes, edit")
    await wait_status(db, op_id(confirm), "completed")
    assert sim.inbox(MARYAM)[0].text == f"{filler} Maryam"


async def test_an_edit_reads_the_names_through_the_hosts_field_map(
    sim: TelegramSimulator, db: Database, launch: Launch, tmp_path: Path
) -> None:
    segments = tmp_path / "segments.toml"
    segments.write_text('[fields]\nuser_id = "tg_id"\nfirst_name = "given_name"\n')
    for user_id, name in ((ZOE, "Zoë"), (MARYAM, "M" * 60)):
        sim.add_user(user_id)
        # The host's own names only: a first_name here would be another field.
        await db["users"].insert_one({"tg_id": user_id, "given_name": name, "first_name": "X"})
    await launch(segments_file=str(segments))
    bid = await send_now(sim, db, "/broadcast Hi")
    filler = "x" * 4050

    await sim.feed_message(ADMIN, f"/broadcast_edit {bid} {filler} {{first_name}}")
    reply = texts(sim)[-1]
    assert reply.startswith("✂️ This could be too long")
    assert "first_name 60" in reply  # measured in given_name
    assert await db["broadcasts"].count_documents({"kind": "edit"}) == 0

    await db["users"].update_one({"tg_id": MARYAM}, {"$set": {"given_name": "Maryam"}})
    await run_operation(sim, db, f"/broadcast_edit {bid} Hello {{first_name|friend}}")

    assert [m.text for m in sim.inbox(ZOE)] == ["Hello Zoë"]
    assert [m.text for m in sim.inbox(MARYAM)] == ["Hello Maryam"]
