"""Pause, Resume and Cancel on a broadcast's status message."""

from __future__ import annotations

from typing import Any

from hydrogram.types import CallbackQuery

from bot.admin.handlers.context import EXPIRED, BotContext
from bot.admin.status import control_buttons
from bot.delivery.errors import BroadcastNotFoundError
from bot.delivery.model import BroadcastStatus

ANSWERS = {
    "pause": ("⏸ Paused", "Only a running broadcast can be paused"),
    "resume": ("▶️ Resumed", "Only a paused broadcast can be resumed"),
    "cancel": ("🛑 Cancelled", "It has already finished"),
}


async def on_button(ctx: BotContext, query: CallbackQuery, action: str, broadcast_id: str) -> None:
    """Apply ``action`` if ``query`` was pressed on the broadcast's own status message."""
    try:
        doc = await ctx.core.store.get(broadcast_id)
    except BroadcastNotFoundError:
        await query.answer(EXPIRED)
        return
    chat_id, pressed_on = query.from_user.id, getattr(query.message, "id", None)
    places = [doc.get("progress_message") or {}, doc.get("reminder_message") or {}]
    if not any((w.get("chat_id"), w.get("message_id")) == (chat_id, pressed_on) for w in places):
        await query.answer(EXPIRED)
        return
    message_id = int(pressed_on or 0)
    service, admin = ctx.core.service, query.from_user.id
    operations = {"pause": service.pause, "resume": service.resume, "cancel": service.cancel}
    done, refused = ANSWERS[action]
    if not await operations[action](broadcast_id, by=admin):
        status = await ctx.core.store.status(broadcast_id)
        await query.answer(f"{refused} (it is {status.value}).")
        return
    await query.answer(done)
    if action == "cancel":
        await cancelled_before_start(ctx, doc)
        return
    if action == "resume":  # to the front of the queue: here at once, elsewhere within seconds
        await ctx.queue.submit(broadcast_id)
    markup = control_buttons(broadcast_id, paused=action == "pause")
    try:
        await ctx.client.edit_message_reply_markup(chat_id, message_id, markup)
    except Exception:  # cosmetic: the next progress edit sets the buttons too
        return


async def cancelled_before_start(ctx: BotContext, doc: dict[str, Any]) -> None:
    """A queued broadcast cancelled never runs, so no summary comes: say so on its status."""
    where = doc.get("progress_message")
    if doc["status"] != BroadcastStatus.QUEUED or not where:
        return
    text = f"🛑 Broadcast {doc['_id']} cancelled before it started."
    await ctx.edit(int(where["chat_id"]), int(where["message_id"]), text)
