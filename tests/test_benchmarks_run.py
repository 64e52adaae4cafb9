"""The README's benchmarks still run as written, at toy sizes: each exits 0 and its
``--json`` reports every recipient sent. (Their figures are measured by hand, never
asserted here: these machines are shared and noisy.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(name: str, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_scale_sends_every_recipient_at_each_size() -> None:
    result = run_benchmark("scale", "--sizes", "200", "400")
    assert [(run["users"], run["sent"]) for run in result["runs"]] == [(200, 200), (400, 400)]


def test_memory_traces_each_size_and_sends_everyone() -> None:
    result = run_benchmark("memory", "--sizes", "300", "600", "--sends", "300")
    assert [run["users"] for run in result["runs"]] == [300, 600]
    assert result["runs"][0]["sent"] == 300


def test_queries_examines_pages_without_scans() -> None:
    result = run_benchmark("queries", "--sizes", "2000", "4000")
    shapes = result["sizes"]["4000"]
    assert shapes, result
    assert shapes["audience page: all"]["scans"] == 0


@pytest.mark.parametrize("storage", ["default", "mongo", "unprotected"])
def test_repeat_broadcast_is_clean_with_each_storage_from_a_cold_session(storage: str) -> None:
    result = run_benchmark(
        "repeat_broadcast", "--runs", "2", "--users", "100", "--storage", storage, "--cold"
    )
    assert result["summary"]["all_sent"], result["per_run"]
    assert result["summary"]["none_twice"], result["per_run"]
