"""``python -m bot demo --chaos``: one broadcast through the faults production brings.

The demo's in-memory MongoDB is wrapped in :class:`~bot.storage.faulty.FaultyDatabase`
(seeded random faults, before and after the write; outages of 1-2 s and a claim of
recipients whose answer is lost, as the deliveries reach given points); the
simulated Telegram loses answers to delivered messages and some users answer
FLOOD_WAIT; past half-way the running pipeline is stopped (its task cancelled, as a
deploy does) and a fresh core on the same database runs the same broadcast to the
end, resuming from the ledger.

Then the invariants are read from the simulator's record and from MongoDB:
nobody got two copies, every reachable targeted user got one, nobody is left in
doubt, and the broadcast is completed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import AutoReconnect, NetworkTimeout

from bot.app import Core
from bot.delivery.content import ParseMode, TextContent
from bot.delivery.report import Summary
from bot.demo.audience import ADMIN_ID, split_audience
from bot.demo.broadcast import (
    DEMO_TEXT,
    INTERRUPTED,
    DemoResult,
    Stage,
    demo_core,
    demo_report,
    figures,
    header_rows,
    report_figures,
    run_to_end,
    set_stage,
    simulator_for,
)
from bot.demo.display import Display, Rows, final_snapshot
from bot.demo.simulator import TelegramSimulator
from bot.storage.faulty import FaultyDatabase
from bot.storage.faulty_plan import FaultPlan
from bot.storage.inmemory import in_memory_database

#: Probability that a send's answer is lost after the message was delivered.
LOST_ANSWER_RATE = 0.05
#: Probability of a random database fault, per operation, for each of the two kinds.
RANDOM_FAULT_RATE = 0.005
#: Users whose next send answers FLOOD_WAIT: a storm of FloodWaits.
STORM_USERS = 3
#: Where (the fraction of the recipients delivered to) each outage begins.
OUTAGES_AT = (0.15, 0.4, 0.75)
#: Where a claim of recipients (``update_many`` on the ledger) reaches MongoDB and its
#: answer is lost, so that this fault happens in every run, not only when a random one
#: hits; after the restart, so that no later run's retry of recipients in doubt hides it.
LOST_WRITE_AT = 0.7
#: Where the run is stopped and resumed by a fresh core.
RESTART_AT = 0.55


@dataclass(frozen=True, slots=True)
class ChaosTiming:
    """How long the timed faults last: outages (drawn in a range) and the storm's FloodWaits
    (each pauses every sender for ``flood_wait_s``, so ``storm_users`` of them add up)."""

    outage_s: tuple[float, float] = (1.0, 2.0)
    flood_wait_s: int = 3
    storm_users: int = STORM_USERS


@dataclass(slots=True)
class Chaos:
    """What is injected and when; counts what was."""

    plan: FaultPlan
    storm: list[int]
    outages: list[tuple[float, float]]
    flood_wait_s: int
    lost_write_at: float | None = LOST_WRITE_AT
    restart_at: float = RESTART_AT
    restart_due: asyncio.Event = field(default_factory=asyncio.Event)
    restarts: int = 0
    outages_done: list[float] = field(default_factory=list)


def plan_chaos(seed: int, active: list[int], timing: ChaosTiming | None = None) -> Chaos:
    """A seeded plan: the random faults' seed, the storm's users, the outages' lengths."""
    timing = timing or ChaosTiming()
    rng = random.Random(seed)
    storm = rng.sample(active, min(timing.storm_users, len(active)))
    outages = [(at, round(rng.uniform(*timing.outage_s), 1)) for at in OUTAGES_AT]
    return Chaos(FaultPlan(seed=seed), storm, outages, timing.flood_wait_s)


class ChaosDirector:
    """Starts the timed faults and asks for the restart as the deliveries reach their cue.

    It watches the simulator's count of delivered messages (every ``poll_s``), not
    the pipeline's progress reports, which come at most twice a second.
    """

    def __init__(
        self, chaos: Chaos, sim: TelegramSimulator, display: Display, recipients: int
    ) -> None:
        self.chaos, self.sim, self.display, self.recipients = chaos, sim, display, recipients

    async def direct(self, poll_s: float = 0.05) -> None:
        """Act on every cue as it comes, until cancelled."""
        while True:
            self.step()
            await asyncio.sleep(poll_s)

    def step(self) -> None:
        """Start what is due now."""
        chaos = self.chaos
        delivered = self.sim.sent_total
        done = delivered / self.recipients
        if chaos.outages and done >= chaos.outages[0][0]:
            _, seconds = chaos.outages.pop(0)
            now = time.monotonic()
            chaos.plan.outage(errors=(AutoReconnect, NetworkTimeout), start=now, end=now + seconds)
            chaos.outages_done.append(seconds)
            self.display.note(f"database outage for {seconds:.1f} s at {delivered:,} delivered")
        if chaos.lost_write_at is not None and done >= chaos.lost_write_at:
            chaos.lost_write_at = None
            chaos.plan.outage(
                count=1, after=True, collections=["deliveries"], operations=["update_many"]
            )
            self.display.note("the next claim of recipients reaches MongoDB; its answer is lost")
        if done >= chaos.restart_at and not chaos.restarts:
            chaos.restart_due.set()


async def run_chaos(
    args: argparse.Namespace, display: Display, timing: ChaosTiming | None = None
) -> DemoResult:
    """Run the chaos broadcast; returns the result with the invariants and what was injected.

    Raises:
        EmptyTargetError: The segments match nobody.
    """
    sim = simulator_for(args, lost_answer_rate=LOST_ANSWER_RATE)
    memory = in_memory_database("demo")
    await sim.start()
    try:
        active = split_audience(args.users, args.blocked, args.deactivated, args.seed).active
        chaos = plan_chaos(args.seed, active, timing)
        stage = await set_stage(args, sim, FaultyDatabase(memory, chaos.plan), seed_db=memory)
        display.header("Broadcast Manager demo: chaos", [*header_rows(stage), *plan_rows(chaos)])
        bid = await stage.core.service.create(
            TextContent(DEMO_TEXT, ParseMode.HTML), stage.target, admin_id=ADMIN_ID
        )
        await stage.core.service.start(bid, by=ADMIN_ID)
        _arm(chaos, sim, args.seed)
        director = ChaosDirector(chaos, sim, display, stage.recipients)
        reader = demo_core(memory, sim, args)  # reads MongoDB past the injector
        try:
            summary = await run_to_end(
                stage, bid, lambda: _run_with_restart(stage, bid, chaos, director, display), reader
            )
            await display.progress(final_snapshot(summary))
        finally:
            chaos.plan.heal()
            display.close()
        result = await _invariants(stage, reader, bid, summary, chaos)
        files = await demo_report(args, reader, bid)
    finally:
        await sim.stop()
    return DemoResult(summary, result | report_figures(files), summary.status == INTERRUPTED, files)


def plan_rows(chaos: Chaos) -> Rows:
    """What the chaos plan injects, for the display's header."""
    outages = ", ".join(f"{s:.1f} s at {at:.0%}" for at, s in chaos.outages)
    return [
        (
            "database",
            f"random faults ({RANDOM_FAULT_RATE:.1%} refused, {RANDOM_FAULT_RATE:.1%} lost "
            f"after the write); a claim's answer lost at {LOST_WRITE_AT:.0%} delivered; "
            f"outages of {outages} delivered",
        ),
        (
            "Telegram",
            f"{LOST_ANSWER_RATE:.0%} of answers lost after delivery; "
            f"FLOOD_WAIT_{chaos.flood_wait_s} for {len(chaos.storm)} users",
        ),
        ("restart", f"at {chaos.restart_at:.0%} delivered: stopped, resumed by a fresh core"),
    ]


def _arm(chaos: Chaos, sim: TelegramSimulator, seed: int) -> None:
    """From now on: random database faults (before and after the write) and the storm."""
    chaos.plan.random_faults(RANDOM_FAULT_RATE, seed=seed)
    chaos.plan.random_faults(
        RANDOM_FAULT_RATE, errors=(AutoReconnect, NetworkTimeout), after=True, seed=seed + 1
    )
    for user in chaos.storm:
        sim.fail_next(user, error_message=f"FLOOD_WAIT_{chaos.flood_wait_s}", error_code=420)


async def _run_with_restart(
    stage: Stage, bid: str, chaos: Chaos, director: ChaosDirector, display: Display
) -> Summary:
    """Run; when the director says so, stop the run and resume it on a fresh core."""
    directing = asyncio.create_task(director.direct())
    try:
        return await _restarted(stage, bid, chaos, display)
    finally:
        directing.cancel()
        await asyncio.wait({directing})


async def _restarted(stage: Stage, bid: str, chaos: Chaos, display: Display) -> Summary:
    first = asyncio.create_task(stage.core.service.run(bid, display.progress))
    cue = asyncio.create_task(chaos.restart_due.wait())
    try:
        await asyncio.wait({first, cue}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # Ctrl-C: the run stops too, and winds down first
        first.cancel()
        await asyncio.wait({first})
        raise
    finally:
        cue.cancel()
    if first.done():
        return first.result()
    first.cancel()  # a clean stop: sends on their way are settled, the rest given back
    try:
        await first
    except asyncio.CancelledError:
        if not first.cancelled() or asyncio.current_task().cancelling():  # type: ignore[union-attr]
            raise  # Ctrl-C meanwhile
    chaos.restarts += 1
    display.note("run stopped (as a deploy stops it); a fresh core resumes it from the ledger")
    fresh = demo_core(stage.db, stage.sim, stage.args)
    return await fresh.service.run(bid, display.progress)


async def _invariants(
    stage: Stage, reader: Core, bid: str, summary: Summary, chaos: Chaos
) -> dict[str, Any]:
    """The figures, with the invariants read from the simulator and MongoDB, and the faults."""
    sim, audience = stage.sim, stage.audience
    targeted = {uid async for ids in reader.users.stream_ids(stage.query, 5000) for uid in ids}
    result = figures(summary, sim, audience, stage.args, targeted & set(audience.active))
    tally = await reader.ledger.tally(bid)
    doc = await reader.store.get(bid)
    sent_rows = {
        row["user_id"]
        async for row in reader.ledger.rows.find({"broadcast_id": bid, "status": "sent"})
    }
    got = {uid for uid, n in sim.received_counts().items() if n and uid != ADMIN_ID}
    record = chaos.plan.record
    result |= {
        "unknown": tally.sending,
        "status": doc.get("status"),
        "ledger_disagrees": len(got ^ sent_rows),
        "injected": {
            "db_faults": dict(record.by_kind),
            "db_faults_by_operation": dict(record.by_operation),
            "db_outages_s": chaos.outages_done,
            "lost_answers": sim.lost_answers,
            "duplicates_refused": sim.duplicates_refused,
            "flood_waits": {"telegram": sim.flood_waits, "scripted": len(chaos.storm)},
            "restarts": chaos.restarts,
        },
    }
    return result
