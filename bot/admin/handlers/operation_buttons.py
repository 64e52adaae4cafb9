"""Yes / Cancel on the confirmation of a delete or an edit (:mod:`.operations`).

Yes queues the draft by one compare-and-set, its status message recorded first (a
double tap finds it no longer a draft); Cancel discards it. Valid as long as a
broadcast's confirmation.
"""

from __future__ import annotations

from typing import Any

from hydrogram.types import CallbackQuery

from bot.admin.handlers.confirm import ALREADY
from bot.admin.handlers.context import EXPIRED, BotContext, aware
from bot.admin.handlers.enqueue import ALREADY_STARTED, append_outcome, queue_confirmed
from bot.admin.handlers.operations import ICONS, YES
from bot.delivery.errors import BroadcastNotFoundError
from bot.delivery.model import BroadcastStatus


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
        kind = str(doc["kind"])
        heading = f"{ICONS.get(kind, '📢')} {kind.capitalize()} {op_id} of {doc['of']}"
        await queue_confirmed(ctx, query, op_id, heading)
    else:
        await _dropped(ctx, query, doc)


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
    await append_outcome(ctx, query, "🗑 Cancelled: nothing was changed.")
