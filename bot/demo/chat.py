"""``python -m bot demo --interactive``: chat with the admin bot in the terminal.

The whole admin bot is installed on the simulator, as ``python -m bot run``
installs it on a real client; the terminal plays the admin. A typed line is sent
as the admin's message, or, when it is the number of a shown button, presses it.
The bot's messages are printed as they arrive and the status message is redrawn
in place as the bot edits it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator
from typing import TextIO

from bot.admin.install import SchedulerSetup, install
from bot.delivery.ports import PipelineConfig
from bot.demo.audience import (
    ADMIN_ID,
    SimulatedAudience,
    auto_concurrency,
    seed_users,
    split_audience,
)
from bot.demo.simulator import ReceivedMessage, TelegramSimulator
from bot.storage.inmemory import in_memory_database
from config.settings import Settings
from scheduler.jobs import in_memory_job_store
from scheduler.runtime import RuntimeTiming

PROMPT = "you> "
QUIT = "/quit"
POLL_S = 0.2


class ChatScreen:
    """What the admin sees of the chat: the bot's messages, buttons numbered for pressing.

    Args:
        sim: The simulator the bot runs on.
        out: Where the chat is written.
        ansi: Redraw edited messages in place and keep a prompt line (a terminal);
            otherwise edits are printed below and typed lines are echoed.
        chat_id: The admin's chat.
    """

    def __init__(
        self, sim: TelegramSimulator, out: TextIO, *, ansi: bool = False, chat_id: int = ADMIN_ID
    ) -> None:
        self.sim, self.out, self.ansi, self.chat_id = sim, out, ansi, chat_id
        self._shown: dict[int, tuple[object, ...]] = {}
        # A button keeps its number while its message shows it, through every edit.
        self._numbers: dict[tuple[int, str], int] = {}
        self._pressable: dict[int, tuple[int, bytes]] = {}
        self._next_number = 1
        self._last: tuple[int, int] | None = None  # (message id, lines) printed last
        self._prompting = False

    def button(self, n: int) -> tuple[int, bytes] | None:
        """The ``(message_id, callback data)`` of button ``n``, if it is shown."""
        return self._pressable.get(n)

    async def refresh(self) -> None:
        """Print the messages that are new or were edited since the last refresh."""
        for message in self.sim.inbox(self.chat_id):
            key = (message.text, message.media, message.buttons, message.deleted)
            if self._shown.get(message.message_id) == key:
                continue
            edited = message.message_id in self._shown
            self._shown[message.message_id] = key
            self._forget_buttons(message.message_id)
            if message.deleted:
                continue
            self._draw(message.message_id, self._render(message), in_place=edited)

    def prompt(self) -> None:
        """Show the prompt while waiting for the admin (terminal only)."""
        if self.ansi and not self._prompting:
            self.out.write(PROMPT)
            self.out.flush()
            self._prompting = True

    def typed(self, line: str) -> None:
        """Note a line the admin typed: the terminal echoed it, anything else needs it."""
        if self.ansi:
            self._prompting = False
        else:
            self.write(PROMPT + line)
        self._last = None

    def write(self, text: str) -> None:
        """Print ``text`` (and a newline) above the prompt."""
        self._clear_prompt()
        self.out.write(text + "\n")
        self._last = None
        self._restore_prompt()

    def _render(self, message: ReceivedMessage) -> str:
        body = message.text or ""
        if message.media:
            body = f"[{message.media}] {body}".rstrip()
        lines = [f"bot> {body}"]
        for row in message.buttons:
            cells = []
            for label, data in row:
                if data is None:
                    cells.append(f"({label})")
                elif data.startswith(("http://", "https://", "tg://")):
                    cells.append(f"({label}: {data})")
                else:
                    cells.append(f"[{self._number(message.message_id, data)}] {label}")
            lines.append("     " + "  ".join(cells))
        return "\n".join(lines)

    def _number(self, message_id: int, data: str) -> int:
        n = self._numbers.get((message_id, data))
        if n is None:
            n, self._next_number = self._next_number, self._next_number + 1
            self._numbers[(message_id, data)] = n
        self._pressable[n] = (message_id, data.encode())
        return n

    def _forget_buttons(self, message_id: int) -> None:
        for n, (mid, _) in list(self._pressable.items()):
            if mid == message_id:
                del self._pressable[n]

    def _draw(self, message_id: int, text: str, *, in_place: bool) -> None:
        self._clear_prompt()
        if in_place and self.ansi and self._last is not None and self._last[0] == message_id:
            self.out.write(f"\x1b[{self._last[1]}F\x1b[J")
        self.out.write(text + "\n")
        self._last = (message_id, text.count("\n") + 1)
        self._restore_prompt()

    def _clear_prompt(self) -> None:
        if self._prompting:
            self.out.write("\r\x1b[K")

    def _restore_prompt(self) -> None:
        if self._prompting:
            self.out.write(PROMPT)
        self.out.flush()


async def run_chat(
    args: argparse.Namespace,
    lines: AsyncIterator[str],
    out: TextIO,
    *,
    sim: TelegramSimulator | None = None,
) -> None:
    """Seed the audience, install the bot on the simulator and chat until ``/quit`` or EOF.

    Args:
        args: The demo's command line (:func:`bot.demo.parse_args`).
        lines: What the admin types, one line each.
        out: Where the chat is written; a terminal gets in-place redraws.
        sim: A simulator (not started) to use instead of one built from ``args``,
            for a caller that inspects what users received; it is started and stopped here.
    """
    audience = split_audience(args.users, args.blocked, args.deactivated, args.seed)
    db = in_memory_database("demo")
    sim = sim or TelegramSimulator(
        telegram_limit=args.telegram_limit,
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_ms / 5,
        seed=args.seed,
    )
    screen = ChatScreen(sim, out, ansi=out.isatty())
    await sim.start()
    try:
        await seed_users(db, sim, audience)
        concurrency = args.concurrency or auto_concurrency(args.rate, args.latency_ms)
        settings = Settings.for_tests(
            admin_ids=frozenset({ADMIN_ID}), rate_limit=args.rate, concurrency=concurrency
        )
        config = PipelineConfig(concurrency, progress_every=1, progress_min_interval_s=1.0)
        jobs = SchedulerSetup(
            job_store=in_memory_job_store(),
            timing=RuntimeTiming(renew_every_s=1.0, sweep_every_s=2.0),
            lease_ttl_s=5.0,
        )
        bot = await install(sim, db, settings, config=config, record_users=True, scheduler=jobs)
        try:
            screen.write(banner(audience))
            poller = asyncio.create_task(_poll(screen))
            try:
                await _converse(sim, screen, lines)
            finally:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
        finally:
            await bot.stop()
    finally:
        await sim.stop()


def banner(audience: SimulatedAudience) -> str:
    """What this is, who is in the audience, and what to try."""
    active, blocked, gone = (
        len(audience.active),
        len(audience.blocked),
        len(audience.deactivated),
    )
    return (
        "Broadcast Manager, interactive demo: you are the admin (ID "
        f"{ADMIN_ID}) chatting with the bot on a simulated Telegram; no credentials needed.\n"
        f"Audience: {active + blocked + gone} users ({active} active, {blocked} blocked the bot, "
        f"{gone} deleted their account).\n"
        "Try:  1. /help\n"
        "      2. /broadcast Hello <b>everyone</b>\n"
        "      3. the number of [🚀 Send now], then watch the status message.\n"
        "      4. /broadcast_segments, then /broadcast --segment lang:de --exclude premium Hallo\n"
        "      5. /broadcast_schedule in 1 minute | Soon, then /broadcast_scheduled\n"
        f"Type a button's number to press it; {QUIT} or Ctrl-D to leave.\n"
    )


async def _converse(sim: TelegramSimulator, screen: ChatScreen, lines: AsyncIterator[str]) -> None:
    screen.prompt()
    async for raw in lines:
        line = raw.strip()
        screen.typed(line)
        if line == QUIT:
            break
        if line:
            pressed = screen.button(int(line)) if line.isdecimal() else None
            if pressed is not None:
                await sim.feed_callback(ADMIN_ID, *pressed)
            else:
                await sim.feed_message(ADMIN_ID, line)
            await screen.refresh()
        screen.prompt()
    await screen.refresh()


async def _poll(screen: ChatScreen) -> None:
    while True:
        await screen.refresh()
        await asyncio.sleep(POLL_S)


async def stdin_lines() -> AsyncIterator[str]:
    """Lines typed on stdin, read by a daemon thread so Ctrl-C never waits on ``input``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                line: str | None = input()
            except (EOFError, OSError):
                line = None
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the chat is over and its loop closed
                return
            if line is None:
                return

    threading.Thread(target=read, name="demo-chat-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


def main(args: argparse.Namespace) -> int:
    """Entry point of ``python -m bot demo --interactive``."""
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is one way to leave
        asyncio.run(run_chat(args, stdin_lines(), sys.stdout))
    print()
    return 0
