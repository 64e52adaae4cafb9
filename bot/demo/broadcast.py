"""``python -m bot demo``: a real broadcast through the pipeline, against the simulator.

Seeds an in-memory MongoDB with a simulated audience (some of whom blocked the
bot or deleted their account), broadcasts to all of them through the same
pipeline the bot uses, draws the progress live, and prints the summary, or,
with ``--json``, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.app import Tuning, build_core, utc_now
from bot.delivery.content import ParseMode, TextContent
from bot.delivery.pipeline import PipelineConfig
from bot.delivery.policy import ProgressSnapshot
from bot.delivery.report import Summary, progress_text, summary_text
from bot.delivery.service import Audience
from bot.demo.simulator import TelegramSimulator, UserState
from bot.storage.inmemory import in_memory_database
from bot.storage.mongo import Database
from segments import SegmentCatalog, SegmentError

ADMIN_ID = 1_000_001
#: The simulated audience's languages, in turn by user id.
LANGUAGES = ("en", "en", "de", "ru", "es", "pt-br")
FIRST_USER_ID = 2_000_000
DEMO_TEXT = (
    "<b>Big news!</b> Broadcast Manager delivered this to every one of you "
    "without tripping Telegram's flood control."
)


@dataclass(frozen=True, slots=True)
class SimulatedAudience:
    """The simulated users of each state the demo seeds."""

    active: list[int]
    blocked: list[int]
    deactivated: list[int]


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


def auto_concurrency(rate: float, latency_ms: float) -> int:
    """Enough workers that latency does not eat the rate: twice the sends in flight."""
    return max(8, min(256, math.ceil(2 * rate * latency_ms / 1000) + 4))


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


def split_audience(users: int, blocked: float, deactivated: float, seed: int) -> SimulatedAudience:
    """Assign each simulated user a state, exactly ``round(fraction * users)`` of each."""
    ids = list(range(FIRST_USER_ID, FIRST_USER_ID + users))
    shuffled = ids[:]
    random.Random(seed).shuffle(shuffled)
    n_blocked, n_gone = round(blocked * users), round(deactivated * users)
    return SimulatedAudience(
        active=sorted(shuffled[n_blocked + n_gone :]),
        blocked=sorted(shuffled[:n_blocked]),
        deactivated=sorted(shuffled[n_blocked : n_blocked + n_gone]),
    )


async def seed_users(db: Database, sim: TelegramSimulator, audience: SimulatedAudience) -> None:
    """Put the audience into the simulator and into the users collection."""
    sim.add_user(ADMIN_ID, first_name="Admin")
    sim.add_users(audience.active)
    sim.add_users(audience.blocked, UserState.BLOCKED)
    sim.add_users(audience.deactivated, UserState.DEACTIVATED)
    now = utc_now()
    ids = sorted(audience.active + audience.blocked + audience.deactivated)
    for start in range(0, len(ids), 5000):
        await db["users"].insert_many(
            [user_document(uid, now) for uid in ids[start : start + 5000]]
        )


def user_document(uid: int, now: datetime) -> dict[str, Any]:
    """A simulated user with a language, a premium flag and activity spread out by id."""
    return {
        "user_id": uid,
        "first_name": f"User {uid}",
        "language_code": LANGUAGES[uid % len(LANGUAGES)],
        "is_premium": uid % 7 == 0,
        "terms_accepted": True,
        "created_at": now - timedelta(days=uid % 365),
        "last_seen": now - timedelta(days=uid % 30, hours=uid % 24),
    }


class TerminalProgress:
    """Redraws the progress message in place on a terminal."""

    def __init__(self) -> None:
        self.lines = 0

    async def __call__(self, snap: ProgressSnapshot) -> None:
        text = progress_text(snap)
        if self.lines:
            sys.stdout.write(f"\x1b[{self.lines}F\x1b[J")
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        self.lines = text.count("\n") + 1


async def run_demo(args: argparse.Namespace) -> tuple[Summary, dict[str, Any]]:
    """Run the demo broadcast; returns its summary and the figures."""
    audience = split_audience(args.users, args.blocked, args.deactivated, args.seed)
    db = in_memory_database("demo")
    sim = TelegramSimulator(
        telegram_limit=args.telegram_limit,
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_ms / 5,
        seed=args.seed,
    )
    await sim.start()
    try:
        await seed_users(db, sim, audience)
        concurrency = args.concurrency or auto_concurrency(args.rate, args.latency_ms)
        tuning = Tuning(rate=args.rate, concurrency=concurrency, progress_every=100)
        # A terminal redraws cheaply: twice a second instead of a chat message's every 3 s.
        config = PipelineConfig(concurrency, progress_every=1, progress_min_interval_s=0.5)
        core = build_core(db, sim, tuning, config=config)
        await core.ensure_indexes()
        content = TextContent(DEMO_TEXT, ParseMode.HTML)
        catalog = core.segments
        description = catalog.describe(args.segment, args.exclude)
        target = Audience.of_segments(args.segment, args.exclude, description)
        bid = await core.service.create(content, target, admin_id=ADMIN_ID)
        await core.service.start(bid, by=ADMIN_ID)
        progress = None if args.json else TerminalProgress()
        summary = await core.service.run(bid, progress)
        query = catalog.compile(args.segment, args.exclude, utc_now())
        targeted = {uid async for ids in core.users.stream_ids(query, 5000) for uid in ids}
    finally:
        await sim.stop()
    return summary, figures(summary, sim, audience, args, targeted & set(audience.active))


def figures(
    summary: Summary,
    sim: TelegramSimulator,
    audience: SimulatedAudience,
    args: argparse.Namespace,
    targeted_active: set[int],
) -> dict[str, Any]:
    """The demo's JSON object; ``targeted_active``: the active users the segments select."""
    counts = sim.received_counts()
    counts.pop(ADMIN_ID, None)
    done = summary.sent + summary.failed
    return {
        "total": summary.total,
        "sent": summary.sent,
        "failed": summary.failed,
        "unknown": summary.unknown,
        "errors": summary.errors,
        "duplicates": sum(1 for n in counts.values() if n > 1),
        "missing": sum(1 for uid in targeted_active if counts.get(uid, 0) == 0),
        "outside_target": sum(1 for uid in counts if uid not in targeted_active),
        "target": {"segments": args.segment, "excludes": args.exclude},
        "flood_waits": sim.flood_waits,
        "duration_s": round(summary.duration_s, 3),
        "achieved_rate": round(done / summary.duration_s, 2) if summary.duration_s else 0.0,
        "target_rate": args.rate,
        "telegram_limit": args.telegram_limit,
        "simulated": {
            "active": len(audience.active),
            "blocked": len(audience.blocked),
            "deactivated": len(audience.deactivated),
        },
        "status": summary.status,
    }


def main(argv: list[str]) -> int:
    """Entry point of ``python -m bot demo``."""
    args = parse_args(argv)
    if args.interactive:
        from bot.demo.chat import main as chat

        return chat(args)
    summary, result = asyncio.run(run_demo(args))
    if args.json:
        print(json.dumps(result))
        return 0
    print()
    print(summary_text(summary, by=f"Admin (ID: {ADMIN_ID})"))
    print()
    print(
        f"Simulator's record: {result['duplicates']} users got it twice, "
        f"{result['missing']} active users got nothing, {result['flood_waits']} FloodWaits; "
        f"{result['achieved_rate']} msg/s for a limit of {args.rate:g}."
    )
    return 0
