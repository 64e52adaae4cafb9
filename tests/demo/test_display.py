"""How the demo shows a broadcast: live on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import logging

from bot.delivery.policy import ProgressSnapshot
from bot.demo.display import LiveDisplay, LogLines, PlainDisplay, make_display, progress_line


def snap(done: int, total: int = 1000, **extra: object) -> ProgressSnapshot:
    fields: dict[str, object] = {
        "broadcast_id": "bc_1",
        "total": total,
        "total_known": True,
        "sent": done,
        "failed": 0,
        "errors": {},
        "unknown": 0,
        "elapsed_s": done / 25,
        "rate": 25.0,
        "eta_s": (total - done) / 25,
    }
    return ProgressSnapshot(**(fields | extra))  # type: ignore[arg-type]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_plain_output_is_a_line_every_few_seconds_and_the_last_state() -> None:
    out, now = io.StringIO(), [0.0]
    display = PlainDisplay(out, every_s=5.0, clock=lambda: now[0])
    display.header("Demo", [("audience", "1,000 users"), ("target", "all users")])
    for second in range(12):  # a snapshot every second
        now[0] = float(second)
        await display.progress(snap(25 * second))
    display.note("database outage for 1.5 s")
    display.close()

    lines = out.getvalue().splitlines()
    assert lines[:3] == ["Demo", "  audience: 1,000 users", "  target: all users"]
    progress = [line for line in lines if " done " in line]
    assert [line.split(" done")[0] for line in progress] == [
        "[0s] 0/1,000",
        "[5s] 125/1,000",
        "[10s] 250/1,000",
        "[11s] 275/1,000",  # the last snapshot, printed when the display closes
    ]
    assert "* database outage for 1.5 s" in lines
    assert "\x1b" not in out.getvalue()


def test_a_progress_line_says_when_the_database_is_down() -> None:
    from datetime import UTC, datetime

    down = datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC)
    line = progress_line(snap(500, unknown=3, db_down_since=down, total_known=False))
    assert line.startswith("[20s] 503/1,000+ done (50.3%): 500 sent, 0 failed, 3 in doubt;")
    assert line.endswith("(database unreachable since 12:00:05)")


def test_before_the_audience_is_counted_the_line_says_so() -> None:
    line = progress_line(snap(0, total=0, total_known=False, eta_s=None))
    assert line == "[0s] 0 done (counting the audience): 0 sent, 0 failed; 25.0 msg/s, estimating"


async def test_a_terminal_gets_the_status_message_and_a_bar_redrawn() -> None:
    out = Tty()
    display = make_display(out)
    assert isinstance(display, LiveDisplay)
    display.header("Demo", [("audience", "1,000 users")])
    await display.progress(snap(100))
    await display.progress(snap(600))
    display.close()

    shown = out.getvalue()
    assert "\x1b[" in shown  # styled and redrawn in place
    assert "BROADCAST IN PROGRESS" in shown
    assert "600/1000" in shown
    assert "25.0 msg/s" in shown


def test_log_records_become_one_line_without_traceback() -> None:
    lines: list[str] = []
    handler = LogLines(lines.append)
    logger = logging.getLogger("tests.demo.display")
    logger.addHandler(handler)
    try:
        try:
            raise ConnectionError("database down")
        except ConnectionError:
            logger.exception("progress report for %s failed", "bc_1")
        logger.info("not shown: below WARNING")
    finally:
        logger.removeHandler(handler)
    assert lines == ["error: progress report for bc_1 failed (ConnectionError: database down)"]
