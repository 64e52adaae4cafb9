"""``python -m bot demo --interactive``: a scripted admin chats with the bot.

The walks go through every path of the README: a reply-copy of a photo, an album,
a forward, and a double tap on Send now. Message and button numbers are read from
the chat as a person would read them.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import sys
from argparse import Namespace
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.demo.audience import split_audience
from bot.demo.chat import run_chat
from bot.demo.chatinput import (
    Forward,
    Help,
    Mistake,
    Press,
    Quit,
    Say,
    SendAlbum,
    SendFile,
    SendMedia,
    read_line,
)
from bot.demo.chatscreen import ChatScreen
from bot.demo.cli import parse_args
from bot.demo.simulator import TelegramSimulator

ROOT = Path(__file__).resolve().parents[2]
CLI = "--users 20 --rate 1000 --telegram-limit 1000 --latency-ms 0 --interactive"
SEND_NOW = r"\[(\d+)\] 🚀 Send now"


class Chat:
    """Types lines and waits for what they bring, reading only what came after the last wait."""

    def __init__(self, send: Callable[[str], Awaitable[None]], read: Callable[[], str]) -> None:
        self.send, self.read = send, read
        self.seen = 0

    async def expect(self, pattern: str, within_s: float = 10.0) -> re.Match[str]:
        wanted = re.compile(pattern)
        async with asyncio.timeout(within_s):
            while not (found := wanted.search(self.read(), self.seen)):  # noqa: ASYNC110 (polled)
                await asyncio.sleep(0.02)
        self.seen = found.end()
        return found

    async def say(self, line: str, answer: str) -> str:
        """Type ``line``; return the first group of the ``answer`` it brings."""
        await self.send(line)
        return (await self.expect(answer)).group(1)

    async def broadcast(self, line: str, describes: str) -> None:
        """Type a /broadcast line, check its confirmation, press Send now, wait for the end."""
        start = self.seen
        button = await self.say(line, SEND_NOW)
        assert describes in self.read()[start : self.seen], self.read()[start:]
        await self.say(button, r"(✅ BROADCAST COMPLETED)")


async def chat_with(
    args: Namespace,
    sim: TelegramSimulator,
    admin: Callable[[Chat], Awaitable[None]],
    within_s: float,
) -> str:
    """Run the chat with a scripted admin; return the screen. A failing admin stops the
    chat too (a task group), so its clients are closed and the test process can exit."""
    out, typed = io.StringIO(), asyncio.Queue[str]()

    async def lines() -> AsyncIterator[str]:
        while (line := await typed.get()) != "/quit":
            yield line

    async def scripted() -> None:
        await admin(Chat(typed.put, out.getvalue))
        await typed.put("/quit")

    async with asyncio.timeout(within_s), asyncio.TaskGroup() as tasks:
        tasks.create_task(run_chat(args, lines(), out, sim=sim))
        tasks.create_task(scripted())
    return out.getvalue()


async def walk(chat: Chat) -> None:
    """Every path of the README, typed."""
    await chat.expect("Any of these can follow")
    photo = await chat.say(":photo Sale today", r"you #(\d+)> \[photo\] Sale today")
    await chat.broadcast(f">{photo} /broadcast", "Copy of a photo: Sale today")
    album = await chat.say(":album photo,video The clip", r"you #(\d+)> \[photo, album\] The")
    await chat.broadcast(f">{album} /broadcast", "Copy of an album")
    post = await chat.say(":forward", r"you #(\d+)> \[forwarded\] the channel's post")
    await chat.broadcast(f">{post} /broadcast --forward", "Broadcast Manager News")
    button = await chat.say("/broadcast Twice?", SEND_NOW)
    await chat.say(f"{button} {button}", r"(This broadcast has already started\.)")
    await chat.expect("✅ BROADCAST COMPLETED")
    await chat.say("99", r"demo> no button \[99\] \(shown: (.*)\); \":say 99\" sends it as text")
    await chat.say(":say 99", r"you #(\d+)> 99\n")


async def test_every_readme_path_can_be_walked_in_the_chat() -> None:
    args = parse_args(CLI.split())
    sim = TelegramSimulator(telegram_limit=1000, chat_burst=1000)
    shown = await chat_with(args, sim, walk, within_s=30)

    assert "bot (toast)> 🚀 Confirmed" in shown
    active = split_audience(args.users, args.blocked, args.deactivated, args.seed).active
    for user in active:
        received = [(m.media, m.forwarded, m.text) for m in sim.inbox(user)]
        assert received[-5:] == [
            ("photo", False, "Sale today"),
            ("photo", False, "The clip"),
            ("video", False, None),
            (None, True, "Broadcast Manager News 📰 version 1.0 is out: forward this to everyone!"),
            (None, False, "Twice?"),
        ], user
    assert len({m.grouped_id for m in sim.inbox(active[0])[1:3]}) == 1


async def test_a_local_file_is_sent_with_its_name_and_size_and_a_missing_one_is_refused(
    tmp_path: Path,
) -> None:
    report = tmp_path / "q3.pdf"
    report.write_bytes(b"%PDF" * 300)
    sim = TelegramSimulator(telegram_limit=1000, chat_burst=1000)

    async def admin(chat: Chat) -> None:
        await chat.expect("Any of these can follow")
        await chat.say(f":file {tmp_path}/gone.pdf Figures", r"demo> (no such file: \S+)")
        sent = await chat.say(f":file {report} Q3 figures", r"you #(\d+)> \[document\] Q3")
        await chat.broadcast(f">{sent} /broadcast", "Copy of a document")

    screen = await chat_with(parse_args(CLI.split()), sim, admin, within_s=30)

    assert "Q3 figures\nq3.pdf (1,200 bytes)" in screen
    args = parse_args(CLI.split())
    for user in split_audience(args.users, args.blocked, args.deactivated, args.seed).active:
        received = [(m.media, m.text) for m in sim.inbox(user)]
        assert received[-1] == ("document", "Q3 figures\nq3.pdf (1,200 bytes)"), user


async def test_a_piped_session_walks_every_path() -> None:
    env = {key: value for key, value in os.environ.items() if key != "FORCE_COLOR"}
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "bot", "demo", *CLI.split()],
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    stdin, stdout = process.stdin, process.stdout
    received: list[str] = []

    async def send(line: str) -> None:
        stdin.write(line.encode() + b"\n")
        await stdin.drain()

    async def pump() -> None:
        while chunk := await stdout.read(4096):
            received.append(chunk.decode(errors="replace"))

    reader = asyncio.create_task(pump())
    try:
        async with asyncio.timeout(40):
            await walk(Chat(send, lambda: "".join(received)))
            await send("/quit")
            await reader
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    errors = (await process.stderr.read()).decode()
    assert "Traceback" not in errors, errors
    shown = "".join(received)
    assert "\x1b" not in shown  # a pipe gets plain text
    assert "bot (toast)> This broadcast has already started." in shown


async def test_edits_redraw_in_place_on_a_terminal_and_below_elsewhere() -> None:
    sim = TelegramSimulator()
    sim.add_user(1)
    await sim.start()
    try:
        message = await sim.send_message(1, "10%")
        plain, tty = io.StringIO(), io.StringIO()
        screens = [ChatScreen(sim, plain, chat_id=1), ChatScreen(sim, tty, ansi=True, chat_id=1)]
        for screen in screens:
            await screen.refresh()
        await message.edit_text("50%")
        for screen in screens:
            await screen.refresh()
            await screen.refresh()  # nothing changed: nothing printed
    finally:
        await sim.stop()

    assert plain.getvalue() == "bot #1> 10%\nbot #1> 50%\n"
    assert tty.getvalue() == "bot #1> 10%\n\x1b[1F\x1b[Jbot #1> 50%\n"


@pytest.mark.parametrize(
    ("line", "action"),
    [
        ("/broadcast Hello", Say("/broadcast Hello")),
        ("  hello  ", Say("hello")),
        ("3", Press(3)),
        ("3 3", Press(3, times=2)),
        ("3 4", Say("3 4")),
        (">12 /broadcast --forward", Say("/broadcast --forward", reply_to=12)),
        (">12 :photo Sale", SendMedia("photo", "Sale", reply_to=12)),
        (":video_note", SendMedia("video_note")),
        (":album photo,video,photo Our day", SendAlbum(("photo", "video", "photo"), "Our day")),
        (":file ./report.pdf Q3 figures", SendFile("./report.pdf", "Q3 figures")),
        (":forward", Forward()),
        (":forward #7", Forward(7)),
        (":help", Help()),
        (":say 42", Say("42")),
        (">5 :say 7 days", Say("7 days", reply_to=5)),
        ("/quit", Quit()),
        ("", None),
    ],
)
def test_typed_lines_read_as_actions(line: str, action: object) -> None:
    assert read_line(line) == action


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (">x hello", 'a reply is ">M text"'),
        (">4", 'a reply is ">M text"'),
        (":album photo", ":album takes 2-10 of audio, document, photo, video"),
        (":album photo,sticker", ":album takes"),
        (":forward seven", ":forward takes the number of a message"),
        (":comeback lots", ":comeback takes how many users come back"),
        (">3 :forward 2", ":forward cannot be a reply"),
        (":file", ":file takes a path"),
        (":gif", "unknown :gif"),
        (":say", ":say takes the text to send"),
    ],
)
def test_mistyped_lines_say_what_was_expected(line: str, says: str) -> None:
    action = read_line(line)
    assert isinstance(action, Mistake)
    assert says in action.why
