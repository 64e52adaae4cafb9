"""``python -m bot demo --interactive``: a scripted admin chats with the bot."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator

from bot.demo.audience import split_audience
from bot.demo.chat import ChatScreen, run_chat
from bot.demo.cli import parse_args
from bot.demo.simulator import TelegramSimulator

ARGS = "--users 30 --rate 1000 --telegram-limit 1000 --latency-ms 0 --interactive"


async def test_chat_sends_a_broadcast_by_pressing_its_number() -> None:
    args = parse_args(ARGS.split())
    sim = TelegramSimulator(telegram_limit=1000)
    out = io.StringIO()

    async def admin() -> AsyncIterator[str]:
        yield "/help"
        yield "/broadcast Hello there"
        # run_chat draws the bot's answer before it asks for the next line
        send_now = re.search(r"\[(\d+)\] 🚀 Send now", out.getvalue())
        assert send_now is not None, out.getvalue()
        yield send_now.group(1)
        while "BROADCAST COMPLETED" not in out.getvalue():  # noqa: ASYNC110 (the screen polls)
            await asyncio.sleep(0.02)
        yield "/quit"

    async with asyncio.timeout(8):
        await run_chat(args, admin(), out, sim=sim)

    shown = out.getvalue()
    assert "/broadcast_history" in shown  # the help
    assert "📢 Ready to broadcast" in shown
    assert re.search(r"\[\d+\] 🚀 Send now\n +\[\d+\] 👀 Preview to me  \[\d+\] ✖️ Cancel", shown)
    assert "BROADCAST COMPLETED" in shown
    active = split_audience(args.users, args.blocked, args.deactivated, args.seed).active
    assert active
    for user in active:
        assert [m.text for m in sim.inbox(user)] == ["Hello there"]


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

    assert plain.getvalue() == "bot> 10%\nbot> 50%\n"
    assert tty.getvalue() == "bot> 10%\n\x1b[1F\x1b[Jbot> 50%\n"
