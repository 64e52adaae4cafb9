"""Editing a broadcast's copies end to end: new text and entities, captions on a photo and
an album, and the edits Telegram would refuse, refused before anything changes."""

from __future__ import annotations

from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.admin.operations_kit import (
    USERS,
    offered,
    op_id,
    reply_of,
    rows,
    run_operation,
    shows,
)
from tests.botkit import (
    ADMIN,
    eventually,
    last,
    marked,
    press,
    send_now,
    texts,
    wait_status,
)
from tests.conftest import Launch
from tests.support import seed


async def test_edit_gives_every_copy_the_new_text_with_its_entities(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch()
    bid = await send_now(sim, db, '/broadcast --button "Open | https://example.com" Old news')

    confirm = await offered(sim, f"/broadcast_edit {bid} <b>New</b> news, <i>really</i>")
    assert "📝 New text: New news, really" in (confirm.text or "")
    assert await press(sim, confirm, "Yes, edit") == "🚀 Confirmed"
    op = await wait_status(db, op_id(confirm), "completed")

    for uid in USERS:
        [copy] = sim.inbox(uid)
        assert (copy.text, copy.edited) == ("New news, really", True)
        assert marked(copy) == [("bold", "New"), ("italic", "really")]
        assert copy.buttons == ((("Open", "https://example.com"),),)  # kept: none given
        assert sim.touches(uid) == [("edit", (copy.message_id,))]
    assert (op["sent_count"], op["failed_count"]) == (len(USERS), 0)
    assert f"✏️ {op['_id']} edit · completed" in await reply_of(sim, f"/broadcast_history {bid}")

    again = await run_operation(sim, db, f"/broadcast_edit {bid} <b>New</b> news, <i>really</i>")
    assert again["sent_count"] == len(USERS)  # MESSAGE_NOT_MODIFIED: done
    assert all(r.get("duplicate") for r in (await rows(db, again["_id"])).values())


async def test_edit_of_a_caption_on_a_photo_and_on_an_album(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS[:2])
    await launch()
    photo = await sim.feed_message(ADMIN, "Sale today", media="photo")
    single = await send_now(sim, db, "/broadcast", reply_to_message_id=photo)
    ids = await sim.seed_album(ADMIN, ["photo", ("video", "the clip"), "photo"])
    album = await send_now(sim, db, "/broadcast", reply_to_message_id=ids[0])

    text = await sim.feed_message(ADMIN, "Sale tomorrow")
    await run_operation(sim, db, f"/broadcast_edit {single} Sale <i>tomorrow</i>")
    confirm = await offered(sim, f"/broadcast_edit {album}", reply_to_message_id=text)
    await press(sim, confirm, "Yes, edit")
    await wait_status(db, op_id(confirm), "completed")

    for uid in USERS[:2]:
        copy, *items = sim.inbox(uid)
        assert (copy.media, copy.text, marked(copy)) == (
            "photo",
            "Sale tomorrow",
            [("italic", "tomorrow")],
        )
        assert [(m.media, m.text, m.edited) for m in items] == [
            ("photo", None, False),
            ("video", "Sale tomorrow", True),  # the item that carries the caption
            ("photo", None, False),
        ]


async def test_an_edit_telegram_would_refuse_is_refused_before_anything_changes(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS[:2])
    await launch()
    text = await send_now(sim, db, "/broadcast Short")
    photo = await sim.feed_message(ADMIN, "Caption", media="photo")
    captioned = await send_now(sim, db, "/broadcast", reply_to_message_id=photo)
    forwarded = await send_now(sim, db, "/broadcast --forward", reply_to_message_id=photo)

    refusals = {
        f"/broadcast_edit {text} {'x' * 4097}": "a text stays a text: 1-4096 characters",
        f"/broadcast_edit {captioned} {'x' * 1025}": "a caption stays a caption: at most 1024",
        f"/broadcast_edit {forwarded} Another": "a forwarded message cannot be edited",
    }
    for command, why in refusals.items():
        assert why in await reply_of(sim, command)
    await sim.feed_message(ADMIN, f"/broadcast_edit {text}", reply_to_message_id=photo)
    assert texts(sim)[-1].startswith("✏️ Reply to a text message")
    assert (await reply_of(sim, f"/broadcast_edit {text}")).startswith("✏️ Give the new text")

    assert await db["broadcasts"].count_documents({"kind": "edit"}) == 0
    for uid in USERS[:2]:
        assert sim.touches(uid) == []
        assert [m.text for m in sim.inbox(uid)] == ["Short", "Caption", "Caption"]


async def test_an_edit_keeps_the_reaction_row_and_the_buttons_the_send_built(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch()
    site = (("Site", "https://example.com"),)
    bid = await send_now(
        sim, db, '/broadcast --button "Site | https://example.com" --react "👍,👎" Vote'
    )
    sent = {uid: sim.inbox(uid)[0].buttons for uid in USERS}
    assert all(rows[0] == site and len(rows) == 2 for rows in sent.values())

    confirm = await offered(sim, f"/broadcast_edit {bid} Vote <b>again</b>")
    assert "🔘 Buttons: as sent; the reaction row stays (👍 👎)" in (confirm.text or "")
    await press(sim, confirm, "Yes, edit")
    await wait_status(db, op_id(confirm), "completed")
    for uid in USERS:
        [copy] = sim.inbox(uid)
        assert (copy.text, copy.edited, copy.buttons) == ("Vote again", True, sent[uid])
    assert await press(sim, sim.inbox(USERS[0])[0], "👎", user=USERS[0]) == "Thanks! You chose 👎"

    # New URL buttons replace the old ones; the reaction row stays under them.
    await run_operation(
        sim, db, f'/broadcast_edit {bid} --button "Shop | https://shop.example" Vote'
    )
    for uid in USERS:
        [copy] = sim.inbox(uid)
        assert copy.buttons == ((("Shop", "https://shop.example"),), sent[uid][1])


async def test_an_edit_keeps_the_keyboard_a_copied_message_carried(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS[:2])
    await launch()
    await sim.feed_message(ADMIN, '/broadcast_preview --button "Menu | https://example.com" Menu')
    preview = sim.inbox(ADMIN)[-2]
    assert preview.buttons == ((("Menu", "https://example.com"),),)
    bid = await send_now(sim, db, "/broadcast", reply_to_message_id=preview.message_id)
    assert all(sim.inbox(uid)[0].buttons == preview.buttons for uid in USERS[:2])

    await run_operation(sim, db, f"/broadcast_edit {bid} The new menu")

    for uid in USERS[:2]:
        [copy] = sim.inbox(uid)
        assert (copy.text, copy.buttons) == ("The new menu", preview.buttons)


async def test_copies_telegram_will_not_edit_any_more_are_reported_too_old(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    fresh, old = USERS[0], USERS[1:]
    await seed(db, sim, USERS)
    await launch()
    sim.fail_next(fresh, error_message="RPC_CALL_FAIL", error_code=500, times=3)
    bid = await send_now(sim, db, "/broadcast First words")
    sim.pass_time(2 * 3600)
    sim.limit_edits(3600)  # a server that edits messages younger than an hour only
    await sim.feed_message(ADMIN, f"/broadcast_retry {bid}")
    assert await press(sim, last(sim), "Yes, retry") == "🔁 Retrying"
    await eventually(lambda: shows(sim, db, bid, "Run 2 (a retry)"))

    op = await run_operation(sim, db, f"/broadcast_edit {bid} Better words")

    assert (op["status"], op["sent_count"], op["failed_count"]) == ("completed", 1, 5)
    assert [(m.text, m.edited) for m in sim.inbox(fresh)] == [("Better words", True)]
    done = await rows(db, op["_id"])
    for uid in old:
        [copy] = sim.inbox(uid)
        assert (copy.text, copy.edited) == ("First words", False)
        assert sim.touches(uid) == [("edit", (copy.message_id,))]  # asked once, refused
        assert (done[uid]["status"], done[uid]["error"]) == ("failed", "forbidden")
        assert done[uid]["error_code"].startswith("MESSAGE_EDIT_TIME_EXPIRED: TOO_OLD_TO_EDIT")
    too_old = "• Too old to edit (Telegram refused): 5 (100%)"
    await eventually(lambda: shows(sim, db, op["_id"], "EDIT COMPLETED", too_old))
