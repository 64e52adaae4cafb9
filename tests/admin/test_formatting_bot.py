"""What the admin sees is what recipients get: formatting from the chat app (entities),
HTML tags, --parse, and copies, end to end through the simulator."""

from __future__ import annotations

from typing import Any

import pytest

from bot.admin.install import BroadcastBot
from bot.demo.simulator import SeenEntity, TelegramSimulator
from bot.storage.mongo import Database
from tests.botkit import (
    ADMIN,
    broadcast_id,
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
from tests.support import seed

USERS = [4001, 4002, 4003]
SITE = "https://example.com"


@pytest.fixture
async def bot(db: Database, sim: TelegramSimulator, launch: Launch) -> BroadcastBot:
    await seed(db, sim, USERS)
    return await launch()


def typed(text: str, *formatted: tuple[str, str] | tuple[str, str, dict[str, Any]]) -> Any:
    """A command as an app sends it: the bot_command entity, then ``(kind, part[, extra])``."""
    command = text.split()[0]
    marks = [entity("bot_command", text, command)]
    for kind, part, *extra in formatted:
        marks.append(entity(kind, text, part, **(extra[0] if extra else {})))
    return {"entities": marks}


def received(sim: TelegramSimulator) -> set[tuple[str | None, tuple[SeenEntity, ...]]]:
    """What every user got: one message each, the same text and entities."""
    got = set()
    for user in USERS:
        [message] = sim.inbox(user)
        got.add((message.text, message.entities))
    return got


async def stored_content(db: Database) -> dict[str, Any]:
    doc = await db["broadcasts"].find_one({})
    content: dict[str, Any] = doc["content"]
    return content


# formatting from the app -------------------------------------------------------------------


async def test_app_formatting_reaches_recipients_as_it_was_typed(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    text = "/broadcast Hello everyone, see the site for the secret"
    options = typed(
        text,
        ("italic", "Hello"),
        ("bold", "everyone"),
        ("text_url", "site", {"url": SITE}),
        ("spoiler", "secret"),
    )

    confirm = await confirmation(sim, text, **options)
    assert "📝 Message: Hello everyone, see the site for the secret" in (confirm.text or "")
    assert marked(confirm) == [
        ("italic", "Hello"),
        ("bold", "everyone"),
        ("text_url", "site"),
        ("spoiler", "secret"),
    ]
    await press(sim, confirm, "Send now")
    await wait_status(db, broadcast_id(confirm), "completed")

    assert received(sim) == {
        (
            "Hello everyone, see the site for the secret",
            (
                SeenEntity("italic", 0, 5),
                SeenEntity("bold", 6, 8),
                SeenEntity("text_url", 24, 4, url=SITE),
                SeenEntity("spoiler", 37, 6),
            ),
        )
    }
    assert (await stored_content(db))["parse_mode"] == "entities"


async def test_formatting_over_the_flags_is_dropped_and_across_them_clipped(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    text = "/broadcast --silent --segment all Big news today"
    options = typed(text, ("bold", "--silent"), ("italic", "all Big"), ("underline", "news"))

    confirm = await confirmation(sim, text, **options)
    assert marked(confirm) == [("italic", "Big"), ("underline", "news")]
    await press(sim, confirm, "Send now")
    await wait_status(db, broadcast_id(confirm), "completed")

    assert received(sim) == {
        ("Big news today", (SeenEntity("italic", 0, 3), SeenEntity("underline", 4, 4)))
    }
    assert all(sim.inbox(user)[0].silent for user in USERS)


async def test_emoji_before_an_entity_count_two_units(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    text = f'/broadcast --button "🎉 Go | {SITE}" 🎉 Party at 9 🥳 tonight'
    options = typed(text, ("italic", "Party"), ("bold", "tonight"))

    await send_now(sim, db, text, **options)

    assert received(sim) == {
        ("🎉 Party at 9 🥳 tonight", (SeenEntity("italic", 3, 5), SeenEntity("bold", 17, 7)))
    }
    assert [marked(sim.inbox(user)[0]) for user in USERS] == [
        [("italic", "Party"), ("bold", "tonight")]
    ] * len(USERS)


async def test_links_the_server_found_do_not_turn_html_off(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    text = f'/broadcast <b>Big</b> <a href="{SITE}">news</a>'
    options = typed(text, ("url", SITE))  # Telegram marks a URL typed in the tag as a link

    confirm = await confirmation(sim, text, **options)
    assert "📝 Message: Big news" in (confirm.text or "")
    assert marked(confirm) == [("bold", "Big"), ("text_url", "news")]
    await press(sim, confirm, "Send now")
    await wait_status(db, broadcast_id(confirm), "completed")

    assert received(sim) == {
        ("Big news", (SeenEntity("bold", 0, 3), SeenEntity("text_url", 4, 4, url=SITE)))
    }


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("--parse plain", ("<b>Big</b> news", ())),
        ("--parse html", ("Big news", (SeenEntity("bold", 0, 3),))),
        ("--parse markdown", ("<b>Big</b> news", ())),
    ],
)
async def test_a_forced_parse_mode_ignores_the_apps_formatting(
    sim: TelegramSimulator,
    db: Database,
    bot: BroadcastBot,
    flag: str,
    expected: tuple[str, tuple[SeenEntity, ...]],
) -> None:
    text = f"/broadcast {flag} <b>Big</b> news"

    await send_now(sim, db, text, **typed(text, ("italic", "news")))

    assert received(sim) == {expected}


async def test_plain_confirmation_shows_the_tags(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    confirm = await confirmation(sim, "/broadcast --parse plain <b>Big</b> news")

    assert "📝 Message: <b>Big</b> news" in (confirm.text or "")
    assert marked(confirm) == []


async def test_confirmed_and_cancelled_confirmations_keep_their_formatting(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    first = await confirmation(sim, "/broadcast <i>One</i>")
    await press(sim, first, "Send now")
    second = await confirmation(sim, "/broadcast <i>Two</i>")
    await press(sim, second, "Cancel")

    edited = [m for m in sim.inbox(ADMIN) if m.message_id in (first.message_id, second.message_id)]
    assert [marked(m) for m in edited] == [[("italic", "One")], [("italic", "Two")]]
    assert [(m.text or "").splitlines()[-1] for m in edited] == [
        "✅ Confirmed",
        "🗑 Cancelled: nothing was sent.",
    ]


# the other ways to give a text ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "/broadcast_schedule in 1 hour | Big news",
        "/broadcast_schedule  in 1 hour\nBig news",
        "/broadcast --at 'in 2 hours' Big news",
    ],
)
async def test_scheduling_keeps_the_apps_formatting(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot, text: str
) -> None:
    await sim.feed_message(ADMIN, text, **typed(text, ("bold", "Big"), ("bold", "hour")))

    confirm = last(sim)
    assert (confirm.text or "").startswith("🗓 Ready to schedule"), confirm.text
    assert marked(confirm) == [("bold", "Big")]
    content = await stored_content(db)
    assert (content["text"], content["entities"]) == (
        "Big news",
        [{"type": "bold", "offset": 0, "length": 3}],
    )


async def test_preview_shows_the_apps_formatting(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    text = "/broadcast_preview 🎉 Hello everyone"

    await sim.feed_message(ADMIN, text, **typed(text, ("bold", "everyone")))

    preview, note = sim.inbox(ADMIN)[-2:]
    assert (preview.text, preview.entities) == ("🎉 Hello everyone", (SeenEntity("bold", 9, 8),))
    assert (note.text or "").startswith("👀 Preview")


async def test_a_replied_to_message_is_copied_as_it_is(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    text = "<b>typed tags</b> and real bold"
    source = await sim.feed_message(ADMIN, text, entities=[entity("bold", text, "real bold")])

    confirm = await confirmation(sim, "/broadcast", reply_to_message_id=source)
    assert marked(confirm) == [("bold", "real bold")]
    await press(sim, confirm, "Send now")
    await wait_status(db, broadcast_id(confirm), "completed")

    assert received(sim) == {(text, (SeenEntity("bold", 22, 9),))}


async def test_an_answer_to_send_me_the_message_is_copied_as_it_is(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    text = "<i>literal</i> 🥳 spoiler"
    await sim.feed_message(ADMIN, "/broadcast")
    assert "Send me the message to broadcast" in texts(sim)[-1]

    confirm = await confirmation(sim, text, entities=[entity("spoiler", text, "spoiler")])
    await press(sim, confirm, "Send now")
    await wait_status(db, broadcast_id(confirm), "completed")

    assert received(sim) == {(text, (SeenEntity("spoiler", 18, 7),))}


async def test_a_message_starting_with_emoji_is_read_whole(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(ADMIN, "🎉 just chatting")  # not a command: ignored, no crash
    assert not any("wrong" in t for t in texts(sim))
    confirm = await confirmation(sim, "/broadcast 🎉🎉 Party tonight")
    assert "🎉🎉 Party tonight" in (confirm.text or "")
