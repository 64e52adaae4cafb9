"""Throughput: the pipeline at Telegram's limit, the design document's loop, CPU per message.

Everything sends through the simulated Telegram (``--latency-ms`` per request with
``--jitter`` around it, a sliding one-second window of ``--telegram-limit`` arrivals).
The design document's loop sends one message, then sleeps ``1/rate``; the pipeline
feeds concurrent workers through its limiter. Reported: the pipeline's rate over the
whole broadcast and once it settled (after the last FloodWait), its lowest 2-second
rate after that, FloodWaits, and requests per recipient (``--cold``: a new session,
whose peer storage knows no user). CPU time per message is measured like for like:
the pipeline and a bare loop of hydrogram ``send_message`` calls, both at full speed
against a 1000 msg/s simulated Telegram with no latency, on the event loop's thread
(the in-memory MongoDB works on a thread of its own, as a real server works in a
process of its own, and is reported apart), in CPU_ROUNDS alternating rounds: the
medians are reported. Where that CPU time goes:
``python -m benchmarks.hotpath``.

    python -m benchmarks.throughput --rate R --latency-ms L --telegram-limit T [--cold] --json
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import statistics
import sys
from dataclasses import dataclass, replace
from typing import Any

from hydrogram.enums import ParseMode
from hydrogram.errors import FloodWait

from benchmarks.common import TEXT, audience_on, make_core, pipeline_broadcast, timed
from bot.delivery.throttle import Throttle
from bot.demo.audience import auto_concurrency
from bot.demo.simulator import TelegramSimulator

BASELINE_SECONDS = 5.0
PIPELINE_SECONDS = 30.0
CPU_MESSAGES = 3000
CPU_ROUNDS = 3
SAMPLE_S = 0.1
DIP_WINDOW_S = 2.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """One benchmark configuration."""

    rate: float
    latency_ms: float
    telegram_limit: int
    jitter: float = 0.2
    cold: bool = False
    users: int = 0
    concurrency: int = 0  # 0: as the demo chooses (auto_concurrency)

    def simulator(self, name: str) -> TelegramSimulator:
        """The simulated Telegram of this scenario (seeded: runs differ only by timing)."""
        return TelegramSimulator(
            name,
            telegram_limit=self.telegram_limit,
            latency_ms=self.latency_ms,
            latency_jitter_ms=self.latency_ms * self.jitter,
            cold=self.cold,
        )


async def design_document_loop(s: Scenario) -> float:
    """Achieved rate of ``send; sleep(1/rate)`` over about BASELINE_SECONDS."""
    count = max(10, math.ceil(BASELINE_SECONDS / (s.latency_ms / 1000 + 1 / s.rate)))
    sim = replace(s, cold=False).simulator("baseline")
    _, ids = await audience_on(sim, count, name="baseline")
    try:

        async def loop() -> None:
            for uid in ids:
                await sim.send_message(uid, TEXT.text)
                await asyncio.sleep(1 / s.rate)

        _, timing = await timed(loop)
    finally:
        await sim.stop()
    return count / timing.wall


class Timeline:
    """Samples, every SAMPLE_S: messages Telegram delivered, FloodWaits, workers at the limiter."""

    def __init__(self, sim: TelegramSimulator) -> None:
        self.sim = sim
        self.samples: list[tuple[float, int, int]] = []
        self.waiting: list[int] = []

    async def record(self, throttle: Throttle) -> None:
        """Sample until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            self.samples.append((loop.time(), self.sim.sent_total, self.sim.flood_waits))
            self.waiting.append(throttle.waiting)
            await asyncio.sleep(SAMPLE_S)

    def limiter_idle_share(self) -> float:
        """Share of the samples in which no worker waited for the limiter (sending began)."""
        begun = [w for (_, sent, _), w in zip(self.samples, self.waiting, strict=True) if sent]
        return sum(1 for w in begun if w == 0) / max(1, len(begun))

    def settled(self, users: int) -> tuple[float | None, float | None]:
        """Rate once settled, and its lowest DIP_WINDOW_S rate; None if too short to tell.

        Settled: from when sending resumed after the last FloodWait (or began) to when
        98% of the audience had it (the tail drains the workers).
        """
        samples = self.samples
        last_flood = max(
            (i for i in range(1, len(samples)) if samples[i][2] > samples[i - 1][2]), default=0
        )
        start = next(
            (i for i in range(last_flood, len(samples) - 1) if samples[i + 1][1] > samples[i][1]),
            None,
        )
        end = max((i for i, (_, sent, _) in enumerate(samples) if sent <= 0.98 * users), default=0)
        if start is None or samples[end][0] - samples[start][0] < 2 * DIP_WINDOW_S:
            return None, None
        t0, sent0, _ = samples[start]
        t1, sent1, _ = samples[end]
        step = round(DIP_WINDOW_S / SAMPLE_S)
        dips = [
            (samples[i + step][1] - samples[i][1]) / (samples[i + step][0] - samples[i][0])
            for i in range(start, end - step + 1)
        ]
        return (sent1 - sent0) / (t1 - t0), min(dips)


async def pipeline(s: Scenario) -> dict[str, Any]:
    """One pipeline broadcast to ``s.users``: rates, FloodWaits, requests."""
    sim = s.simulator("pipeline")
    db, _ = await audience_on(sim, s.users, name="pipeline")
    timeline = Timeline(sim)
    try:
        workers = s.concurrency or auto_concurrency(s.rate, s.latency_ms)
        core = make_core(db, sim, s.rate, workers)
        await core.ensure_indexes()
        before = sum(sim.request_counts.values())
        sampler = asyncio.create_task(timeline.record(core.throttle))
        try:
            summary, timing = await timed(lambda: pipeline_broadcast(core))
        finally:
            sampler.cancel()
        requests = sum(sim.request_counts.values()) - before
    finally:
        await sim.stop()
    assert summary.sent == s.users, summary
    settled, dip = timeline.settled(s.users)
    return {
        "rate": s.users / timing.wall,
        "settled_rate": settled,
        "lowest_2s_rate": dip,
        "flood_waits": sim.flood_waits,
        "requests_per_recipient": requests / s.users,
        "request_counts": dict(sim.request_counts),
        "latency_floor_ms": 1000 * core.throttle.limiter.latency.floor,
        "limiter_idle_share": timeline.limiter_idle_share(),
        "final_limiter_rate": core.throttle.limiter.rate,
    }


async def pipeline_cpu(profile: cProfile.Profile | None = None) -> dict[str, float]:
    """CPU per message of the pipeline at full speed (950 msg/s, no latency, Telegram 1000)."""
    sim = Scenario(950, 0, 1000, jitter=0).simulator("cpu")
    db, _ = await audience_on(sim, CPU_MESSAGES, name="cpu")
    try:
        core = make_core(db, sim, 950, auto_concurrency(950, 0))
        await core.ensure_indexes()
        if profile is not None:
            profile.enable()
        summary, timing = await timed(lambda: pipeline_broadcast(core))
        if profile is not None:
            profile.disable()
    finally:
        await sim.stop()
    assert summary.sent == CPU_MESSAGES, summary
    return {
        "cpu_us": 1e6 * timing.loop_cpu / CPU_MESSAGES,
        "process_cpu_us": 1e6 * timing.process_cpu / CPU_MESSAGES,
    }


async def bare_hydrogram_cpu() -> float:
    """CPU microseconds (event-loop thread) per ``send_message`` on the simulator."""
    sim = Scenario(1000, 0, 1000, jitter=0).simulator("bare")
    _, ids = await audience_on(sim, CPU_MESSAGES, name="bare")
    try:

        async def loop() -> None:
            for uid in ids:
                while True:
                    try:
                        await sim.send_message(uid, TEXT.text, parse_mode=ParseMode.HTML)
                        break
                    except FloodWait as flood:  # the loop outruns 1000 msg/s
                        await asyncio.sleep(float(flood.value))

        _, timing = await timed(loop)
    finally:
        await sim.stop()
    return 1e6 * timing.loop_cpu / CPU_MESSAGES


async def cpu_rounds() -> tuple[list[dict[str, float]], list[float]]:
    """CPU_ROUNDS of both sides, alternating, so a busy moment of the machine hits both."""
    pipeline_side: list[dict[str, float]] = []
    bare_side: list[float] = []
    for _ in range(CPU_ROUNDS):
        pipeline_side.append(await pipeline_cpu())
        bare_side.append(await bare_hydrogram_cpu())
    return pipeline_side, bare_side


def rounded(value: float | None, digits: int = 2) -> float | None:
    """``value`` rounded, None kept."""
    return None if value is None else round(value, digits)


async def measure(s: Scenario) -> dict[str, Any]:
    """Every figure of one benchmark run."""
    load_before = os.getloadavg()[0]
    base = await design_document_loop(s)
    pipe = await pipeline(s)
    cpu, bare = await cpu_rounds()
    ratios = [c["cpu_us"] / b for c, b in zip(cpu, bare, strict=True)]
    allowed = min(s.rate, s.telegram_limit)
    settled = pipe["settled_rate"]
    return {
        "target_rate": s.rate,
        "telegram_limit": s.telegram_limit,
        "latency_ms": s.latency_ms,
        "jitter": s.jitter,
        "cold": s.cold,
        "users": s.users,
        "concurrency": s.concurrency or auto_concurrency(s.rate, s.latency_ms),
        "pipeline_rate": round(pipe["rate"], 2),
        "pipeline_ratio": round(pipe["rate"] / allowed, 3),
        "settled_rate": rounded(settled),
        "settled_ratio": rounded(settled and settled / allowed, 3),
        "lowest_2s_rate": rounded(pipe["lowest_2s_rate"]),
        "flood_waits": pipe["flood_waits"],
        "baseline_rate": round(base, 2),
        "baseline_ratio": round(base / allowed, 3),
        "pipeline_vs_baseline": round(pipe["rate"] / base, 2),
        "pipeline_cpu_us_per_msg": round(statistics.median(c["cpu_us"] for c in cpu), 1),
        "bare_cpu_us_per_msg": round(statistics.median(bare), 1),
        "cpu_ratio": round(statistics.median(ratios), 2),
        "cpu_ratio_per_round": [round(r, 2) for r in ratios],
        "pipeline_with_inmemory_db_cpu_us_per_msg": round(
            statistics.median(c["process_cpu_us"] for c in cpu), 1
        ),
        "requests_per_recipient": round(pipe["requests_per_recipient"], 4),
        "request_counts": pipe["request_counts"],
        "latency_floor_ms": round(pipe["latency_floor_ms"], 1),
        # No worker waiting for a grant: then the pipeline, not the limiter, held the rate.
        "limiter_idle_share": round(pipe["limiter_idle_share"], 3),
        "final_limiter_rate": round(pipe["final_limiter_rate"], 2),
        # Other work on the machine shows here: the runs share its cores.
        "cpus": os.cpu_count(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def parse_args(argv: list[str] | None = None) -> tuple[Scenario, argparse.Namespace]:
    """The command line as a scenario."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--telegram-limit", type=int, default=None, help="default: max(30, rate)")
    parser.add_argument("--jitter", type=float, default=0.2, help="latency +/- this fraction")
    parser.add_argument("--cold", action="store_true", help="a new session: no peer stored")
    parser.add_argument("--users", type=int, default=None, help="default: PIPELINE_SECONDS' worth")
    parser.add_argument("--concurrency", type=int, default=0, help="default: as the demo")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    limit = args.telegram_limit or max(30, math.ceil(args.rate))
    users = args.users or max(200, math.ceil(min(args.rate, limit) * PIPELINE_SECONDS))
    scenario = Scenario(
        args.rate, args.latency_ms, limit, args.jitter, args.cold, users, args.concurrency
    )
    return scenario, args


def main() -> None:
    """Command line entry point."""
    scenario, args = parse_args()
    result = asyncio.run(measure(scenario))
    if args.json:
        print(json.dumps(result))
        return
    write = sys.stdout.write
    write(
        f"target {scenario.rate:g} msg/s, Telegram allows {scenario.telegram_limit}, "
        f"latency {scenario.latency_ms:g} ms +/- {scenario.jitter:.0%}, {scenario.users} users"
        f"{', cold session' if scenario.cold else ''}\n"
    )
    write(
        f"  pipeline        {result['pipeline_rate']:8.2f} msg/s ({result['pipeline_ratio']:.1%}"
        f" of what is allowed), settled {result['settled_rate']} msg/s, lowest 2 s "
        f"{result['lowest_2s_rate']}, {result['flood_waits']} FloodWaits\n"
    )
    write(f"  design doc loop {result['baseline_rate']:8.2f} msg/s\n")
    write(
        f"  CPU per message: pipeline {result['pipeline_cpu_us_per_msg']} us, bare hydrogram "
        f"{result['bare_cpu_us_per_msg']} us ({result['cpu_ratio']}x)\n"
    )
    write(f"  requests per recipient {result['requests_per_recipient']}\n")


if __name__ == "__main__":
    main()
