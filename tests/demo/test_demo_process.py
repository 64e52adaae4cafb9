"""``python -m bot demo`` as a process: redirected output, and Ctrl-C.

These run the demo in a subprocess, as a user does, so they wait for it on the real
clock (a few seconds each): what they test is the process's own behaviour, its
output to a file and its answer to SIGINT.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--rate", "1000", "--telegram-limit", "1000", "--latency-ms", "0"]


def demo_env() -> dict[str, str]:
    """The environment without what makes rich colour a file anyway."""
    hidden = {"FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE"}
    return {key: value for key, value in os.environ.items() if key not in hidden}


def test_output_to_a_file_is_plain_text(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with out.open("w", encoding="utf-8") as file:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "demo", "--users", "200", *FAST],
            stdout=file,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=demo_env(),
            timeout=60,
            check=False,
        )
    text = out.read_text(encoding="utf-8")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in text
    assert "audience: 200 simulated users (192 active, 6 blocked the bot" in text
    assert "target: all users: 200 recipients" in text
    assert "Telegram: allows 1000 msg/s" in text
    assert re.search(r"^\[\d+s\] 200/200 done \(100%\)", text, re.MULTILINE)
    assert "BROADCAST COMPLETED" in text


def _default_sigint() -> None:
    """In the child: Ctrl-C as in a terminal, even if this process was started ignoring it
    (a shell's background job does), which the child would inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def count(label: str, text: str) -> int:
    found = re.search(rf"{label}: ([\d,]+)", text)
    return int(found.group(1).replace(",", "")) if found else 0


async def test_ctrl_c_stops_the_broadcast_and_reports_what_was_sent() -> None:
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "bot", "demo", "--users", "3000", "--rate", "100"],
        *["--telegram-limit", "1000", "--latency-ms", "10"],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=demo_env(),
        preexec_fn=_default_sigint,
    )
    assert process.stdout is not None
    seen = b""
    try:
        async with asyncio.timeout(30):
            while not re.search(rb"\] [1-9][\d,]*/[\d,]+\+? done \(", seen):  # it is sending
                line = await process.stdout.readline()
                assert line, seen.decode()
                seen += line
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):
            rest, errors = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    out, err = (seen + rest).decode(), errors.decode()

    assert process.returncode == 130, err
    assert "Traceback" not in err + out
    assert "BROADCAST INTERRUPTED" in out
    assert "Ctrl-C" in out
    total, sent = count("Total Users", out), count("Successfully Sent", out)
    failed, unknown, left = count("Failed", out), count("Unknown", out), count("Not sent", out)
    assert total == 3000
    assert 0 < sent < total
    assert left > 0
    assert sent + failed + unknown + left == total  # settled or given back: none lost
