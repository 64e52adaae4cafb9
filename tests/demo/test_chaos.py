"""``python -m bot demo --chaos``: a broadcast through faults, then its invariants.

The faults are timed in real seconds (outages, FloodWaits, the restart's grace),
shortened here: each run takes a few seconds of the real clock.
"""

from __future__ import annotations

import io
from typing import Any

from bot.demo.chaos import ChaosTiming, run_chaos
from bot.demo.cli import broken, parse_args
from bot.demo.display import PlainDisplay

QUICK = ChaosTiming(outage_s=(0.2, 0.4), flood_wait_s=1, storm_users=1)
ARGS = "--chaos --users 400 --rate 400 --telegram-limit 1000 --latency-ms 2 --seed 2"
#: The run's figures and output, shared by the tests that read them (one run of seconds).
_RUN: list[tuple[dict[str, Any], str]] = []


async def chaos_run() -> tuple[dict[str, Any], str]:
    if not _RUN:
        shown = io.StringIO()
        result = await run_chaos(parse_args(ARGS.split()), PlainDisplay(shown), QUICK)
        assert not result.interrupted
        _RUN.append((result.figures, shown.getvalue()))
    return _RUN[0]


async def test_chaos_injects_every_fault_and_resumes_after_a_restart() -> None:
    figures, shown = await chaos_run()

    injected = figures["injected"]
    assert injected["restarts"] == 1
    assert len(injected["db_outages_s"]) == 3
    assert all(0.2 <= seconds <= 0.4 for seconds in injected["db_outages_s"])
    assert sum(injected["db_faults"].values()) >= 4  # 3 outages and the lost claim, at least
    assert injected["lost_answers"] > 0
    assert injected["duplicates_refused"] == injected["lost_answers"]  # resent, refused
    assert injected["flood_waits"]["scripted"] == 1
    assert "database outage" in shown
    assert "run stopped" in shown
    # What holds whatever the pipeline's state: nobody twice, MongoDB agrees with
    # Telegram, and nobody got nothing without being counted in doubt (a row in doubt
    # may also be a blocked user's, who is not missing).
    assert figures["duplicates"] == 0
    assert figures["ledger_disagrees"] == 0
    assert figures["status"] == "completed"
    assert figures["missing"] <= figures["unknown"]
    assert figures["sent"] + figures["failed"] + figures["not_sent"] == figures["total"] == 400


async def test_chaos_keeps_every_invariant() -> None:
    figures, _ = await chaos_run()
    assert broken(figures) == []


def test_a_broken_invariant_is_named() -> None:
    figures = {"duplicates": 0, "missing": 8, "unknown": 8, "ledger_disagrees": 0}
    assert broken(figures | {"status": "completed"}) == ["missing=8", "unknown=8"]
    assert broken(figures | {"missing": 0, "unknown": 0, "status": "failed"}) == ["status=failed"]
