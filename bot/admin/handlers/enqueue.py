"""The Yes of a confirmation: a draft becomes queued, its status message recorded first.

Shared by broadcasts (:mod:`.confirm`) and by deletes and edits
(:mod:`.operation_buttons`): one compare-and-set moves the draft, so a double tap,
or a tap on another instance, finds it no longer a draft and changes nothing.
"""

from __future__ import annotations

import logging

from hydrogram.types import CallbackQuery

from bot.admin.handlers.context import BotContext
from bot.admin.status import control_buttons
from bot.delivery.events import event
from bot.delivery.model import BroadcastStatus
from bot.telegram.formatting import plain_entities

log = logging.getLogger(__name__)
ALREADY_STARTED = "This broadcast has already started."


async def queue_confirmed(
    ctx: BotContext, query: CallbackQuery, broadcast_id: str, heading: str
) -> None:
    """Draft -> queued, with its status message (``heading``, then "Queued…") recorded
    first, so that whichever instance starts it shows progress from the first recipient."""
    admin, now = query.from_user.id, ctx.now()
    status = await ctx.say(
        admin,
        f"{heading}\n🕒 Queued…",
        markup=control_buttons(broadcast_id, paused=False, queued=True),
    )
    moved = await ctx.core.store.transition(
        broadcast_id,
        [BroadcastStatus.DRAFT],
        BroadcastStatus.QUEUED,
        at=now,
        by=admin,
        fields={
            "confirmed_at": now,
            "confirmed_by": admin,
            "progress_message": {"chat_id": admin, "message_id": status.id},
        },
        action="confirmed",
    )
    if moved is None:  # the other tap won: it has its own status message
        await ctx.delete(admin, status.id)
        await query.answer(ALREADY_STARTED)
        return
    confirmed = event("broadcast.confirmed", broadcast_id, by=admin)
    log.info("%s: confirmed by %s", broadcast_id, admin, extra=confirmed)
    await query.answer("🚀 Confirmed")
    await append_outcome(ctx, query, "✅ Confirmed")
    await ctx.queue.submit(broadcast_id)  # here if this instance sends; else within seconds


async def append_outcome(ctx: BotContext, query: CallbackQuery, outcome: str) -> None:
    """The confirmation with ``outcome`` below it and no buttons; its formatting kept."""
    shown = query.message
    text = f"{shown.text}\n\n{outcome}"
    await ctx.edit(query.from_user.id, shown.id, text, entities=plain_entities(shown.entities))
