"""The interactive demo after a send: report, edit, retry and delete, typed as a person
would, with the ids and numbers read from the chat."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from PIL import Image

from bot.demo.audience import split_audience
from bot.demo.chatinput import ComeBack, Mistake, read_line
from bot.demo.chatscreen import ChatScreen
from bot.demo.cli import parse_args
from bot.demo.simulator import TelegramSimulator
from bot.reports.chart import SIZE_PX
from tests.demo.test_demo_chat import SEND_NOW, Chat, chat_with

CLI = "--users 100 --rate 1000 --telegram-limit 1000 --latency-ms 0 --interactive"


async def walk(chat: Chat) -> dict[str, str]:
    """A broadcast, then its report, an edit, two users back and a retry, a delete."""
    await chat.expect("Any of these can follow")
    await chat.send("/broadcast Hello all")
    bid = (await chat.expect(r"🆔 (bc_\S+)")).group(1)
    button = (await chat.expect(SEND_NOW)).group(1)
    await chat.say(button, r"(✅ BROADCAST COMPLETED)")

    await chat.send(f"/broadcast_report {bid}")
    chart = (await chat.expect(r"saved to (\S+_chart\.png)")).group(1)
    ledger = (await chat.expect(r"saved to (\S+_ledger\.csv)")).group(1)

    yes = await chat.say(f"/broadcast_edit {bid} Hello again", r"\[(\d+)\] ✏️ Yes, edit")
    await chat.say(yes, r"(✅ EDIT COMPLETED)")

    back = r"demo> (\d+) user\(s\) who had blocked the bot came back and wrote /start: ([\d, ]+)\."
    await chat.send(":comeback 2")
    found = await chat.expect(back)
    yes = await chat.say(f"/broadcast_retry {bid}", r"\[(\d+)\] 🔁 Yes, retry")
    retried = await chat.say(yes, r"🔁 Run 2 \(a retry\): (\d+) sent")

    yes = await chat.say(f"/broadcast_delete {bid}", r"\[(\d+)\] 🗑 Yes, delete")
    await chat.say(yes, r"(✅ DELETE COMPLETED)")
    return {"chart": chart, "ledger": ledger, "back": found.group(2), "retried": retried}


def read_report(chart: Path, ledger: Path) -> tuple[tuple[int, int], list[dict[str, str]]]:
    """The PNG's size (it must decode as a PNG) and the CSV's rows."""
    with Image.open(chart) as image:
        assert image.format == "PNG"
        size = image.size
    with ledger.open(newline="", encoding="utf-8") as handle:
        return size, list(csv.DictReader(handle))


async def test_delete_edit_retry_and_report_can_be_walked_in_the_chat() -> None:
    args = parse_args(CLI.split())
    sim = TelegramSimulator(telegram_limit=1000, chat_burst=1000)
    walked: dict[str, str] = {}

    async def admin(chat: Chat) -> None:
        walked.update(await walk(chat))

    await chat_with(args, sim, admin, within_s=40)

    chart, ledger = Path(walked["chart"]), Path(walked["ledger"])
    try:
        size, rows = read_report(chart, ledger)
    finally:
        shutil.rmtree(chart.parent)
    assert size == SIZE_PX
    audience = split_audience(args.users, args.blocked, args.deactivated, args.seed)
    assert len(rows) == args.users + 1  # and the admin, recorded as a user by its commands
    back = [int(uid) for uid in walked["back"].split(", ")]
    assert back == audience.blocked[:2]
    assert walked["retried"] == "2"
    for user in audience.active:
        [copy] = sim.inbox(user)
        assert (copy.text, copy.edited, copy.deleted) == ("Hello again", True, True)
    for user in back:
        copies = [m for m in sim.inbox(user) if m.text == "Hello all"]
        assert [m.deleted for m in copies] == [True]  # the retry's copy, deleted too
    for user in audience.blocked[2:]:
        assert sim.inbox(user) == []


async def test_a_file_the_bot_sends_is_saved_and_named(tmp_path: Path) -> None:
    sim = TelegramSimulator()
    sim.add_user(1)
    await sim.start()
    try:
        data = b"user_id,status\n1,sent\n"
        for _ in range(2):  # the same name twice: the second keeps both
            await sim.send_document(1, io.BytesIO(data), file_name="ledger.csv", caption="CSV")
        out = io.StringIO()
        await ChatScreen(sim, out, chat_id=1, files=tmp_path).refresh()
    finally:
        await sim.stop()

    saved = tmp_path / "ledger.csv"
    again = tmp_path / "ledger-2.csv"
    assert out.getvalue() == (
        f"bot #1> [document ledger.csv, 22 bytes] CSV\n    saved to {saved}\n"
        f"bot #2> [document ledger.csv, 22 bytes] CSV\n    saved to {again}\n"
    )
    assert saved.read_bytes() == again.read_bytes() == data


def test_comeback_reads_how_many() -> None:
    assert read_line(":comeback") == ComeBack()
    assert read_line(":comeback 3") == ComeBack(3)
    for line in (":comeback many", ":comeback 0", ">3 :comeback"):
        assert isinstance(read_line(line), Mistake), line
