"""Scale: rate, time to the first delivery and pipeline memory, by audience size.

For each size, one broadcast to every user through the pipeline, at ``--rate``
against a simulated Telegram allowing 1000 msg/s with ``--latency-ms`` per
request: the achieved rate, and the seconds from starting the broadcast to the
first delivery in the simulator's record. Then the same broadcast again with
tracemalloc on (it slows allocations, so it gets a run of its own) for the
pipeline's peak memory, measured as :mod:`benchmarks.memory` does. Flat rate
and memory, and a first delivery that does not wait for the audience, are what
"scales" means here.

    python -m benchmarks.scale [--sizes 2000 100000] [--rate 1000] [--sends N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from benchmarks.common import ADMIN, TEXT, make_core, simulated_audience
from benchmarks.memory import peak_during_broadcast
from bot.delivery.service import Audience
from bot.demo.audience import auto_concurrency
from bot.demo.simulator import TelegramSimulator

TELEGRAM_LIMIT = 1000
POLL_S = 0.002


async def _first_delivery(sim: TelegramSimulator, started: float) -> float:
    # The simulator's record has no event to wait on; a 2 ms poll is precise enough.
    before = sim.sent_total
    while sim.sent_total == before:  # noqa: ASYNC110
        await asyncio.sleep(POLL_S)
    return time.perf_counter() - started


async def rate_and_first_delivery(
    users: int, rate: float, latency_ms: float, sends: int | None = None
) -> dict[str, Any]:
    """One broadcast to ``users``: achieved rate and seconds to the first delivery.

    With ``sends``, the broadcast is cancelled once that many were delivered (a
    million at 1000 msg/s takes 17 minutes) and the rate is theirs.
    """
    db, sim, _ = await simulated_audience(
        users, telegram_limit=TELEGRAM_LIMIT, latency_ms=latency_ms, name="scale"
    )
    try:
        core = make_core(db, sim, rate, auto_concurrency(rate, latency_ms))
        await core.ensure_indexes()
        bid = await core.service.create(TEXT, Audience(query={}), admin_id=ADMIN)
        started = time.perf_counter()
        first = asyncio.create_task(_first_delivery(sim, started))
        await core.service.start(bid, by=ADMIN)
        run = asyncio.create_task(core.service.run(bid))
        if sends is not None and sends < users:
            await _cancel_after(sends, run, sim, partial(core.service.cancel, bid, by=ADMIN))
        summary = await run
        first_delivery_s = await first
    finally:
        await sim.stop()
    assert summary.sent >= min(users, sends or users), summary
    return {
        "users": users,
        "sent": summary.sent,
        "achieved_rate": round(summary.sent / summary.duration_s, 1),
        "first_delivery_s": round(first_delivery_s, 3),
        "duration_s": round(summary.duration_s, 1),
        "flood_waits": sim.flood_waits,
    }


async def _cancel_after(
    sends: int, run: asyncio.Task[Any], sim: TelegramSimulator, cancel: Callable[[], Awaitable[Any]]
) -> None:
    while not run.done() and sim.sent_total < sends:
        await asyncio.wait([run], timeout=0.05)
    if not run.done():
        await cancel()


async def measure(
    sizes: list[int], rate: float, latency_ms: float, memory: bool, sends: int | None = None
) -> dict[str, Any]:
    """Every figure for every size."""
    runs = []
    for users in sizes:
        run = await rate_and_first_delivery(users, rate, latency_ms, sends)
        if memory:
            concurrency = auto_concurrency(rate, latency_ms)
            traced = await peak_during_broadcast(
                users, rate, 2.0, latency_ms=latency_ms, concurrency=concurrency, sends=sends
            )
            run["peak_pipeline_bytes"] = traced["peak_bytes"]
        runs.append(run)
    return {"rate": rate, "telegram_limit": TELEGRAM_LIMIT, "latency_ms": latency_ms, "runs": runs}


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 100_000])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--no-memory", action="store_true", help="skip the traced runs")
    parser.add_argument(
        "--sends", type=int, default=0, help="cancel each broadcast after this many (0: send all)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(
        measure(
            sorted(args.sizes), args.rate, args.latency_ms, not args.no_memory, args.sends or None
        )
    )
    if args.json:
        print(json.dumps(result))
        return
    limits = f"Telegram allows {TELEGRAM_LIMIT}, latency {args.latency_ms:g} ms"
    print(f"rate {args.rate:g} msg/s, {limits}")
    for run in result["runs"]:
        memory = run.get("peak_pipeline_bytes")
        peak = "" if memory is None else f", pipeline peak {memory / 1024:.0f} KiB"
        print(
            f"{run['users']:>9,} users: {run['achieved_rate']:7.1f} msg/s, first delivery "
            f"after {run['first_delivery_s']:.3f} s{peak}"
        )


if __name__ == "__main__":
    main()
