"""Yes / Cancel on the confirmation of a delete or an edit (:mod:`.operations`).

Yes queues the draft by one compare-and-set, its status message recorded first (a
double tap finds it no longer a draft); Cancel discards it. Valid as long as a
broadcast's confirmation.
"""

from __future__ import annotations

import logging
from typing import Any

from hydrogram.types import CallbackQuery

from bot.admin.handlers.confirm import ALREADY, ALREADY_STARTED
from bot.admin.handlers.context import EXPIRED, BotContext, aware
from bot.admin.handlers.operations import ICONS, YES
from bot.admin.status import control_buttons
from bot.delivery.errors import BroadcastNotFoundError
from bot.delivery.events import event
from bot.delivery.model import BroadcastStatus
from bot.telegram.formatting import plain_entities

log = logging.getLogger(__name__)


async def on_button(ctx: BotContext, query: CallbackQuery, action: str, op_id: str) -> None:
    """Yes / Cancel on an operation's confirmation."""
    try:
        doc = await ctx.core.store.get(op_id)
    except BroadcastNotFoundError:
        await query.answer(EXPIRED)
        return
    where = doc.get("confirmation_message") or {}
    pressed = (query.from_user.id, getattr(query.message, "id", None))
    if (where.get("chat_id"), where.get("message_id")) != pressed:
        await query.answer(EXPIRED)
        return
    if doc["status"] != BroadcastStatus.DRAFT:
        await query.answer(ALREADY.get(doc["status"], ALREADY_STARTED))
        return
    created = aware(doc.get("created_at"))
    if created is None or ctx.now() - created > ctx.timing.confirm_ttl:
        await query.answer(EXPIRED)
        return
    if action == YES:
        await _confirmed(ctx, query, doc)
    else:
        await _dropped(ctx, query, doc)


async def _confirmed(ctx: BotContext, query: CallbackQuery, doc: dict[str, Any]) -> None:
    op_id, admin, now = str(doc["_id"]), query.from_user.id, ctx.now()
    kind, of = str(doc["kind"]), doc["of"]
    status = await ctx.say(
        admin,
        f"{ICONS.get(kind, '📢')} {kind.capitalize()} {op_id} of {of}\n🕒 Queued…",
        markup=control_buttons(op_id, paused=False, queued=True),
    )
    moved = await ctx.core.store.transition(
        op_id,
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
    log.info(
        "%s: confirmed by %s", op_id, admin, extra=event("broadcast.confirmed", op_id, by=admin)
    )
    await query.answer("🚀 Confirmed")
    await _append(ctx, query, "✅ Confirmed")
    await ctx.queue.submit(op_id)


async def _dropped(ctx: BotContext, query: CallbackQuery, doc: dict[str, Any]) -> None:
    op_id = str(doc["_id"])
    moved = await ctx.core.store.transition(
        op_id,
        [BroadcastStatus.DRAFT],
        BroadcastStatus.CANCELLED,
        at=ctx.now(),
        by=query.from_user.id,
        fields={"discarded": True},
    )
    if moved is None:
        await query.answer(ALREADY_STARTED)
        return
    await query.answer("Cancelled")
    await _append(ctx, query, "🗑 Cancelled: nothing was changed.")


async def _append(ctx: BotContext, query: CallbackQuery, outcome: str) -> None:
    """The confirmation with ``outcome`` below it and no buttons; its formatting kept."""
    shown = query.message
    text = f"{shown.text}\n\n{outcome}"
    await ctx.edit(query.from_user.id, shown.id, text, entities=plain_entities(shown.entities))
