"""Writing a broadcast's report into a folder: the CSV of its ledger and the chart.

Reads through three small ports (the broadcast's document, its ledger a page at a
time, its reaction counts), which the MongoDB adapters implement. The ledger is
read once, status by status and by user id, each page a fresh query from the last
id seen (as the pipeline reads it: no cursor lives across pages): every page is
written to the CSV (on a thread) and counted, and nothing of it is kept, so an
audience of millions costs one page of memory. The chart is drawn from the counts
on a thread too: the event loop never waits on the file or on matplotlib.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from bot.reports.chart import ChartData, render_png
from bot.reports.figures import LedgerCounts, chart_data, counting
from bot.reports.rows import CSV_COLUMNS, STATUSES, csv_row, entry_of

PAGE = 1000


class ReportStore(Protocol):
    """The broadcast documents (:class:`bot.storage.store.MongoBroadcastStore`)."""

    async def get(self, broadcast_id: str) -> dict[str, Any]:
        """The document; raises BroadcastNotFoundError."""


class ReportLedger(Protocol):
    """The ledger (:class:`bot.storage.ledger.MongoDeliveryLedger`)."""

    async def rows_page(
        self, broadcast_id: str, status: str, after: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` rows of the broadcast in ``status`` with user ids above
        ``after``, in user id order."""


class ReactionCounts(Protocol):
    """The reactions (:class:`bot.storage.reactions.MongoReactionStore`)."""

    async def counts(self, broadcast_id: str) -> dict[str, int]:
        """How many users chose each option."""


@dataclass(frozen=True, slots=True)
class ReportSources:
    """Where a report reads from; ``page``: ledger rows per read."""

    store: ReportStore
    ledger: ReportLedger
    reactions: ReactionCounts
    page: int = PAGE


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """A written report: its two files, the ledger's rows counted by status and error, and
    what the chart shows (``shown``)."""

    chart: Path
    ledger: Path
    rows: int
    by_status: dict[str, int]
    errors: dict[str, int]
    shown: ChartData


def file_names(broadcast_id: str) -> tuple[str, str]:
    """The names of a report's chart and CSV."""
    return f"{broadcast_id}_chart.png", f"{broadcast_id}_ledger.csv"


async def write_report(sources: ReportSources, broadcast_id: str, folder: Path) -> ReportFiles:
    """Write the chart and the CSV of ``broadcast_id`` into ``folder`` (which exists).

    Raises:
        BroadcastNotFoundError: No such broadcast.
        StorageUnavailableError: The database could not be read.
    """
    doc = await sources.store.get(broadcast_id)
    chart_name, ledger_name = file_names(broadcast_id)
    ledger_path, chart_path = folder / ledger_name, folder / chart_name
    counts = counting(doc)
    await _write_ledger(sources, broadcast_id, ledger_path, counts)
    reactions = {}
    if (doc.get("content") or {}).get("reactions"):
        reactions = await sources.reactions.counts(broadcast_id)
    shown = chart_data(doc, counts, reactions)
    png = await asyncio.to_thread(render_png, shown)
    await asyncio.to_thread(chart_path.write_bytes, png)
    by_status, errors = dict(counts.by_status), dict(counts.errors)
    return ReportFiles(chart_path, ledger_path, counts.rows, by_status, errors, shown)


async def _write_ledger(
    sources: ReportSources, broadcast_id: str, path: Path, counts: LedgerCounts
) -> None:
    file = await asyncio.to_thread(_CsvFile, path)
    try:
        for status in STATUSES:
            after: int | None = None
            while True:
                page = await sources.ledger.rows_page(broadcast_id, status, after, sources.page)
                entries = [entry_of(row) for row in page]
                for entry in entries:
                    counts.add(entry)
                if entries:
                    await asyncio.to_thread(file.write, [csv_row(e) for e in entries])
                if len(page) < sources.page:
                    break
                after = entries[-1].user_id
    finally:
        await asyncio.to_thread(file.close)


class _CsvFile:
    """A CSV file opened with its header written (blocking: used on a thread)."""

    def __init__(self, path: Path) -> None:
        self.handle: IO[str] = path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(CSV_COLUMNS)

    def write(self, rows: Sequence[Sequence[str]]) -> None:
        self.writer.writerows(rows)

    def close(self) -> None:
        self.handle.close()
