"""Entities: sent as they are, read back from received messages, stored and checked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from hydrogram.types import Message

from bot.delivery.content import (
    ParseMode,
    TextContent,
    TextEntity,
    clipped,
    content_from_document,
    content_to_document,
    entities_within,
)
from bot.delivery.errors import ContentError
from bot.demo.simulator import SeenEntity, TelegramSimulator
from bot.telegram.formatting import plain_entities, rendered
from bot.telegram.sender import HydrogramSender

ALICE = 11
SITE = "https://t.me"
ALL_KINDS = (
    TextEntity("bold", 0, 2),
    TextEntity("text_link", 3, 4, url=SITE),
    TextEntity("text_mention", 8, 5, user_id=ALICE),
    TextEntity("pre", 14, 4, language="python"),
    TextEntity("custom_emoji", 19, 2, custom_emoji_id=5368324170671202286),
    TextEntity("spoiler", 22, 3),
    TextEntity("url", 26, 13),
)
TEXT = "Hi link Alice code 🎉 boo https://e.org"


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    simulator = TelegramSimulator(telegram_limit=1000, chat_burst=100, clock=lambda: 1000.0)
    simulator.add_user(ALICE, first_name="Alice")
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture(autouse=True)
def _cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # hydrogram appends error ids it does not know here


async def test_entities_are_sent_as_they_are(sim: TelegramSimulator) -> None:
    content = TextContent(TEXT, ParseMode.ENTITIES, entities=ALL_KINDS)

    await (await HydrogramSender(sim).prepare(content)).send(ALICE)

    [got] = sim.inbox(ALICE)
    assert got.text == TEXT
    assert got.entities == (
        SeenEntity("bold", 0, 2),
        SeenEntity("text_url", 3, 4, url=SITE),
        SeenEntity("mention_name", 8, 5, user_id=ALICE),
        SeenEntity("pre", 14, 4),
        SeenEntity("custom_emoji", 19, 2),
        SeenEntity("spoiler", 22, 3),
        SeenEntity("url", 26, 13),
    )


async def test_received_entities_read_back_as_they_were_sent(sim: TelegramSimulator) -> None:
    content = TextContent(TEXT, ParseMode.ENTITIES, entities=ALL_KINDS)
    await (await HydrogramSender(sim).prepare(content)).send(ALICE)
    message = await sim.get_messages(ALICE, sim.inbox(ALICE)[0].message_id)
    assert isinstance(message, Message)

    assert plain_entities(message.entities) == ALL_KINDS
    assert await rendered(sim, content) == (TEXT, ALL_KINDS)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            TextContent('<b>Hi</b> 🎉 <a href="https://t.me">all</a>'),
            ("Hi 🎉 all", (TextEntity("bold", 0, 2), TextEntity("text_link", 6, 3, url=SITE))),
        ),
        (TextContent("**Hi** _x", ParseMode.MARKDOWN), ("Hi _x", (TextEntity("bold", 0, 2),))),
        (TextContent("<b>Hi</b>", ParseMode.PLAIN), ("<b>Hi</b>", ())),
    ],
    ids=["html", "markdown", "plain"],
)
async def test_markup_renders_as_recipients_see_it(
    sim: TelegramSimulator, content: TextContent, expected: tuple[str, tuple[TextEntity, ...]]
) -> None:
    assert await rendered(sim, content) == expected


async def test_text_length_is_checked_after_formatting(sim: TelegramSimulator) -> None:
    long = TextContent("x" * 4097, ParseMode.ENTITIES, entities=(TextEntity("bold", 0, 4097),))

    with pytest.raises(ContentError, match="after formatting, got 4097"):
        await HydrogramSender(sim).prepare(long)


def test_content_with_entities_round_trips_and_old_documents_still_read() -> None:
    content = TextContent(TEXT, ParseMode.ENTITIES, entities=ALL_KINDS)
    doc = content_to_document(content)
    old = {"type": "text", "text": "<b>Hi</b>", "parse_mode": "html", "buttons": []}

    assert content_from_document(doc) == content
    assert doc["entities"][1] == {"type": "text_link", "offset": 3, "length": 4, "url": SITE}
    assert "entities" not in content_to_document(TextContent("<b>Hi</b>"))
    assert content_from_document(old) == TextContent("<b>Hi</b>")


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: TextEntity("bot_command", 0, 4), "unknown text entity"),
        (lambda: TextEntity("bold", 0, 0), "length 0"),
        (lambda: TextEntity("bold", -1, 2), "at -1"),
        (lambda: TextEntity("text_link", 0, 2), "needs its url"),
        (lambda: TextEntity("text_mention", 0, 2), "needs its user_id"),
        (lambda: TextContent("Hi", entities=(TextEntity("bold", 0, 2),)), "parse mode entities"),
        (
            lambda: TextContent("🎉", ParseMode.ENTITIES, entities=(TextEntity("bold", 0, 3),)),
            r"past the end of the text \(2 UTF-16 units\)",
        ),
    ],
)
def test_bad_entities_are_refused(build: Callable[[], object], error: str) -> None:
    with pytest.raises(ContentError, match=error):
        build()


def test_entities_within_drops_outside_and_clips_across() -> None:
    entities = (TextEntity("bold", 0, 4), TextEntity("italic", 3, 6), TextEntity("code", 12, 2))

    assert entities_within(entities, 4, 10) == (TextEntity("italic", 0, 5),)
    assert entities_within(entities, 2) == (
        TextEntity("bold", 0, 2),
        TextEntity("italic", 1, 6),
        TextEntity("code", 10, 2),
    )


def test_clipping_a_text_clips_its_entities_in_utf16_units() -> None:
    text, entities = clipped("🎉🎉🎉 bold", (TextEntity("bold", 0, 11),), 3)

    assert (text, entities) == ("🎉🎉…", (TextEntity("bold", 0, 4),))
