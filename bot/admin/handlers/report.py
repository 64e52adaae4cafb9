"""``/broadcast_report``: a sent broadcast's chart and ledger, sent to the admin as two files.

The files are written into a temporary folder (:func:`bot.reports.build.write_report`:
the ledger read a page at a time, the CSV and the chart written off the event loop),
uploaded as documents, and the folder is removed. Nothing is stored: a refused
report (no such broadcast, never sent, still sending, a delete or an edit) changes
nothing either.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path

from hydrogram.types import Message

from bot.admin.commands import ReportRequest
from bot.admin.handlers.context import BotContext
from bot.delivery.events import event
from bot.reports.build import ReportFiles, ReportSources, write_report
from bot.reports.figures import report_problem
from bot.reports.rows import CSV_COLUMNS

log = logging.getLogger(__name__)

ICON = "📊"


def sources(ctx: BotContext) -> ReportSources:
    """Where a report reads from: the bot's storage."""
    core = ctx.core
    return ReportSources(core.store, core.ledger, core.reactions)


async def on_report(ctx: BotContext, message: Message, request: ReportRequest) -> None:
    """Send the chart and the CSV of a broadcast, or say why there is none."""
    chat_id, bid = message.chat.id, request.broadcast_id
    doc = await ctx.named_broadcast(message, bid)
    if doc is None:
        return
    problem = report_problem(doc)
    if problem is not None:
        await ctx.say(chat_id, f"{ICON} {problem}", reply_to=message.id)
        return
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="broadcast-report-"))
    try:
        files = await write_report(sources(ctx), bid, folder)
        reactions = bool((doc.get("content") or {}).get("reactions"))
        await ctx.send_file(
            chat_id,
            files.chart,
            caption=chart_caption(bid, reactions=reactions),
            reply_to=message.id,
        )
        await ctx.send_file(chat_id, files.ledger, caption=ledger_caption(bid, files))
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)
    reported = event("broadcast.reported", bid, by=message.from_user.id, rows=files.rows)
    log.info("%s: report sent (%d rows)", bid, files.rows, extra=reported)


def chart_caption(bid: str, *, reactions: bool) -> str:
    """What the chart shows."""
    shown = "deliveries and rate over sending time, FloodWaits shaded, errors by category"
    return f"{ICON} Report of {bid}: {shown}" + (", reactions." if reactions else ".")


def ledger_caption(bid: str, files: ReportFiles) -> str:
    """What the CSV holds, with its rows counted by status."""
    by = files.by_status
    parts = [f"{by.get('sent', 0):,} sent", f"{by.get('failed', 0):,} failed"]
    if by.get("sending"):
        parts.append(f"{by['sending']:,} in doubt")
    if by.get("pending"):
        parts.append(f"{by['pending']:,} not sent")
    return (
        f"🧾 Ledger of {bid}: {files.rows:,} rows, one per recipient ({', '.join(parts)}).\n"
        f"Columns: {', '.join(CSV_COLUMNS)} (times in UTC, ISO 8601)."
    )
