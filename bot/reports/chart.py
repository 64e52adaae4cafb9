"""The report's PNG: deliveries and rate over time with FloodWaits shaded, the error
breakdown, the reactions, and the figures in words.

Drawn with matplotlib's object API on the Agg backend (no pyplot, no display, no
global figure state), so :func:`render_png` may run on any thread; it is CPU work,
which the caller runs off the event loop. matplotlib is imported there, not at
import time: the bot starts without it. The figure has a fixed size
(:data:`SIZE_PX`). Text the default font cannot draw (emoji) is spelled out by its
Unicode name, so no glyph is missing.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.reports.timeline import Timeline, choose_step

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH_IN, HEIGHT_IN, DPI = 12.0, 8.0, 100
#: The PNG's size in pixels.
SIZE_PX = (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
#: At most this many labelled times on the time axis (round ones: 1 s, 5 s, 1 min...).
TICKS = 12
#: Room above the highest bar for the runs' labels.
HEADROOM = 1.3
COLORS = {"sent": "#2e9d57", "failed": "#d64541", "rate": "#1f5fbf", "flood": "#f0a030"}


@dataclass(frozen=True, slots=True)
class ChartData:
    """What the chart shows, as plain values.

    ``errors``: ``(label, count)`` per category, biggest first; ``reactions``:
    ``(option, count)`` in the row's order, None without a reaction row; ``notes``:
    lines of text (totals, runs, FloodWaits, deletes and edits).
    """

    title: str
    timeline: Timeline
    errors: tuple[tuple[str, int], ...] = ()
    reactions: tuple[tuple[str, int], ...] | None = None
    notes: tuple[str, ...] = ()


def elapsed_label(seconds: float) -> str:
    """``0:05``, ``12:30`` or ``1:02:03`` (sending time)."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def step_text(seconds: int) -> str:
    """A bucket's width: ``5 s``, ``2 min``, ``3 h``, ``1 d``."""
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def drawable(text: str, has_glyph: Callable[[str], bool]) -> str:
    """``text`` with each character the font lacks spelled out (``👍`` -> ``:thumbs up sign:``)."""
    out = []
    for char in text:
        if char.isspace() or has_glyph(char):
            out.append(char)
        elif unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue  # variation selectors, joiners: nothing to draw
        else:
            out.append(f":{unicodedata.name(char, f'U+{ord(char):04X}').lower()}:")
    return "".join(out)


def run_label(number: int, started: float) -> str:
    """``Run 2 (retry) · 2026-11-29 14:05 UTC``."""
    when = datetime.fromtimestamp(started, UTC)
    kind = " (retry)" if number > 1 else ""
    return f"Run {number}{kind} · {when:%Y-%m-%d %H:%M} UTC"


def render_png(data: ChartData) -> bytes:
    """The chart of ``data`` as PNG bytes of :data:`SIZE_PX` (CPU work: run it off the loop)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    glyphs = _glyph_check()
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 3, height_ratios=(3, 2))
    figure.suptitle(drawable(data.title, glyphs), fontsize=13)
    _timeline(figure.add_subplot(grid[0, :]), data.timeline)
    _errors(figure.add_subplot(grid[1, 0]), data.errors, glyphs)
    _reactions(figure.add_subplot(grid[1, 1]), data.reactions, glyphs)
    _notes(figure.add_subplot(grid[1, 2]), data.notes, glyphs)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _glyph_check() -> Callable[[str], bool]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    font = FT2Font(font_manager.findfont(font_manager.FontProperties()))
    return lambda char: font.get_char_index(ord(char)) != 0


def _timeline(ax: Axes, timeline: Timeline) -> None:
    from matplotlib.ticker import MultipleLocator

    ax.set_title("Deliveries over sending time (runs joined)", loc="left", fontsize=11)
    if not timeline.bars:
        ax.text(0.5, 0.5, "No send was answered", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    step = timeline.step
    xs = [bar.x for bar in timeline.bars]
    sent = [bar.sent for bar in timeline.bars]
    failed = [bar.failed for bar in timeline.bars]
    for number, (begin, end) in enumerate(timeline.floods):  # behind the bars
        label = "FloodWait" if number == 0 else None
        ax.axvspan(begin, end, color=COLORS["flood"], alpha=0.45, lw=0, label=label, zorder=0)
    ax.bar(xs, sent, width=step, align="edge", color=COLORS["sent"], label="delivered", zorder=2)
    ax.bar(
        xs, failed, width=step, bottom=sent, align="edge", color=COLORS["failed"],
        label="failed", zorder=2,
    )  # fmt: skip
    ax.set_xlim(0, max(timeline.end, step))
    ax.set_ylim(0, HEADROOM * max(s + f for s, f in zip(sent, failed, strict=True)) + 1)
    ax.set_ylabel(f"sends answered per {step_text(step)}")
    ax.set_xlabel("sending time (h:mm:ss; runs joined end to end)")
    ax.xaxis.set_major_locator(MultipleLocator(choose_step(timeline.end, TICKS)))
    ax.xaxis.set_major_formatter(lambda value, _: elapsed_label(value))
    rate = ax.twinx()
    rates = [bar.rate for bar in timeline.bars]
    for mark in timeline.runs:  # one line per run: none drawn across the time between
        bars = [bar for bar in timeline.bars if bar.run == mark.number]
        label = "rate (msg/s)" if mark is timeline.runs[0] else None
        centres = [bar.x + step / 2 for bar in bars]
        rate.plot(centres, [bar.rate for bar in bars], color=COLORS["rate"], label=label)
    rate.set_ylabel("rate (answered sends per second)")
    rate.set_ylim(0, HEADROOM * max(rates) + 1)
    for mark in timeline.runs:
        ax.axvline(mark.x, color="#555555", linestyle="--", linewidth=1)
        ax.annotate(
            run_label(mark.number, mark.started), (mark.x, 1.0), xycoords=("data", "axes fraction"),
            xytext=(4, -12), textcoords="offset points", fontsize=8, color="#333333",
        )  # fmt: skip
    handles, labels = ax.get_legend_handles_labels()
    more, more_labels = rate.get_legend_handles_labels()
    ax.legend(
        handles + more, labels + more_labels, loc="lower right", bbox_to_anchor=(1.0, 1.0),
        ncols=4, fontsize=8, frameon=False,
    )  # fmt: skip


def _errors(ax: Axes, errors: tuple[tuple[str, int], ...], glyphs: Callable[[str], bool]) -> None:
    ax.set_title("Errors by category", loc="left", fontsize=11)
    if not errors:
        _empty(ax, "No failed recipient")
        return
    labels = [drawable(label, glyphs) for label, _ in errors][::-1]
    counts = [count for _, count in errors][::-1]
    ax.barh(labels, counts, color=COLORS["failed"])
    _counted(ax, counts, horizontal=True)


def _reactions(
    ax: Axes, reactions: tuple[tuple[str, int], ...] | None, glyphs: Callable[[str], bool]
) -> None:
    ax.set_title("Reactions", loc="left", fontsize=11)
    if reactions is None:
        _empty(ax, "No reaction row")
        return
    labels = [drawable(option, glyphs) for option, _ in reactions]
    counts = [count for _, count in reactions]
    ax.bar(range(len(labels)), counts, color=COLORS["rate"])
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    _counted(ax, counts, horizontal=False)


def _counted(ax: Axes, counts: list[int], *, horizontal: bool) -> None:
    for index, count in enumerate(counts):
        x, y = (count, index) if horizontal else (index, count)
        ax.annotate(
            f"{count:,}", (x, y), xytext=(3, 0) if horizontal else (0, 3),
            textcoords="offset points", fontsize=8,
            va="center" if horizontal else "bottom", ha="left" if horizontal else "center",
        )  # fmt: skip
    axis: Any = ax.xaxis if horizontal else ax.yaxis
    axis.get_major_locator().set_params(integer=True)
    if horizontal:
        ax.set_xlim(0, max(counts) * 1.15 + 1)
    else:
        ax.set_ylim(0, max(counts) * 1.15 + 1)


def _notes(ax: Axes, notes: tuple[str, ...], glyphs: Callable[[str], bool]) -> None:
    ax.set_axis_off()
    text = "\n".join(drawable(line, glyphs) for line in notes)
    ax.text(0.0, 1.0, text, va="top", ha="left", fontsize=9, wrap=True)


def _empty(ax: Axes, text: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777777")
