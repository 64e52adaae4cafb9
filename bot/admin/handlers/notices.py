"""What the scheduler tells admins: a scheduled broadcast starts, or was missed."""

from __future__ import annotations

import logging

from bot.admin.handlers.context import BotContext
from bot.admin.handlers.schedule import admin_zone
from bot.admin.queue import NotQueuedError
from bot.admin.status import control_buttons
from bot.delivery.report import duration_text
from bot.storage.mongo import as_utc
from scheduler.book import Fired
from scheduler.when import describe_when

log = logging.getLogger(__name__)


async def scheduled_started(ctx: BotContext, fired: Fired) -> None:
    """Give the admin who scheduled it a live status message, then queue the run."""
    doc = await ctx.core.store.get(fired.broadcast_id)
    admin, bid = int(doc["admin_id"]), fired.broadcast_id
    origin = f" (a run of {doc['schedule_id']})" if doc.get("schedule_id") else ""
    status = await ctx.say(
        admin,
        f"📢 Scheduled broadcast {bid}{origin}\n⏳ Starting…",
        markup=control_buttons(bid, paused=False),
    )
    await ctx.core.store.set_progress_message(bid, admin, status.id)
    try:
        ahead = await ctx.queue.submit(bid)
    except NotQueuedError:  # another instance's queue took it first: it shows progress there
        log.info("scheduled broadcast %s was started by another instance", bid)
        ahead = 0
    if ahead:
        text = f"🕒 {ahead} broadcast(s) run before it; it starts when they finish."
        await ctx.say(admin, text, reply_to=status.id)
    if fired.next_at is not None:
        zone = await admin_zone(ctx, admin)
        text = f"🔁 Next run: {describe_when(fired.next_at, ctx.now(), zone)}."
        await ctx.say(admin, text, reply_to=status.id)


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
