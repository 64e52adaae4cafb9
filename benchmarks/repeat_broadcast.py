"""Repeat one fault-free broadcast many times: every recipient sent, nothing unknown, each run.

Each run is a fresh simulated Telegram (no blocked users, no failures) and a fresh
in-memory MongoDB holding ``--users`` users, broadcast to through ``bot.app.build_core``
as the bot does. A fault-free broadcast has one right outcome: everyone ``sent``,
nobody ``failed`` or ``unknown``, nobody twice. The session storage the simulator's
hydrogram client uses is chosen with ``--storage``:

- ``default``: hydrogram's in-memory ``SQLiteStorage``, made safe by ``build_core``;
- ``mongo``: :class:`bot.telegram.session.MongoSessionStorage` on the same database;
- ``unprotected``: hydrogram's ``SQLiteStorage`` as it is (``build_core``'s wrapper
  removed), for comparison.

Sends never touch the storage after Telegram answers (``invoke_once``: no
``fetch_peers``), but recipients are looked up in it before. With ``--cold`` the
session starts empty, as a new session or an imported audience does: the pipeline
asks Telegram (``users.GetUsers``) and writes what it learns to the storage while
other batches read from it, the storage's most concurrent use.

    python -m benchmarks.repeat_broadcast [--runs 50] [--users 3000] [--storage default]
        [--rate 1000] [--latency-ms 20] [--cold] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from typing import Any

from benchmarks.common import ADMIN, FIRST_USER, make_core, pipeline_broadcast
from bot.app import utc_now
from bot.demo.audience import auto_concurrency
from bot.demo.simulator import TelegramSimulator
from bot.storage.inmemory import in_memory_database
from bot.telegram.serialized import SerializedStorage
from bot.telegram.session import session_storage

STORAGES = ("default", "mongo", "unprotected")


async def one_run(args: argparse.Namespace) -> dict[str, Any]:
    """One broadcast to ``args.users`` fresh simulated users; its outcome."""
    users, storage, rate, latency_ms = args.users, args.storage, args.rate, args.latency_ms
    db = in_memory_database("repeat")
    sim = TelegramSimulator(
        "repeat",
        telegram_limit=1000,
        latency_ms=latency_ms,
        latency_jitter_ms=latency_ms / 5,
        cold=args.cold,
    )
    with tempfile.TemporaryDirectory() as session_dir:
        if storage == "mongo":
            storage_ = session_storage("repeat", db, session_dir=session_dir)
            sim.storage = storage_  # type: ignore[assignment]  # hydrogram infers SQLiteStorage
        await sim.start()
        try:
            ids = list(range(FIRST_USER, FIRST_USER + users))
            sim.add_users(ids)
            sim.add_user(ADMIN)
            now = utc_now()
            await db["users"].insert_many([{"user_id": u, "created_at": now} for u in ids])
            core = make_core(db, sim, rate, auto_concurrency(rate, latency_ms))
            if storage == "unprotected" and isinstance(sim.storage, SerializedStorage):
                sim.storage = sim.storage.inner
            await core.ensure_indexes()
            started = time.perf_counter()
            summary = await pipeline_broadcast(core)
            duration = time.perf_counter() - started
        finally:
            await sim.stop()
    received = sim.received_counts()
    return {
        "eligible": users,
        "sent": summary.sent,
        "failed": summary.failed,
        "unknown": summary.unknown,
        "errors": dict(summary.errors),
        "duplicates": sum(1 for u in ids if received.get(u, 0) > 1),
        "missing": sum(1 for u in ids if received.get(u, 0) == 0),
        "duration_s": round(duration, 2),
    }


def verdict(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether every run sent to every eligible recipient, with nothing unknown."""
    return {
        "runs": len(runs),
        "all_sent": all(r["sent"] == r["eligible"] for r in runs),
        "none_unknown": all(r["unknown"] == 0 for r in runs),
        "none_twice": all(r["duplicates"] == 0 for r in runs),
        "runs_with_failures": sum(1 for r in runs if r["failed"] or r["unknown"]),
        "failed_total": sum(r["failed"] for r in runs),
        "unknown_total": sum(r["unknown"] for r in runs),
    }


async def repeat(args: argparse.Namespace) -> dict[str, Any]:
    """Every run, printed as it ends unless ``--json``."""
    runs = []
    for number in range(1, args.runs + 1):
        run = await one_run(args)
        runs.append(run)
        if not args.json:
            print(
                f"run {number:3d}/{args.runs}: sent {run['sent']}, failed {run['failed']}, "
                f"unknown {run['unknown']}, received twice {run['duplicates']}, "
                f"received nothing {run['missing']}"
                f"{'  errors ' + str(run['errors']) if run['errors'] else ''}"
                f"  ({run['duration_s']} s)",
                flush=True,
            )
    names = ("users", "storage", "rate", "latency_ms", "cold")
    settings = {name: getattr(args, name) for name in names}
    return {"settings": settings, "summary": verdict(runs), "per_run": runs}


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--storage", choices=STORAGES, default="default")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(repeat(args))
    if args.json:
        print(json.dumps(result))
        return
    summary = result["summary"]
    ok = summary["all_sent"] and summary["none_unknown"] and summary["none_twice"]
    clean = "every eligible recipient sent, nothing unknown, nobody twice, in every run"
    print(
        f"{summary['runs']} runs of {args.users} recipients, storage {args.storage}"
        f"{', cold session' if args.cold else ''}: "
        f"{clean if ok else 'NOT every run was clean'}"
        f" (failed {summary['failed_total']}, unknown {summary['unknown_total']}, "
        f"runs with failures {summary['runs_with_failures']})"
    )


if __name__ == "__main__":
    main()
