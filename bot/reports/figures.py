"""What a report says of a broadcast, from its document and its ledger read once (pure).

:class:`LedgerCounts` gathers, row by row, the counts the CSV's rows add up to and the
activity the timeline is drawn from; :func:`chart_data` turns them, with the stored
document (runs, FloodWait episodes, deletes and edits) and the reaction counts, into
what :func:`bot.reports.chart.render_png` draws.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.delivery.model import as_utc
from bot.delivery.report import ERROR_LABELS, duration_text, percent
from bot.delivery.reruns import first_run, runs_text
from bot.reports.chart import ChartData
from bot.reports.rows import LedgerEntry
from bot.reports.timeline import Activity, RunWindow, build_timeline


def report_problem(doc: Mapping[str, Any]) -> str | None:
    """Why the broadcast ``doc`` has no report now (what to ask instead), or None."""
    bid, status = doc["broadcast_id"], doc["status"]
    if doc.get("kind"):
        kind, of = doc["kind"], doc.get("of")
        return (
            f"{bid} is a {kind} of {of}, not a broadcast: /broadcast_report {of} reports the "
            f"broadcast, and /broadcast_history {bid} shows what this {kind} did."
        )
    if status in ("queued", "running"):
        return f"{bid} is still {status}: ask for its report once it has ended (or pause it)."
    if not doc.get("snapshot_started"):
        return f"{bid} was never sent ({status}): there is nothing to report."
    return None


@dataclass(slots=True)
class LedgerCounts:
    """The rows of a broadcast's ledger, counted as they are read; ``activity`` knows the
    broadcast's runs (:func:`counting`)."""

    rows: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    activity: Activity = field(default_factory=Activity)

    def add(self, entry: LedgerEntry) -> None:
        """Count one row."""
        self.rows += 1
        self.by_status[entry.status] += 1
        if entry.category:
            self.errors[entry.category] += 1
        if entry.settled_at is not None and entry.status in ("sent", "failed"):
            self.activity.add(entry.settled_at, sent=entry.status == "sent")


def counting(doc: Mapping[str, Any]) -> LedgerCounts:
    """Empty counts for the rows of the broadcast ``doc``."""
    return LedgerCounts(activity=Activity(run_windows(doc)))


def run_windows(doc: Mapping[str, Any]) -> list[RunWindow]:
    """When each run of the broadcast sent (the first alone if it was never retried)."""
    runs = list(doc.get("runs") or [first_run(dict(doc))])
    started = as_utc(doc.get("started_at"))
    windows = []
    for index, run in enumerate(runs):
        start = as_utc(run.get("started_at"))
        requested = as_utc(run.get("requested_at"))
        last = index == len(runs) - 1
        if start is None and last and started is not None:
            start = started if requested is None or started >= requested else None
        start = start or requested
        end = as_utc(run.get("completed_at"))
        windows.append(
            RunWindow(
                int(run.get("run") or index + 1),
                start.timestamp() if start else None,
                end.timestamp() if end else None,
            )
        )
    return windows


def flood_episodes(doc: Mapping[str, Any]) -> list[tuple[float, float]]:
    """The recorded FloodWait episodes: (Unix time, seconds)."""
    episodes = []
    for entry in doc.get("flood_wait_log") or []:
        at = as_utc(entry.get("at"))
        if at is not None:
            episodes.append((at.timestamp(), float(entry.get("seconds") or 0.0)))
    return episodes


def chart_data(
    doc: Mapping[str, Any], counts: LedgerCounts, reactions: Mapping[str, int]
) -> ChartData:
    """What the chart of ``doc`` shows, given its ledger's ``counts`` and its reaction counts."""
    timeline = build_timeline(counts.activity, flood_episodes(doc))
    errors = tuple(
        (ERROR_LABELS.get(category, category), n)
        for category, n in sorted(counts.errors.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    options = list((doc.get("content") or {}).get("reactions") or [])
    row = None
    if options:
        extra = [choice for choice in reactions if choice not in options]
        row = tuple((option, int(reactions.get(option, 0))) for option in options + extra)
    return ChartData(title(doc, counts), timeline, errors, row, tuple(notes(doc, counts)))


def title(doc: Mapping[str, Any], counts: LedgerCounts) -> str:
    """``Broadcast bc_... · completed · 1,234 recipients``."""
    total = counts.rows + int(doc.get("skipped_count") or 0)
    return f"Broadcast {doc['broadcast_id']} · {doc['status']} · {total:,} recipients"


def notes(doc: Mapping[str, Any], counts: LedgerCounts) -> list[str]:
    """The figures in words: recipients by outcome, time, FloodWaits, runs, deletes, edits."""
    total = counts.rows + int(doc.get("skipped_count") or 0)
    by = counts.by_status
    lines = [
        f"Recipients: {total:,}",
        f"Delivered: {by['sent']:,} ({percent(by['sent'], total)})",
        f"Failed: {by['failed']:,} ({percent(by['failed'], total)})",
    ]
    if by["sending"]:
        lines.append(f"In doubt (interrupted): {by['sending']:,}")
    if by["pending"]:
        lines.append(f"Not sent: {by['pending']:,}")
    if doc.get("skipped_count"):
        lines.append(f"Skipped, not user ids: {int(doc['skipped_count']):,}")
    active, waited = (
        float(doc.get("active_seconds") or 0),
        float(doc.get("flood_wait_seconds") or 0),
    )
    lines.append(f"Sending time: {duration_text(active)}")
    floods, logged = int(doc.get("flood_waits") or 0), len(doc.get("flood_wait_log") or [])
    if floods:
        shaded = f"; the last {logged} shaded" if logged < floods else ""
        lines.append(f"FloodWaits: {floods:,}, {duration_text(waited)} in all{shaded}")
    runs = doc.get("runs") or []
    if runs:
        lines += ["", "Runs:", *(line.lstrip("• ") for line in runs_text(dict(doc), _when))]
    for entry in doc.get("operations") or []:
        lines.append(f"{str(entry.get('kind', '')).capitalize()}: {entry.get('id')}")
    return lines


def _when(value: Any) -> str:
    moment = as_utc(value) if isinstance(value, datetime) else None
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "?"
