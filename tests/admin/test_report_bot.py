"""``/broadcast_report`` end to end: the admin gets a PNG and a CSV through the simulated
Telegram, and both agree with MongoDB (the summary, the ledger, the FloodWaits, the
reactions, the runs)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.admin.install import BroadcastBot
from bot.demo.simulator import SentFile, TelegramSimulator, UserState
from bot.reports.build import ReportSources, write_report
from bot.reports.chart import SIZE_PX
from bot.reports.rows import CSV_COLUMNS
from bot.storage.mongo import Database
from tests.botkit import ADMIN, broadcast_id, last, press, send_now, texts, wait_status
from tests.conftest import Launch
from tests.support import seed

USERS = list(range(3_100_000, 3_100_030))
OUTSIDER = 3_200_000


def documents(sim: TelegramSimulator, count: int = 2) -> list[SentFile]:
    """The files of the admin's last ``count`` messages."""
    received = sim.inbox(ADMIN)[-count:]
    files = [m.file for m in received]
    assert all(m.media == "document" for m in received), [m.text for m in received]
    assert all(f is not None for f in files)
    return [f for f in files if f is not None]


async def report(sim: TelegramSimulator, bid: str) -> tuple[Image.Image, list[dict[str, str]]]:
    """Ask for the report of ``bid``; the decoded PNG and the CSV's rows."""
    await sim.feed_message(ADMIN, f"/broadcast_report {bid}")
    chart, ledger = documents(sim)
    assert (chart.name, chart.mime_type) == (f"{bid}_chart.png", "image/png")
    assert (ledger.name, ledger.mime_type) == (f"{bid}_ledger.csv", "text/csv")
    image = Image.open(io.BytesIO(chart.data))
    image.load()
    reader = csv.DictReader(io.StringIO(ledger.data.decode("utf-8")))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return image, list(reader)


async def ledger_rows(db: Database, bid: str) -> dict[int, dict[str, Any]]:
    return {r["user_id"]: r async for r in db["deliveries"].find({"broadcast_id": bid})}


def statuses(rows: list[dict[str, str]]) -> Counter[str]:
    return Counter(row["status"] for row in rows)


async def test_the_report_is_a_png_of_the_chart_and_a_csv_that_agrees_with_the_summary(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS)
    await launch()
    blocked, gone, flaky = USERS[:2], USERS[2], USERS[3]
    for uid in blocked:
        sim.set_state(uid, UserState.BLOCKED)
    sim.set_state(gone, UserState.DEACTIVATED)
    sim.fail_next(flaky, error_message="RPC_CALL_FAIL", error_code=500, times=3)
    # Telegram's shortest FloodWait, to be recorded and shaded.
    sim.fail_next(USERS[-1], error_message="FLOOD_WAIT_1", error_code=420)
    bid = await send_now(sim, db, "/broadcast Quarterly <b>figures</b>")

    image, rows = await report(sim, bid)

    assert (image.format, image.size) == ("PNG", SIZE_PX)
    assert len(image.getcolors(maxcolors=1 << 16) or ()) > 8  # drawn, not blank
    doc = await db["broadcasts"].find_one({"_id": bid})
    assert len(rows) == doc["total_users"] == len(USERS)
    assert statuses(rows) == {"sent": doc["sent_count"], "failed": doc["failed_count"]}
    failed = Counter(row["category"] for row in rows if row["status"] == "failed")
    assert failed == doc["error_breakdown"] == {"blocked": 2, "deactivated": 1, "transient": 1}
    stored = await ledger_rows(db, bid)
    for row in rows:
        entry = stored[int(row["user_id"])]
        assert row["status"] == entry["status"]
        assert row["message_ids"] == str(entry.get("message_id") or "")
        assert row["error"] == (entry.get("error_code") or "")
        assert row["settled_at"].endswith("Z")
    by_user = {int(row["user_id"]): row for row in rows}
    assert by_user[blocked[0]]["error"].startswith("USER_IS_BLOCKED")
    assert by_user[flaky]["attempts"] == "3"
    assert [e["seconds"] for e in doc["flood_wait_log"]] == [1.0] == [1.0] * doc["flood_waits"]

    captions = [m.text or "" for m in sim.inbox(ADMIN)[-2:]]
    assert captions[0].startswith(f"📊 Report of {bid}: deliveries and rate over sending time")
    assert captions[1].startswith(f"🧾 Ledger of {bid}: 30 rows, one per recipient (26 sent, 4")
    assert await db["broadcasts"].find_one({"_id": bid}) == doc  # a report changes nothing


async def test_what_the_chart_shows_flood_waits_errors_and_reactions(
    sim: TelegramSimulator, db: Database, launch: Launch, tmp_path: Path
) -> None:
    await seed(db, sim, USERS[:10])
    bot = await launch()
    sim.set_state(USERS[0], UserState.BLOCKED)
    sim.fail_next(USERS[9], error_message="FLOOD_WAIT_1", error_code=420)
    bid = await send_now(sim, db, '/broadcast --react "👍,👎,🤔" Like it?')
    for uid, choice in zip(USERS[1:5], ["👍", "👍", "👎", "👍"], strict=True):
        await press(sim, sim.inbox(uid)[0], choice, user=uid)

    files = await write_report(sources(bot), bid, tmp_path)

    shown = files.shown
    assert shown.reactions == (("👍", 3), ("👎", 1), ("🤔", 0))
    assert shown.errors == (("User blocked the bot", 1),)
    assert len(shown.timeline.floods) == 1
    begin, end = shown.timeline.floods[0]
    assert end - begin == pytest.approx(1.0, abs=0.01)
    assert sum(bar.sent for bar in shown.timeline.bars) == 9
    assert sum(bar.failed for bar in shown.timeline.bars) == 1
    assert "FloodWaits: 1, 1s in all" in shown.notes
    with Image.open(files.chart) as image:
        assert image.size == SIZE_PX


def sources(bot: BroadcastBot) -> ReportSources:
    core = bot.core
    return ReportSources(core.store, core.ledger, core.reactions)


async def test_a_retried_broadcast_reports_each_row_once_and_both_runs(
    sim: TelegramSimulator, db: Database, launch: Launch, tmp_path: Path
) -> None:
    await seed(db, sim, USERS[:8])
    bot = await launch()
    flaky = USERS[:3]
    for uid in flaky:
        sim.fail_next(uid, error_message="RPC_CALL_FAIL", error_code=500, times=3)
    bid = await send_now(sim, db, "/broadcast Second time lucky")
    await sim.feed_message(ADMIN, f"/broadcast_retry {bid}")
    assert await press(sim, last(sim), "Yes, retry") == "🔁 Retrying"
    await wait_status(db, bid, "completed")
    doc = await db["broadcasts"].find_one({"_id": bid})
    assert len(doc["runs"]) == 2

    _, rows = await report(sim, bid)

    doc = await db["broadcasts"].find_one({"_id": bid})
    assert (doc["sent_count"], doc["failed_count"]) == (8, 0)
    assert statuses(rows) == {"sent": 8}
    assert sorted(int(row["user_id"]) for row in rows) == USERS[:8]  # each recipient once
    shown = (await write_report(sources(bot), bid, tmp_path)).shown
    assert [mark.number for mark in shown.timeline.runs] == [1, 2]
    first, second = shown.timeline.runs
    assert second.x > first.x
    retried = sum(bar.sent for bar in shown.timeline.bars if bar.run == 2)
    assert retried == len(flaky)  # each counted in the run that sent it last
    assert any(line.startswith("Run 2") and "3 sent" in line for line in shown.notes)


async def test_refusals_are_specific_and_change_nothing(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS[:3])
    sim.add_user(OUTSIDER, first_name="Eve")
    await launch()
    sent = await send_now(sim, db, "/broadcast Done")
    await sim.feed_message(ADMIN, "/broadcast --at 'in 1 hour' Later")
    assert await press(sim, last(sim), "Schedule") == "🗓 Scheduled"
    scheduled = broadcast_id(last(sim))
    await sim.feed_message(ADMIN, f"/broadcast_delete {sent}")
    await press(sim, last(sim), "Yes, delete")
    delete = (await db["broadcasts"].find_one({"kind": "delete"}))["_id"]
    await wait_status(db, delete, "completed")
    before = [d async for d in db["broadcasts"].find({})]
    unknown = "bc_20200101_000000_dead"

    replies = {}
    for command in (
        f"/broadcast_report {unknown}",
        f"/broadcast_report {scheduled}",
        f"/broadcast_report {delete}",
    ):
        await sim.feed_message(ADMIN, command)
        replies[command] = texts(sim)[-1]
    await sim.feed_message(OUTSIDER, f"/broadcast_report {sent}")

    assert replies[f"/broadcast_report {unknown}"] == f"No broadcast {unknown}."
    assert replies[f"/broadcast_report {scheduled}"] == (
        f"📊 {scheduled} was never sent (scheduled): there is nothing to report."
    )
    assert replies[f"/broadcast_report {delete}"].startswith(
        f"📊 {delete} is a delete of {sent}, not a broadcast: /broadcast_report {sent} reports"
    )
    assert texts(sim, OUTSIDER) == ["⛔ Admins only."]
    assert not any(m.media for m in sim.inbox(ADMIN)[-3:])
    assert [d async for d in db["broadcasts"].find({})] == before


async def test_a_running_broadcast_is_reported_once_it_has_ended(
    sim: TelegramSimulator, db: Database, launch: Launch
) -> None:
    await seed(db, sim, USERS[:20])
    await launch(rate=5)  # 4 s of sending
    await sim.feed_message(ADMIN, "/broadcast Slowly")
    confirm = last(sim)
    await press(sim, confirm, "Send now")
    bid = broadcast_id(confirm)
    await wait_status(db, bid, "running")

    await sim.feed_message(ADMIN, f"/broadcast_report {bid}")

    assert texts(sim)[-1].startswith(f"📊 {bid} is still running: ask for its report once")
