"""Where a waiting broadcast stands, whichever instance the admin talked to, and who goes
first when a paused broadcast is resumed."""

from __future__ import annotations

from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from tests.admin.queue_kit import SLOW, USERS, confirmed, copies, sent_some, status_of
from tests.botkit import as_awaitable, eventually, press, wait_status
from tests.conftest import Launch
from tests.ops.test_metrics import free_port, scrape
from tests.support import seed

QUEUE_LENGTH = ("broadcast_queue_length", ())


async def test_a_broadcast_confirmed_on_the_standby_is_shown_its_place(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    leader_port, standby_port = free_port(), free_port()
    leader = await launch(holder="a", rate=SLOW / 2, refresh_s=0.2, metrics_port=leader_port)
    await eventually(lambda: as_awaitable(leader.leads))  # the first election may time out
    standby_client: TelegramSimulator = sim.another_connection("standby")
    await standby_client.start()
    try:
        standby = await launch(
            holder="b",
            rate=SLOW / 2,
            refresh_s=0.2,
            client=standby_client,
            metrics_port=standby_port,
        )
        assert not standby.leads
        first = await confirmed(sim, "/broadcast One")
        await eventually(lambda: sent_some(sim, "One"))
        second = await confirmed(standby_client, "/broadcast Two")  # the leader sends One

        async def told_its_place() -> bool:
            text = (await status_of(sim, db, second)).text or ""
            shown = "Queued: 1 ahead" in text and f"Now: {first}, sending" in text
            return shown and (await scrape(leader_port))[QUEUE_LENGTH] == 1

        await eventually(told_its_place)
        assert (await db["broadcasts"].find_one({"_id": first}))["status"] == "running"
        await wait_status(db, second, "completed")

        async def nothing_waits() -> bool:
            lengths = [(await scrape(port))[QUEUE_LENGTH] for port in (leader_port, standby_port)]
            return lengths == [0, 0]

        await eventually(nothing_waits)
        await standby.stop()
    finally:
        await standby_client.stop()
    assert copies(sim, "One") == copies(sim, "Two") == dict.fromkeys(USERS, 1)


async def test_a_resumed_broadcast_goes_before_the_ones_waiting(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch(rate=SLOW, refresh_s=0.2)
    first = await confirmed(sim, "/broadcast Alpha")
    await eventually(lambda: sent_some(sim, "Alpha"))
    assert await press(sim, await status_of(sim, db, first), "Pause") == "⏸ Paused"
    await wait_status(db, first, "paused")
    second = await confirmed(sim, "/broadcast Bravo")
    await eventually(lambda: sent_some(sim, "Bravo"))
    third = await confirmed(sim, "/broadcast Charlie")  # waits for Bravo

    assert await press(sim, await status_of(sim, db, first), "Resume") == "▶️ Resumed"
    for bid in (first, second, third):
        await wait_status(db, bid, "completed")

    assert copies(sim, "Alpha") == copies(sim, "Bravo") == copies(sim, "Charlie")
    assert copies(sim, "Charlie") == dict.fromkeys(USERS, 1)
    got = [m for uid in USERS for m in sim.inbox(uid)]
    # Private chats share one message id sequence: ids give the global order of delivery.
    ids = {text: [m.message_id for m in got if m.text == text] for text in ("Alpha", "Bravo")}
    charlie = min(m.message_id for m in got if m.text == "Charlie")
    assert max(ids["Alpha"]) < charlie, "the resumed one finished before the one waiting"
    assert max(ids["Bravo"]) < charlie
    assert any(i > max(ids["Bravo"]) for i in ids["Alpha"]), "Alpha went on after Bravo"
