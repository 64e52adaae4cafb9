"""Where the pipeline's hot path spends the event loop's time: cProfile over the CPU run.

Runs the throughput benchmark's CPU measurement (the pipeline at full speed, 3000
messages, a 1000 msg/s simulated Telegram with no latency) under cProfile, and
prints the event loop's time by area (a builtin's time counts for the area of the
function that called it), then the top functions by their own time.

    python -m benchmarks.hotpath [--top 20]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
from typing import Any

from benchmarks.throughput import CPU_MESSAGES, pipeline_cpu

#: Where event-loop time goes, by the file a function lives in (first match wins).
PROFILE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("waiting (epoll: idle, DB thread, timers)", ("method 'poll' of 'select.epoll'",)),
    ("simulator (bot/demo/simulator)", ("bot/demo/simulator/",)),
    ("TL (de)serialisation (hydrogram.raw: the simulated wire)", ("hydrogram/raw/",)),
    ("hydrogram's peer storage (SQLite, aiosqlite)", ("aiosqlite/", "hydrogram/storage/")),
    ("hydrogram (other)", ("hydrogram/",)),
    ("pipeline: bot/delivery", ("bot/delivery/",)),
    ("pipeline: bot/telegram", ("bot/telegram/",)),
    ("pipeline: bot/storage", ("bot/storage/",)),
    ("in-memory MongoDB client side (mongomock, motor)", ("mongomock",)),
    ("asyncio", ("asyncio/",)),
)


Func = tuple[str, int, str]


def _group(func: Func) -> str | None:
    """The area of ``func``; None for a builtin (its time goes to its callers' areas)."""
    filename, _, name = func
    where = f"{filename} {name}"
    group = next((g for g, keys in PROFILE_GROUPS if any(k in where for k in keys)), None)
    if group is None and filename != "~":
        return "other"
    return group


def _time_by_group(stats: Any) -> dict[str, float]:
    by_group: dict[str, float] = {}
    for func, (_, _, own, _, callers) in stats.stats.items():
        group = _group(func)
        shares = [(group, own)] if group else [(_group(c), t[2]) for c, t in callers.items()]
        for where, seconds in shares:
            key = where or "other"
            by_group[key] = by_group.get(key, 0.0) + seconds
    return by_group


def profile_report(top: int) -> str:
    """The event loop's time in the pipeline's CPU run: by area, then the ``top`` functions."""
    profile = cProfile.Profile()
    asyncio.run(pipeline_cpu(profile))
    by_group = _time_by_group(pstats.Stats(profile))
    total = sum(by_group.values())
    idle = by_group.get(PROFILE_GROUPS[0][0], 0.0)
    lines = [
        f"{CPU_MESSAGES} messages: {1e6 * total / CPU_MESSAGES:.0f} us of event-loop time each "
        f"under the profiler, {1e6 * (total - idle) / CPU_MESSAGES:.0f} us of it busy"
    ]
    for group, own in sorted(by_group.items(), key=lambda item: -item[1]):
        lines.append(f"  {own / total:6.1%}  {1e6 * own / CPU_MESSAGES:6.0f} us  {group}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(pstats.SortKey.TIME).print_stats(top)
    return "\n".join(lines) + "\n\n" + out.getvalue()


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--top", type=int, default=20, help="functions listed")
    print(profile_report(parser.parse_args().top))


if __name__ == "__main__":
    main()
