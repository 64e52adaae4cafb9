"""``python -m bot demo``: the command line, dispatching to the broadcast or the chat demo."""

from __future__ import annotations

import argparse
import asyncio
import json

from bot.delivery.report import person, summary_text
from bot.demo.audience import ADMIN_ID
from bot.demo.broadcast import run_demo
from segments import SegmentCatalog, SegmentError


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The demo's command line."""
    parser = argparse.ArgumentParser(prog="python -m bot demo", description=__doc__)
    parser.add_argument("--users", type=_positive_int, default=2000, help="audience size")
    parser.add_argument("--blocked", type=_fraction, default=0.03, help="fraction who blocked")
    parser.add_argument("--deactivated", type=_fraction, default=0.01, help="fraction deleted")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="Telegram's latency")
    parser.add_argument("--rate", type=float, default=25.0, help="our limiter, msg/s")
    parser.add_argument(
        "--telegram-limit", type=int, default=30, help="msg/s the simulated Telegram allows"
    )
    parser.add_argument("--concurrency", type=int, default=None, help="workers (default: auto)")
    parser.add_argument(
        "--segment",
        action="append",
        default=[],
        metavar="NAME",
        help="only users in this segment, e.g. lang:de, premium, active_7d (repeatable)",
    )
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="NAME", help="leave out a segment"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--interactive", action="store_true", help="chat with the admin bot in the terminal"
    )
    args = parser.parse_args(argv)
    if args.blocked + args.deactivated > 1:
        parser.error("--blocked + --deactivated must not exceed 1")
    if not 0 < args.rate <= 1000 or not 1 <= args.telegram_limit <= 1000:
        parser.error("--rate must be in (0, 1000] and --telegram-limit in 1..1000")
    try:
        SegmentCatalog().check(args.segment, args.exclude)
    except SegmentError as error:
        parser.error(str(error))
    return args


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def main(argv: list[str]) -> int:
    """Entry point of ``python -m bot demo``."""
    args = parse_args(argv)
    if args.interactive:
        from bot.demo.chat import main as chat  # the chat demo needs more of the bot

        return chat(args)
    summary, result = asyncio.run(run_demo(args))
    if args.json:
        print(json.dumps(result))
        return 0
    print()
    print(summary_text(summary, by=person(None, ADMIN_ID)))  # as the admin bot names them
    print()
    print(
        f"Simulator's record: {result['duplicates']} users got it twice, "
        f"{result['missing']} active users got nothing, {result['flood_waits']} FloodWaits; "
        f"{result['achieved_rate']} msg/s for a limit of {args.rate:g}."
    )
    return 0
