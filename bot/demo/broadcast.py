"""``python -m bot demo``: a real broadcast through the pipeline, against the simulator.

Seeds an in-memory MongoDB with a simulated audience (some of whom blocked the
bot or deleted their account), broadcasts to all of them through the same
pipeline the bot uses, draws the progress live, and prints the summary, or,
with ``--json``, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.app import Tuning, build_core, utc_now
from bot.delivery.content import ParseMode, TextContent
from bot.delivery.policy import ProgressSnapshot
from bot.delivery.ports import PipelineConfig
from bot.delivery.report import Summary, progress_text
from bot.delivery.service import Audience
from bot.demo.audience import (
    ADMIN_ID,
    SimulatedAudience,
    auto_concurrency,
    seed_users,
    split_audience,
)
from bot.demo.simulator import TelegramSimulator
from bot.storage.inmemory import in_memory_database

DEMO_TEXT = (
    "<b>Big news!</b> Broadcast Manager delivered this to every one of you "
    "without tripping Telegram's flood control."
)


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
