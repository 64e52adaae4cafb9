"""``python -m bot demo``: the main job, run as a user runs it."""

from __future__ import annotations

import json

import pytest

from bot.__main__ import main
from bot.demo.cli import build_parser
from config.settings import ENV_VARS


def test_demo_json_accounts_for_every_recipient(capsys: pytest.CaptureFixture[str]) -> None:
    args = "demo --users 400 --blocked 0.05 --deactivated 0.01 --rate 1000"
    args += " --telegram-limit 1000 --latency-ms 0 --json"
    assert main(args.split()) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sent"] + result["failed"] + result["unknown"] == result["total"] == 400
    assert result["duplicates"] == 0
    assert result["missing"] == 0
    assert result["errors"] == {"blocked": 20, "deactivated": 4}
    assert result["simulated"] == {"active": 376, "blocked": 20, "deactivated": 4}
    assert result["flood_waits"] == 0


def test_demo_sends_to_a_segment_only(capsys: pytest.CaptureFixture[str]) -> None:
    args = "demo --users 600 --blocked 0 --deactivated 0 --rate 1000 --telegram-limit 1000"
    args += " --latency-ms 0 --segment lang:de --exclude premium --json"
    assert main(args.split()) == 0
    result = json.loads(capsys.readouterr().out)
    # ids 2_000_000 + i, languages in turn by id (every 6th from "de"), premium every 7th
    german = [uid for uid in range(2_000_000, 2_000_600) if uid % 6 == 2]
    expected = [uid for uid in german if uid % 7 != 0]
    assert result["total"] == result["sent"] == len(expected)
    assert result["missing"] == result["outside_target"] == result["duplicates"] == 0


def test_demo_draws_progress_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "demo",
                "--users",
                "150",
                "--rate",
                "1000",
                "--telegram-limit",
                "1000",
                "--latency-ms",
                "0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "BROADCAST COMPLETED" in out
    assert "Error Breakdown" in out
    assert "👤 By: Admin (1000001)" in out  # as the admin bot names the demo's admin


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("demo --users 0", "must be at least 1"),
        ("demo --blocked 1.5", "must be between 0 and 1"),
        ("demo --blocked 0.7 --deactivated 0.5", "must not exceed 1"),
        ("demo --rate 5000", "--rate must be in"),
        ("demo --segment vip", 'Unknown segment "vip"'),
        ("demo --latency-ms -5", "--latency-ms: must be 0 or more"),
        ("demo --users abc", "--users: not a whole number: 'abc'"),
        ("demo --report /dev/null/report", "--report /dev/null/report: cannot make a folder"),
    ],
)
def test_demo_rejects_bad_options(
    args: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args.split())
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err


def test_demo_refuses_a_target_that_matches_nobody(capsys: pytest.CaptureFixture[str]) -> None:
    args = "demo --users 50 --rate 1000 --telegram-limit 1000 --latency-ms 0 --segment lang:xx"
    assert main(args.split()) == 2
    captured = capsys.readouterr()
    assert "Nobody matches" in captured.err
    assert "lang:xx" in captured.err
    assert "COMPLETED" not in captured.out
    assert "Sent" not in captured.out


def test_help_is_plain_text_with_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    assert "``" not in shown
    options = [action for action in build_parser()._actions if action.option_strings]
    for action in options:
        if action.dest == "help":
            continue
        assert action.help is not None, action.dest
        assert "(default: " in action.help, action.dest
    assert "--seed" in shown
    assert "replays the same" in shown
    assert "--chaos" in shown


def test_run_help_names_every_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0
    shown = capsys.readouterr().out
    for name in ENV_VARS:
        assert name in shown
    assert ".env.example" in shown
    assert "README.md" in shown
