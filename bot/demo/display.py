"""How the demo shows a broadcast: live on a terminal (rich), plain lines anywhere else.

A terminal gets a header table, then a live region (the bot's status message and
a progress bar) redrawn in place. Output that is not a terminal (a file, a pipe,
a CI log) gets the same header as ``label: value`` lines and a progress line every
few seconds: no cursor movement, no colour, nothing but text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from bot.delivery.policy import ProgressSnapshot
from bot.delivery.report import Summary, duration_text, percent, progress_text

#: Seconds between two progress lines when the output is not a terminal.
PLAIN_EVERY_S = 5.0
Rows = Sequence[tuple[str, str]]


class Display(Protocol):
    """What the demo calls while a broadcast runs."""

    def header(self, title: str, rows: Rows) -> None:
        """Show what is about to happen: ``rows`` of ``(label, value)``."""

    async def progress(self, snap: ProgressSnapshot) -> None:
        """Show a progress snapshot (the pipeline's progress callback)."""

    def note(self, text: str) -> None:
        """Show one line about an event (an injected fault, a restart)."""

    def close(self) -> None:
        """End the live part; what follows is printed below it."""

    def table(self, title: str, rows: Rows) -> None:
        """Show a titled table of ``(label, value)`` rows (results, invariants)."""


class LogLines(logging.Handler):
    """Log records as one line each, ``level: message (error)``, without tracebacks.

    The pipeline logs the faults it rides out (a progress report that could not be
    stored...); a traceback per fault would bury the demo.

    Args:
        show: Where each line goes (a display's ``note``, a chat screen's ``write``).
        level: The least severe records shown.
    """

    def __init__(self, show: Callable[[str], None], level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.show = show

    def emit(self, record: logging.LogRecord) -> None:
        """Show ``record`` as one line."""
        try:
            text = f"{record.levelname.lower()}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                text += f" ({type(error).__name__}: {error})"
            self.show(text)
        except Exception:  # a log line must never break the demo
            self.handleError(record)


def make_display(out: TextIO) -> Display:
    """A live display when ``out`` is a terminal, plain lines otherwise."""
    if out.isatty():
        return LiveDisplay(Console(file=out, highlight=False))
    return PlainDisplay(out)


def final_snapshot(summary: Summary) -> ProgressSnapshot:
    """The last state of a run as a snapshot: progress reports stop before the end."""
    done = summary.sent + summary.failed
    return ProgressSnapshot(
        broadcast_id=summary.broadcast_id,
        total=summary.total,
        total_known=True,
        sent=summary.sent,
        failed=summary.failed,
        errors=dict(summary.errors),
        unknown=summary.unknown,
        elapsed_s=summary.duration_s,
        rate=done / summary.duration_s if summary.duration_s else 0.0,
        eta_s=None if summary.not_sent else 0.0,
        skipped=summary.skipped,
    )


def progress_line(snap: ProgressSnapshot) -> str:
    """One line of progress, e.g. ``[12s] 300/2,000 done (15%): 297 sent, 3 failed, ...``."""
    eta = f"about {duration_text(snap.eta_s)} left" if snap.eta_s is not None else "estimating"
    total = f"{snap.total:,}" + ("" if snap.total_known else "+")
    share = f"/{total} done ({percent(snap.done, snap.total)})"
    if not (snap.total_known or snap.total):
        share = " done (counting the audience)"
    line = (
        f"[{duration_text(snap.elapsed_s)}] {snap.done:,}{share}: "
        f"{snap.sent:,} sent, {snap.failed:,} failed"
    )
    if snap.unknown:
        line += f", {snap.unknown:,} in doubt"
    line += f"; {snap.rate:.1f} msg/s, {eta}"
    if snap.paused:
        line += " (paused)"
    if snap.db_down_since is not None:
        line += f" (database unreachable since {snap.db_down_since:%H:%M:%S})"
    return line


class PlainDisplay:
    """Text only: a progress line on the first snapshot, then every ``every_s`` seconds.

    Args:
        out: Where lines are written.
        every_s: Seconds between progress lines.
        clock: Monotonic seconds (tests move it).
    """

    def __init__(
        self,
        out: TextIO,
        *,
        every_s: float = PLAIN_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out, self.every_s, self.clock = out, every_s, clock
        self._last_at: float | None = None
        self._pending: ProgressSnapshot | None = None

    def header(self, title: str, rows: Rows) -> None:
        """``title`` then ``label: value`` lines."""
        self._write(title, *(f"  {label}: {value}" for label, value in rows))

    async def progress(self, snap: ProgressSnapshot) -> None:
        """Print a line if the last one is ``every_s`` old; else keep it for :meth:`close`."""
        now = self.clock()
        if self._last_at is None or now - self._last_at >= self.every_s:
            self._last_at, self._pending = now, None
            self._write(progress_line(snap))
        else:
            self._pending = snap

    def note(self, text: str) -> None:
        """Print ``text`` as a line of its own."""
        self._write(f"* {text}")

    def close(self) -> None:
        """Print the last snapshot if its line was not printed yet."""
        if self._pending is not None:
            self._write(progress_line(self._pending))
            self._pending = None

    def table(self, title: str, rows: Rows) -> None:
        """``title`` then ``label: value`` lines."""
        self.header(title, rows)

    def _write(self, *lines: str) -> None:
        self.out.write("".join(line + "\n" for line in lines))
        self.out.flush()


class LiveDisplay:
    """A terminal: a header table, then the status message and a bar redrawn in place."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar = Progress(
            TextColumn("[bold]sending"),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[eta]}"),
            console=console,
            expand=True,
        )
        self.task: TaskID = self.bar.add_task("sending", total=None, rate="", eta="")
        self.live: Live | None = None

    def header(self, title: str, rows: Rows) -> None:
        """A table of ``rows`` in a titled panel."""
        self.console.print(Panel(_grid(rows), title=title, title_align="left", expand=False))

    async def progress(self, snap: ProgressSnapshot) -> None:
        """Redraw the live region with ``snap``."""
        eta = f"{duration_text(snap.eta_s)} left" if snap.eta_s is not None else "estimating"
        self.bar.update(
            self.task,
            completed=snap.done,
            total=max(snap.total, snap.done) or None,
            rate=f"{snap.rate:.1f} msg/s",
            eta=eta,
        )
        status = Panel(Text(progress_text(snap)), title="status message", expand=False)
        view = Group(status, self.bar.get_renderable())
        if self.live is None:
            self.live = Live(view, console=self.console, refresh_per_second=4)
            self.live.start()
        else:
            self.live.update(view)

    def note(self, text: str) -> None:
        """Print ``text`` above the live region."""
        self.console.print(Text(f"• {text}", style="yellow"))

    def close(self) -> None:
        """Stop redrawing: the last state stays on screen."""
        if self.live is not None:
            self.live.stop()
            self.live = None

    def table(self, title: str, rows: Rows) -> None:
        """A table of ``rows`` in a titled panel."""
        self.header(title, rows)


def _grid(rows: Rows) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, value)
    return grid
