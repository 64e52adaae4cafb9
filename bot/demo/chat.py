"""``python -m bot demo --interactive``: chat with the admin bot in the terminal.

The whole admin bot is installed on the simulator, as ``python -m bot run``
installs it on a real client; the terminal plays the admin. What can be typed
(messages, replies to numbered messages, button presses, sample media, albums,
files, forwards, users coming back) is read by :mod:`bot.demo.chatinput`; the chat is
drawn by :class:`~bot.demo.chatscreen.ChatScreen`, which saves the files the bot sends
(a report's chart and CSV) into a temporary folder and names them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TextIO

from bot.admin.install import SchedulerSetup, install
from bot.delivery.ports import PipelineConfig
from bot.delivery.tasks import stop_task
from bot.demo import chatinput as typed
from bot.demo.audience import (
    ADMIN_ID,
    SimulatedAudience,
    auto_concurrency,
    seed_users,
    split_audience,
)
from bot.demo.chatscreen import ChatScreen
from bot.demo.chatstdin import stdin_lines
from bot.demo.display import LogLines
from bot.demo.simulator import TelegramSimulator
from bot.storage.inmemory import in_memory_database
from config.settings import Settings
from scheduler.jobs import in_memory_job_store
from scheduler.runtime import RuntimeTiming

POLL_S = 0.2
#: The sample channel whose post ``:forward`` forwards.
CHANNEL_ID = -1_001_234_567_890
CHANNEL_POST = "Broadcast Manager News 📰 version 1.0 is out: forward this to everyone!"


async def run_chat(
    args: argparse.Namespace,
    lines: AsyncIterator[str],
    out: TextIO,
    *,
    sim: TelegramSimulator | None = None,
) -> None:
    """Seed the audience, install the bot on the simulator and chat until ``/quit`` or EOF.

    Args:
        args: The demo's command line (:func:`bot.demo.cli.parse_args`).
        lines: What the admin types, one line each.
        out: Where the chat is written; a terminal gets styles and in-place redraws.
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
    logs = LogLines(screen.write)  # the bot's warnings, one line each, not tracebacks
    logging.getLogger().addHandler(logs)
    await sim.start()
    try:
        await seed_users(db, sim, audience)
        sim.add_chat(CHANNEL_ID, "Broadcast Manager News")
        post = await sim.seed_message(CHANNEL_ID, CHANNEL_POST)
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
                await Conversation(sim, screen, post, audience.blocked).run(lines)
            finally:
                await stop_task(poller)
        finally:
            await bot.stop()
    finally:
        await sim.stop()
        logging.getLogger().removeHandler(logs)


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
        "Messages show their number (#M), buttons the number that presses them ([N]).\n"
        "Try:  1. /help\n"
        "      2. /broadcast Hello <b>everyone</b>, then the number of [🚀 Send now]\n"
        "      3. :photo Sale today      then  >M /broadcast            (M: the photo's #)\n"
        "      4. :album photo,video     then  >M /broadcast            (a whole album)\n"
        "      5. :forward               then  >M /broadcast --forward  (a channel post)\n"
        '      6. /broadcast Twice?, then "N N" on its Send now: a double tap\n'
        "      7. /broadcast_segments, then /broadcast --segment lang:de --exclude premium Hallo\n"
        "      8. /broadcast_schedule in 1 minute | Soon, then /broadcast_scheduled\n"
        "      After a send (its ID: the 🆔 of its status message):\n"
        "      9. /broadcast_report ID         the chart and the CSV, saved to a temp folder\n"
        "     10. /broadcast_edit ID New text  every copy edited\n"
        "     11. :comeback 3, then /broadcast_retry ID   those who missed it get it\n"
        "     12. /broadcast_delete ID         every copy withdrawn\n\n"
        f"{typed.SYNTAX}\n"
    )


class Conversation:
    """Turns what the admin types into updates for the bot, and shows what happened.

    ``blocked``: the simulated users who blocked the bot, those ``:comeback`` brings back.
    """

    def __init__(
        self,
        sim: TelegramSimulator,
        screen: ChatScreen,
        channel_post: int,
        blocked: Sequence[int] = (),
    ) -> None:
        self.sim, self.screen, self.channel_post = sim, screen, channel_post
        self.away = list(blocked)

    async def run(self, lines: AsyncIterator[str]) -> None:
        """Handle lines until ``/quit`` or the end of input."""
        screen = self.screen
        screen.prompt()
        async for raw in lines:
            action = typed.read_line(raw)
            async with screen.lock:
                screen.typed(raw.strip())
                if isinstance(action, typed.Quit):
                    break
                if action is not None:
                    await self.act(action)
                await screen.refresh()
            screen.prompt()
        async with screen.lock:
            await screen.refresh()

    async def act(self, action: typed.Action) -> None:
        """Carry out one action of the admin."""
        if isinstance(action, typed.Press):
            await self._press(action)
        elif isinstance(action, typed.Say):
            await self._say(action)
        elif isinstance(action, typed.Help):
            self.screen.write(typed.SYNTAX)
        elif isinstance(action, typed.Mistake):
            self.screen.write(f"demo> {action.why}")
        elif isinstance(action, typed.ComeBack):
            await self._come_back(action.count)
        else:
            try:
                await self._send(action)
            except (ValueError, OSError) as error:
                self.screen.write(f"demo> {error}")

    async def _say(self, action: typed.Say) -> None:
        screen = self.screen
        message_id = await self.sim.feed_message(
            ADMIN_ID, action.text, reply_to_message_id=action.reply_to
        )
        screen.said(_replying(action.reply_to) + action.text, message_id)
        if action.text.split()[0] == "/help":  # the bot's help, then how to type in the demo
            await screen.refresh()
            screen.write(typed.SYNTAX)

    async def _come_back(self, count: int) -> None:
        """Users who had blocked the bot unblock it and write /start: the bot records them,
        their blocked mark goes, and a retry sends them what they missed."""
        back, self.away = self.away[:count], self.away[count:]
        if not back:
            self.screen.write("demo> nobody left who blocked the bot")
            return
        for user in back:
            await self.sim.feed_message(user, "/start")
        who = ", ".join(str(user) for user in back)
        self.screen.write(
            f"demo> {len(back)} user(s) who had blocked the bot came back and wrote /start: "
            f"{who}. /broadcast_retry ID brings them what they missed."
        )

    async def _press(self, action: typed.Press) -> None:
        screen, n = self.screen, action.number
        pressed = screen.button(n)
        late = pressed is None
        pressed = pressed or screen.gone_button(n)
        if pressed is None:
            shown = ", ".join(screen.shown_buttons()) or "none"
            screen.write(f'demo> no button [{n}] (shown: {shown}); ":say {n}" sends it as text')
            return
        times = " twice at once" if action.times > 1 else ""
        note = " (no longer shown: a late tap)" if late else ""
        screen.said(f"pressed [{n}] {screen.label(n)}{times}{note}")
        for _ in range(action.times - 1):
            await self.sim.feed_callback(ADMIN_ID, *pressed, wait=False)
        await self.sim.feed_callback(ADMIN_ID, *pressed)

    async def _send(self, action: typed.Action) -> None:
        sim, screen = self.sim, self.screen
        if isinstance(action, typed.SendMedia):
            mid = await sim.feed_message(
                ADMIN_ID, action.caption, media=action.kind, reply_to_message_id=action.reply_to
            )
            screen.said(_described(action.kind, action.caption, action.reply_to), mid)
        elif isinstance(action, typed.SendAlbum):
            items = [
                (kind, action.caption if i == 0 else "") for i, kind in enumerate(action.kinds)
            ]
            ids = await sim.feed_album(ADMIN_ID, items, reply_to_message_id=action.reply_to)
            for mid, (kind, caption) in zip(ids, items, strict=True):
                screen.said(_described(f"{kind}, album", caption, action.reply_to), mid)
        elif isinstance(action, typed.SendFile):
            described = _file_caption(action.path)  # checked even with a caption
            caption = f"{action.caption}\n{described}" if action.caption else described
            mid = await sim.feed_message(
                ADMIN_ID, caption, media="document", reply_to_message_id=action.reply_to
            )
            screen.said(_described("document", caption, action.reply_to), mid)
        elif isinstance(action, typed.Forward):
            origin = ADMIN_ID if action.message_id is not None else CHANNEL_ID
            source = action.message_id or self.channel_post
            for mid in await sim.feed_forward(ADMIN_ID, origin, [source]):
                where = f"#{source}" if origin == ADMIN_ID else "the channel's post"
                screen.said(f"[forwarded] {where}", mid)


def _replying(reply_to: int | None) -> str:
    return "" if reply_to is None else f"(reply to #{reply_to}) "


def _described(kind: str, caption: str, reply_to: int | None) -> str:
    return f"{_replying(reply_to)}[{kind}] {caption}".rstrip()


def _file_caption(path: str) -> str:
    """The name and size of a local file; the simulator sends a sample document in its place."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(f"no such file: {path}")
    return f"{file.name} ({file.stat().st_size:,} bytes)"


async def _poll(screen: ChatScreen) -> None:
    while True:
        async with screen.lock:
            await screen.refresh()
        await asyncio.sleep(POLL_S)


def main(args: argparse.Namespace) -> int:
    """Entry point of ``python -m bot demo --interactive``."""
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is one way to leave
        asyncio.run(run_chat(args, stdin_lines(), sys.stdout))
    print()
    return 0
