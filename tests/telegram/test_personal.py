"""The sender's personal greetings and reaction rows, against the simulator: values of a
resolved batch, a lone recipient's look-up, album captions, paid requests, escapes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

import pytest

from bot.delivery.content import CopyContent, Delivery, ParseMode, TextContent
from bot.delivery.errors import ContentError, StorageUnavailableError
from bot.delivery.placeholders import Values
from bot.demo.simulator import TelegramSimulator
from bot.telegram.sender import HydrogramSender
from tests.botkit import marked

ADMIN, ALICE, BOB = 10, 11, 12
NAMES: dict[int, Values] = {ALICE: {"first_name": "Alice 🌸"}, BOB: {"username": "bob"}}


class Directory:
    """Recipients' values, as the users collection would give them; counts the look-ups."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.down = False

    async def __call__(self, user_ids: Sequence[int]) -> Mapping[int, Values]:
        self.calls.append(sorted(user_ids))
        if self.down:
            raise StorageUnavailableError("AutoReconnect: primary stepped down")
        return {uid: NAMES[uid] for uid in user_ids if uid in NAMES}


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    simulator = TelegramSimulator(telegram_limit=1000, chat_burst=100, clock=lambda: 1000.0)
    simulator.add_user(ADMIN)
    simulator.add_users([ALICE, BOB])
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture(autouse=True)
def _cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # hydrogram appends unknown error ids to ./unknown_errors.txt


async def test_a_resolved_batch_is_looked_up_once_and_each_send_is_filled(
    sim: TelegramSimulator,
) -> None:
    directory = Directory()
    sender = HydrogramSender(sim, profiles=directory, paid=True)
    content = TextContent("<b>Hi</b> {first_name|you} (@{username|-}) <i>bye</i>", ParseMode.HTML)
    prepared = await sender.prepare(content, "bc_20261207_101500_ab12")

    await prepared.resolve([ALICE, BOB])
    await prepared.send(ALICE, "bc_20261207_101500_ab12")
    await prepared.send(BOB, "bc_20261207_101500_ab12")

    assert directory.calls == [[ALICE, BOB]]
    [alice] = sim.inbox(ALICE)
    assert alice.text == "Hi Alice 🌸 (@-) bye"
    assert marked(alice) == [("bold", "Hi"), ("italic", "bye")]
    assert [m.text for m in sim.inbox(BOB)] == ["Hi you (@bob) bye"]


async def test_a_lone_send_looks_its_recipient_up_and_an_outage_sends_nothing(
    sim: TelegramSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    directory = Directory()
    sender = HydrogramSender(sim, profiles=directory)
    prepared = await sender.prepare(TextContent("Hi {first_name}"))

    await prepared.send(ALICE)
    assert directory.calls == [[ALICE]]
    assert [m.text for m in sim.inbox(ALICE)] == ["Hi Alice 🌸"]

    directory.down = True
    with caplog.at_level(logging.WARNING):
        await prepared.resolve([BOB])  # the batch's look-up fails: logged, left to the send
    assert "could not load the values of 1 recipients" in caplog.text
    with pytest.raises(StorageUnavailableError):  # the pipeline waits it out
        await prepared.send(BOB)
    assert sim.inbox(BOB) == []


async def test_album_captions_are_filled_item_by_item(sim: TelegramSimulator) -> None:
    ids = await sim.seed_album(ADMIN, [("photo", "For {first_name|you}"), ("video", "plain")])
    directory = Directory()
    prepared = await HydrogramSender(sim, profiles=directory).prepare(CopyContent(ADMIN, (ids[0],)))

    await prepared.send(ALICE)
    await prepared.send(BOB)

    assert [(m.media, m.text) for m in sim.inbox(ALICE)] == [
        ("photo", "For Alice 🌸"),
        ("video", "plain"),
    ]
    assert [m.text for m in sim.inbox(BOB)] == ["For you", "plain"]


async def test_without_placeholders_escapes_are_read_once_and_nobody_is_looked_up(
    sim: TelegramSimulator,
) -> None:
    directory = Directory()
    content = TextContent("{{first_name} <b>stays</b>", ParseMode.HTML)
    prepared = await HydrogramSender(sim, profiles=directory).prepare(content)

    await prepared.resolve([ALICE])
    await prepared.send(ALICE)

    [received] = sim.inbox(ALICE)
    assert received.text == "{first_name} stays"
    assert marked(received) == [("bold", "stays")]
    assert directory.calls == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{first_name}", "empty for a user without values"),
        ("Hi {nickname}", "unknown placeholder {nickname}"),
        ("x" * 4097 + "{first_name}", "at most 4096 characters"),
    ],
)
async def test_a_text_that_cannot_work_is_refused_when_prepared(
    sim: TelegramSimulator, text: str, problem: str
) -> None:
    with pytest.raises(ContentError, match=problem):
        await HydrogramSender(sim).prepare(TextContent(text, ParseMode.PLAIN))


async def test_reactions_need_whoever_answers_them(sim: TelegramSimulator) -> None:
    content = TextContent("Q?", ParseMode.PLAIN, Delivery(reactions=("Yes", "No")))
    with pytest.raises(ContentError, match="need the admin bot"):
        await HydrogramSender(sim).prepare(content)

    sender = HydrogramSender(sim, reaction_data=lambda bid, index: f"bc:r{index}:{bid}")
    prepared = await sender.prepare(content, "bc_20261207_101500_ab12")
    await prepared.send(ALICE)

    [received] = sim.inbox(ALICE)
    assert received.buttons == (
        (("Yes", "bc:r0:bc_20261207_101500_ab12"), ("No", "bc:r1:bc_20261207_101500_ab12")),
    )
