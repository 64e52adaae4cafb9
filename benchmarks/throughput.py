"""Throughput: the pipeline against the design document's loop, on one simulator, in one run.

Both send through the same simulated Telegram (``--latency-ms`` per request,
allowing at least the configured rate). The design document's loop sends one
message, then sleeps ``1/rate``; the pipeline feeds concurrent workers from a
token bucket. Also: CPU time per message of the pipeline against a bare loop
of hydrogram ``send_message`` calls on the simulator, both with no latency and
a 1000 msg/s Telegram, both measured on the event loop's thread; the in-memory
MongoDB works on a thread of its own, as a real server works in a process of
its own, and is reported apart.

    python -m benchmarks.throughput [--rate 25] [--latency-ms 100] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
from typing import Any

from hydrogram.enums import ParseMode
from hydrogram.errors import FloodWait

from benchmarks.common import TEXT, make_core, pipeline_broadcast, simulated_audience, timed
from bot.demo.audience import auto_concurrency

BASELINE_SECONDS = 5.0
PIPELINE_SECONDS = 15.0
CPU_MESSAGES = 3000


async def design_document_loop(rate: float, latency_ms: float, telegram_limit: int) -> float:
    """Achieved rate of ``send; sleep(1/rate)`` over about BASELINE_SECONDS."""
    count = max(10, math.ceil(BASELINE_SECONDS / (latency_ms / 1000 + 1 / rate)))
    _, sim, ids = await simulated_audience(
        count, telegram_limit=telegram_limit, latency_ms=latency_ms, name="baseline"
    )
    try:

        async def loop() -> None:
            for uid in ids:
                await sim.send_message(uid, TEXT.text)
                await asyncio.sleep(1 / rate)

        _, timing = await timed(loop)
    finally:
        await sim.stop()
    return count / timing.wall


async def pipeline(
    users: int, rate: float, latency_ms: float, telegram_limit: int
) -> dict[str, float]:
    """One pipeline broadcast to ``users``: achieved rate and CPU per message."""
    db, sim, _ = await simulated_audience(
        users, telegram_limit=telegram_limit, latency_ms=latency_ms, name="pipeline"
    )
    try:
        core = make_core(db, sim, rate, auto_concurrency(rate, latency_ms))
        await core.ensure_indexes()
        summary, timing = await timed(lambda: pipeline_broadcast(core))
    finally:
        await sim.stop()
    assert summary.sent == users, summary
    return {
        "rate": users / timing.wall,
        "cpu_us": 1e6 * timing.loop_cpu / users,
        "process_cpu_us": 1e6 * timing.process_cpu / users,
        "flood_waits": sim.flood_waits,
    }


async def bare_hydrogram_cpu() -> float:
    """CPU microseconds (event-loop thread) per ``send_message`` on the simulator."""
    _, sim, ids = await simulated_audience(CPU_MESSAGES, telegram_limit=1000, latency_ms=0)
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


async def measure(rate: float, latency_ms: float) -> dict[str, Any]:
    """Every figure of one benchmark run."""
    telegram_limit = max(30, math.ceil(rate))
    base = await design_document_loop(rate, latency_ms, telegram_limit)
    users = max(200, math.ceil(rate * PIPELINE_SECONDS))
    pipe = await pipeline(users, rate, latency_ms, telegram_limit)
    # CPU per message like for like: both as fast as a 1000 msg/s Telegram with no latency
    # lets them, so neither is charged for waiting on the clock.
    cpu = await pipeline(CPU_MESSAGES, 950, 0, 1000)
    bare = await bare_hydrogram_cpu()
    return {
        "target_rate": rate,
        "latency_ms": latency_ms,
        "telegram_limit": telegram_limit,
        "pipeline_rate": round(pipe["rate"], 2),
        "baseline_rate": round(base, 2),
        "pipeline_ratio_to_target": round(pipe["rate"] / rate, 3),
        "baseline_ratio_to_target": round(base / rate, 3),
        "pipeline_vs_baseline": round(pipe["rate"] / base, 2),
        "pipeline_flood_waits": pipe["flood_waits"],
        "pipeline_cpu_us_per_msg": round(cpu["cpu_us"], 1),
        "bare_cpu_us_per_msg": round(bare, 1),
        "cpu_ratio": round(cpu["cpu_us"] / bare, 2),
        "pipeline_with_inmemory_db_cpu_us_per_msg": round(cpu["process_cpu_us"], 1),
        "pipeline_cpu_us_per_msg_at_target_rate": round(pipe["cpu_us"], 1),
    }


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(args.rate, args.latency_ms))
    if args.json:
        print(json.dumps(result))
        return
    print(f"target {args.rate:g} msg/s, Telegram latency {args.latency_ms:g} ms")
    print(
        f"  pipeline        {result['pipeline_rate']:8.2f} msg/s "
        f"({result['pipeline_ratio_to_target']:.1%} of target)"
    )
    print(
        f"  design doc loop {result['baseline_rate']:8.2f} msg/s "
        f"({result['baseline_ratio_to_target']:.1%} of target)"
    )
    print(f"  pipeline / loop {result['pipeline_vs_baseline']:8.2f}x")
    print(
        f"  CPU per message: pipeline {result['pipeline_cpu_us_per_msg']} us, bare hydrogram "
        f"{result['bare_cpu_us_per_msg']} us ({result['cpu_ratio']}x)"
    )
    print(
        f"    (pipeline with the in-memory database's thread: "
        f"{result['pipeline_with_inmemory_db_cpu_us_per_msg']} us; at the target rate, "
        f"timers and polling included: {result['pipeline_cpu_us_per_msg_at_target_rate']} us)"
    )


if __name__ == "__main__":
    main()
