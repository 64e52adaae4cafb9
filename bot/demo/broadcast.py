"""``python -m bot demo``: a real broadcast through the pipeline, against the simulator.

Seeds an in-memory MongoDB with a simulated audience (some of whom blocked the
bot or deleted their account), broadcasts to all of them (or to segments) through
the same pipeline the bot uses, shows the progress (:mod:`bot.demo.display`) and
returns the summary and the figures. Ctrl-C stops the run cleanly: what was sent
is settled, the rest is given back, and the figures so far are returned.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import Core, Tuning, build_core, utc_now
from bot.delivery.content import ParseMode, TextContent
from bot.delivery.model import as_utc
from bot.delivery.ports import PipelineConfig
from bot.delivery.report import Summary
from bot.delivery.service import Audience
from bot.demo.audience import (
    ADMIN_ID,
    SimulatedAudience,
    auto_concurrency,
    seed_users,
    split_audience,
)
from bot.demo.display import Display, Rows, final_snapshot
from bot.demo.simulator import TelegramSimulator
from bot.reports.build import ReportFiles, ReportSources, write_report
from bot.storage.inmemory import in_memory_database
from bot.storage.mongo import Database

DEMO_TEXT = (
    "<b>Big news!</b> Broadcast Manager delivered this to every one of you "
    "without tripping Telegram's flood control."
)
#: The status of a run stopped by Ctrl-C (the pipeline's own statuses are final ones).
INTERRUPTED = "interrupted"


class EmptyTargetError(Exception):
    """The segments match nobody: the bot refuses such a broadcast, and so does the demo."""


@dataclass(slots=True)
class Stage:
    """The demo's world: the audience in MongoDB and in the simulator, the wired core."""

    args: argparse.Namespace
    audience: SimulatedAudience
    db: Database
    sim: TelegramSimulator
    core: Core
    target: Audience
    query: dict[str, Any]
    recipients: int

    @property
    def concurrency(self) -> int:
        """The send workers of the pipeline."""
        return int(self.core.pipeline.config.concurrency)


@dataclass(frozen=True, slots=True)
class DemoResult:
    """A demo run: the summary, the figures (the ``--json`` object), whether Ctrl-C ended it,
    and the report written with ``--report``."""

    summary: Summary
    figures: dict[str, Any]
    interrupted: bool = False
    report: ReportFiles | None = None


def simulator_for(args: argparse.Namespace, **faults: Any) -> TelegramSimulator:
    """The simulated Telegram the command line describes (not started)."""
    return TelegramSimulator(
        telegram_limit=args.telegram_limit,
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_ms / 5,
        seed=args.seed,
        **faults,
    )


def demo_core(db: Database, sim: TelegramSimulator, args: argparse.Namespace) -> Core:
    """The broadcast machinery over ``db``; a terminal redraws twice a second, not every 3 s."""
    concurrency = args.concurrency or auto_concurrency(args.rate, args.latency_ms)
    tuning = Tuning(rate=args.rate, concurrency=concurrency, progress_every=100)
    config = PipelineConfig(concurrency, progress_every=1, progress_min_interval_s=0.5)
    return build_core(db, sim, tuning, config=config)


async def set_stage(
    args: argparse.Namespace, sim: TelegramSimulator, db: Database, seed_db: Database | None = None
) -> Stage:
    """Seed the audience (into ``seed_db``, default ``db``) and wire a core over ``db``.

    Raises:
        EmptyTargetError: The segments match nobody.
    """
    audience = split_audience(args.users, args.blocked, args.deactivated, args.seed)
    await seed_users(seed_db or db, sim, audience)
    core = demo_core(db, sim, args)
    await core.ensure_indexes()
    catalog = core.segments
    description = catalog.describe(args.segment, args.exclude)
    target = Audience.of_segments(args.segment, args.exclude, description)
    query = catalog.compile(args.segment, args.exclude, utc_now())
    recipients = await core.users.count(query)
    if recipients == 0:
        raise EmptyTargetError(
            f"Nobody matches {description} right now: nothing was stored or sent."
        )
    return Stage(args, audience, db, sim, core, target, query, recipients)


def header_rows(stage: Stage) -> Rows:
    """What the demo is about to do, for the display's header."""
    args, audience = stage.args, stage.audience
    return [
        (
            "audience",
            f"{args.users:,} simulated users ({len(audience.active):,} active, "
            f"{len(audience.blocked):,} blocked the bot, "
            f"{len(audience.deactivated):,} deleted their account)",
        ),
        ("target", f"{stage.target.description}: {stage.recipients:,} recipients"),
        ("our rate", f"{args.rate:g} msg/s, {stage.concurrency} send workers"),
        ("Telegram", f"allows {args.telegram_limit} msg/s, then answers FLOOD_WAIT"),
        ("latency", f"{args.latency_ms:g} ms per request (±{args.latency_ms / 5:g} ms)"),
    ]


async def run_demo(args: argparse.Namespace, display: Display) -> DemoResult:
    """Run the demo broadcast and return its result (Ctrl-C: what was done until then).

    Raises:
        EmptyTargetError: The segments match nobody.
    """
    sim = simulator_for(args)
    await sim.start()
    try:
        stage = await set_stage(args, sim, in_memory_database("demo"))
        display.header("Broadcast Manager demo", header_rows(stage))
        core = stage.core
        bid = await core.service.create(
            TextContent(DEMO_TEXT, ParseMode.HTML), stage.target, admin_id=ADMIN_ID
        )
        await core.service.start(bid, by=ADMIN_ID)
        try:
            summary = await run_to_end(stage, bid, lambda: core.service.run(bid, display.progress))
            await display.progress(final_snapshot(summary))
        finally:
            display.close()
        targeted = {uid async for ids in core.users.stream_ids(stage.query, 5000) for uid in ids}
        files = await demo_report(args, core, bid)
    finally:
        await sim.stop()
    result = figures(summary, sim, stage.audience, args, targeted & set(stage.audience.active))
    return DemoResult(summary, result | report_figures(files), summary.status == INTERRUPTED, files)


async def demo_report(args: argparse.Namespace, core: Core, bid: str) -> ReportFiles | None:
    """With ``--report DIR``, the broadcast's report (as ``/broadcast_report`` sends it),
    written into DIR (made if missing)."""
    folder: Path | None = getattr(args, "report", None)
    if folder is None:
        return None
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    return await write_report(ReportSources(core.store, core.ledger, core.reactions), bid, folder)


def report_figures(files: ReportFiles | None) -> dict[str, Any]:
    """The ``report`` entry of the ``--json`` object: where the files are (none without)."""
    if files is None:
        return {}
    return {"report": {"chart": str(files.chart), "ledger": str(files.ledger), "rows": files.rows}}


async def run_to_end(
    stage: Stage,
    bid: str,
    runner: Callable[[], Coroutine[Any, Any, Summary]],
    reader: Core | None = None,
) -> Summary:
    """Await ``runner()`` in a task of its own; after Ctrl-C, the summary of what was done.

    Ctrl-C cancels the demo's task, which cancels the run: the pipeline settles what
    was sent and gives the rest back, then its :class:`asyncio.CancelledError` ends
    here and the demo goes on to report (``reader``: the core to read the ledger with).
    """
    task = asyncio.create_task(runner())
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if not task.cancelled() or current is None:
            raise
        current.uncancel()
        return await interrupted_summary(stage, bid, reader or stage.core)


async def interrupted_summary(stage: Stage, bid: str, core: Core) -> Summary:
    """The summary of a stopped run, read from the ledger (nothing was stored as final)."""
    tally = await core.ledger.tally(bid)
    doc = await core.store.get(bid)
    now = utc_now()
    started_at = as_utc(doc.get("started_at"))
    total = max(stage.recipients, tally.total)
    return Summary(
        broadcast_id=bid,
        status=INTERRUPTED,
        total=total,
        sent=tally.sent,
        failed=tally.failed,
        unknown=tally.sending,
        not_sent=total - tally.sent - tally.failed - tally.sending,
        errors=dict(tally.errors),
        flood_waits=stage.sim.flood_waits,
        started_at=started_at,
        completed_at=now,
        duration_s=(now - started_at).total_seconds() if started_at else 0.0,
        stop_reason="Ctrl-C: what was sent is settled, the rest was never sent",
    )


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
        "not_sent": summary.not_sent,
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
        "seed": args.seed,
    }
