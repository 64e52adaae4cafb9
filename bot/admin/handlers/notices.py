"""What the scheduler tells admins: a scheduled broadcast starts, or was missed."""

from __future__ import annotations

import logging

from bot.admin.handlers.context import BotContext
from bot.admin.handlers.schedule import admin_zone
from bot.delivery.model import as_utc
from bot.delivery.report import duration_text
from scheduler.book import Fired
from scheduler.when import describe_when

log = logging.getLogger(__name__)


async def scheduled_started(ctx: BotContext, fired: Fired) -> None:
    """Give the admin who scheduled it its status message (live once it runs), wake the queue."""
    doc = await ctx.core.store.get(fired.broadcast_id)
    admin = int(doc["admin_id"])
    if ctx.board is not None:
        await ctx.board.ensure_status(doc)
    await ctx.queue.submit(fired.broadcast_id)
    if fired.next_at is not None:
        zone = await admin_zone(ctx, admin)
        when = describe_when(fired.next_at, ctx.now(), zone)
        text = f"🔁 {doc.get('schedule_id')}: next run {when}."
        await ctx.say(admin, text)


async def scheduled_missed(ctx: BotContext, fired: Fired) -> None:
    """Tell the admin who scheduled it that its time passed while the bot was down."""
    doc = await ctx.core.store.get(fired.broadcast_id)
    admin, bid = int(doc["admin_id"]), fired.broadcast_id
    zone, now = await admin_zone(ctx, admin), ctx.now()
    due = as_utc(doc.get("occurrence_at") or doc.get("scheduled_for"))
    when = describe_when(due, now, zone) if due else "?"
    grace = duration_text(ctx.settings.misfire_grace_s)
    lines = [
        f"⌛ Scheduled broadcast {bid} was missed: it was due {when}, while the bot was down,",
        f"and more than {grace} (SCHEDULE_MISFIRE_GRACE) passed before it came back.",
        "Nothing was sent.",
    ]
    if doc.get("schedule_id"):
        if fired.next_at is not None:
            lines.append(f"🔁 The next run is {describe_when(fired.next_at, now, zone)}.")
    else:
        lines.append(f"Send it later with /broadcast_reschedule {bid} WHEN.")
    await ctx.say(admin, "\n".join(lines))
