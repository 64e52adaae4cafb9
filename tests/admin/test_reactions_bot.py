"""Reaction rows end to end: recipients press, their choices are counted in MongoDB and
shown in the history; nobody else hears of a press."""

from __future__ import annotations

import pytest

from bot.admin.install import BroadcastBot
from bot.demo.simulator import ReceivedMessage, TelegramSimulator
from bot.storage.mongo import Database
from tests.botkit import (
    ADMIN,
    as_awaitable,
    broadcast_id,
    confirmation,
    eventually,
    last,
    press,
    running,
    send_now,
    status_message,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed

USERS = list(range(7001, 7011))
REACT = '/broadcast --react "👍,👎,🤔" Did you like it?'


@pytest.fixture
async def bot(db: Database, sim: TelegramSimulator, launch: Launch) -> BroadcastBot:
    await seed(db, sim, USERS)
    return await launch()


def labels(message: ReceivedMessage) -> list[str]:
    return [text for row in message.buttons for text, _ in row]


async def test_choices_are_counted_once_per_user_and_shown_in_history(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await send_now(sim, db, REACT)
    [message] = sim.inbox(USERS[0])
    assert labels(message) == ["👍", "👎", "🤔"]

    for user, choice in zip(USERS[:5], ["👍", "👍", "👎", "👍", "🤔"], strict=True):
        [received] = sim.inbox(user)
        assert await press(sim, received, choice, user=user) == f"Thanks! You chose {choice}"
    # The fifth user changes their mind twice: counted once, with the last choice.
    assert await press(sim, sim.inbox(USERS[4])[0], "👎", user=USERS[4]) == "Thanks! You chose 👎"
    assert await press(sim, sim.inbox(USERS[4])[0], "👎", user=USERS[4]) == "Thanks! You chose 👎"

    assert await bot.core.reactions.counts(bid) == {"👍": 3, "👎": 2}
    docs = await db["broadcast_reactions"].find({}).to_list(None)
    assert len(docs) == 5
    mind_changer = await db["broadcast_reactions"].find_one({"_id": f"{bid}:{USERS[4]}"})
    assert (mind_changer["broadcast_id"], mind_changer["user_id"]) == (bid, USERS[4])
    assert mind_changer["choice"] == "👎"

    await sim.feed_message(ADMIN, f"/broadcast_history {bid}")
    assert "🗳 Reactions: 👍 3 · 👎 2 · 🤔 0 (5 voted)" in texts(sim)[-1]
    await sim.feed_message(ADMIN, "/broadcast_history")
    assert "🗳 Reactions: 👍 3 · 👎 2 · 🤔 0 (5 voted)" in texts(sim)[-1]


async def test_a_recipients_press_changes_nothing_else(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await send_now(sim, db, REACT)
    broadcast_before = await db["broadcasts"].find_one({"_id": bid})
    admin_before = sim.inbox(ADMIN)

    outsider = USERS[3]
    assert await press(sim, sim.inbox(outsider)[0], "🤔", user=outsider) == "Thanks! You chose 🤔"

    assert sim.callback_answers[-1].user_id == outsider
    assert sim.inbox(ADMIN) == admin_before  # no message, no edit
    assert await db["broadcasts"].find_one({"_id": bid}) == broadcast_before
    assert [m.text for m in sim.inbox(outsider)] == ["Did you like it?"]
    assert await db["broadcast_reactions"].count_documents({}) == 1


async def test_reactions_sit_under_the_url_buttons_and_previews_do_not_count(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    await sim.feed_message(
        ADMIN, '/broadcast_preview --button "Site | https://example.com" --react "Yes,No" Q?'
    )
    preview = sim.inbox(ADMIN)[-2]
    assert preview.buttons[0] == (("Site", "https://example.com"),)
    assert labels(preview) == ["Site", "Yes", "No"]
    assert await press(sim, preview, "Yes") == "This is a preview: choices are not counted."

    confirm = await confirmation(sim, '/broadcast --react "Yes,No" Q?')
    assert "⚙️ Options: reactions Yes No" in (confirm.text or "")
    await press(sim, confirm, "Preview to me")
    assert await press(sim, last(sim), "No") == "This is a preview: choices are not counted."
    assert await db["broadcast_reactions"].count_documents({}) == 0


async def test_a_press_on_a_withdrawn_broadcast_is_answered_politely(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch(rate=5)
    # The last recipient's send is answered with a long FloodWait: the broadcast cannot
    # end before the cancel, however slow the machine.
    sim.fail_next(USERS[-1], error_message="FLOOD_WAIT_60", error_code=420)
    confirm = await confirmation(sim, REACT)
    await press(sim, confirm, "Send now")
    bid = broadcast_id(confirm)
    doc = await running(sim, db, bid)
    await eventually(lambda: as_awaitable(any(sim.inbox(user) for user in USERS)))
    await press(sim, status_message(sim, doc), "Cancel")
    assert await press(sim, status_message(sim, doc), "Yes") == "🛑 Cancelled"
    await wait_status(db, bid, "cancelled")

    got = next(user for user in USERS if sim.inbox(user))
    assert await press(sim, sim.inbox(got)[0], "👍", user=got) == "This message was withdrawn."
    assert await db["broadcast_reactions"].count_documents({}) == 0


async def test_a_deleted_broadcast_is_withdrawn_too(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    bid = await send_now(sim, db, REACT)
    await db["broadcasts"].update_one({"_id": bid}, {"$set": {"deleted_at": bot.context.now()}})

    user = USERS[0]
    assert await press(sim, sim.inbox(user)[0], "👍", user=user) == "This message was withdrawn."
    await db["broadcasts"].delete_one({"_id": bid})
    assert await press(sim, sim.inbox(user)[0], "👎", user=user) == "This message was withdrawn."


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        ('/broadcast --react "👍" Hi', 'Bad --react "👍": reactions: 2-8 options, got 1'),
        ('/broadcast --react "a,b,c,d,e,f,g,h,i" Hi', "2-8 options, got 9"),
        ('/broadcast --react "👍,👍" Hi', "the options must differ"),
        ('/broadcast --react "👍,this one is far too long" Hi', "each option is 1-16 characters"),
        ('/broadcast --forward --react "a,b"', "--forward cannot be combined with --react"),
    ],
)
async def test_bad_reaction_rows_are_refused_at_the_command(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot, command: str, refusal: str
) -> None:
    await sim.feed_message(ADMIN, command)

    assert refusal in texts(sim)[-1]
    assert await db["broadcasts"].count_documents({}) == 0


async def test_an_album_cannot_get_a_reaction_row(
    sim: TelegramSimulator, db: Database, bot: BroadcastBot
) -> None:
    ids = await sim.seed_album(ADMIN, ["photo", "video"])

    await sim.feed_message(ADMIN, '/broadcast --react "a,b"', reply_to_message_id=ids[0])

    assert "Telegram does not allow buttons on an album" in texts(sim)[-1]
    assert await db["broadcasts"].count_documents({}) == 0
