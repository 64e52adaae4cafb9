"""``python -m bot demo --report DIR``: the demo's broadcast reported as the bot reports it."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from bot.__main__ import main
from bot.reports.chart import SIZE_PX

QUICK = "--rate 1000 --telegram-limit 1000 --latency-ms 0"


def test_demo_report_writes_the_chart_and_the_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "made" / "for it"
    args = f"demo --users 300 --blocked 0.05 --deactivated 0.01 {QUICK} --json".split()

    assert main([*args, "--report", str(folder)]) == 0

    result = json.loads(capsys.readouterr().out)
    chart, ledger = Path(result["report"]["chart"]), Path(result["report"]["ledger"])
    assert sorted(p.name for p in folder.iterdir()) == sorted([chart.name, ledger.name])
    assert chart.name.endswith("_chart.png")
    with Image.open(chart) as image:
        assert (image.format, image.size) == ("PNG", SIZE_PX)
    with ledger.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == result["report"]["rows"] == result["total"] == 300
    assert Counter(r["status"] for r in rows) == {"sent": result["sent"], "failed": 18}
    failed = Counter(r["category"] for r in rows if r["status"] == "failed")
    assert failed == result["errors"] == {"blocked": 15, "deactivated": 3}


def test_the_report_is_named_after_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--users", "50", *QUICK.split(), "--report", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    [chart] = tmp_path.glob("*_chart.png")
    [ledger] = tmp_path.glob("*_ledger.csv")
    assert f"Report: {chart} (chart), {ledger} (ledger, 50 rows)." in out


def test_report_does_not_apply_to_the_chat(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--interactive", "--report", "somewhere"])
    assert exit_info.value.code == 2
    assert "--report does not apply to --interactive" in capsys.readouterr().err
