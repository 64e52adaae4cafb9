"""Pause, Resume and Cancel on a broadcast's status message, and cancelling for good.

Cancelling stops a broadcast (or a whole repeating schedule) for good, so one tap
is not enough: Cancel asks "Cancel it? Yes / No" in place of the buttons (and
``/broadcast_cancel`` of a broadcast that is sending or repeats asks in a message
of its own); Yes cancels, No gives the buttons back.
"""

from __future__ import annotations

from typing import Any

from hydrogram.types import CallbackQuery, InlineKeyboardMarkup

from bot.admin.handlers.context import EXPIRED, BotContext
from bot.admin.status import (
    CANCEL,
    CANCEL_NO,
    CANCEL_YES,
    PAUSE,
    RESUME,
    cancel_question,
    control_buttons,
)
from bot.delivery.errors import BroadcastNotFoundError
from bot.delivery.model import ACTIVE, FINISHED, BroadcastStatus

ANSWERS = {
    PAUSE: ("⏸ Paused", "Only a running broadcast can be paused"),
    RESUME: ("▶️ Resumed", "Only a paused broadcast can be resumed"),
    CANCEL_YES: ("🛑 Cancelled", "It has already finished"),
}
ASK_CANCEL = "Cancel it? Yes / No"
KEPT = "↩️ Not cancelled"
#: Where the buttons of a broadcast may be pressed: its status, a pause reminder, a question.
PLACES = ("progress_message", "reminder_message", "cancel_question")


async def on_button(ctx: BotContext, query: CallbackQuery, action: str, broadcast_id: str) -> None:
    """Apply ``action`` if ``query`` was pressed on one of the broadcast's own messages."""
    try:
        doc = await ctx.core.store.get(broadcast_id)
    except BroadcastNotFoundError:
        await query.answer(EXPIRED)
        return
    place = _pressed_on(doc, query)
    if place is None or (place == "cancel_question" and action not in (CANCEL_YES, CANCEL_NO)):
        await query.answer(EXPIRED)
        return
    if action == CANCEL and doc.get("status") in FINISHED:  # a late tap on an old status
        await query.answer(f"{ANSWERS[CANCEL_YES][1]} (it is {doc['status']}).")
        await _set_buttons(ctx, query, None)
    elif action == CANCEL:
        await _ask(ctx, query, broadcast_id)
    elif action == CANCEL_NO:
        await _keep(ctx, query, doc, place)
    elif action == CANCEL_YES and place == "cancel_question":
        await query.answer(ANSWERS[CANCEL_YES][0])
        text = await cancel_now(ctx, doc, query.from_user.id)
        await ctx.edit(query.from_user.id, query.message.id, text)
    else:
        await _apply(ctx, query, action, doc)


def _pressed_on(doc: dict[str, Any], query: CallbackQuery) -> str | None:
    pressed = (query.from_user.id, getattr(query.message, "id", None))
    for place in PLACES:
        where = doc.get(place) or {}
        if (where.get("chat_id"), where.get("message_id")) == pressed:
            return place
    return None


async def _ask(ctx: BotContext, query: CallbackQuery, broadcast_id: str) -> None:
    _asking(ctx, broadcast_id, True)
    await query.answer(ASK_CANCEL)
    await _set_buttons(ctx, query, cancel_question(broadcast_id))


async def _keep(ctx: BotContext, query: CallbackQuery, doc: dict[str, Any], place: str) -> None:
    """No: the status message gets the buttons of its broadcast's state back."""
    bid = str(doc["_id"])
    _asking(ctx, bid, False)
    await query.answer(KEPT)
    if place == "cancel_question":
        await ctx.edit(query.from_user.id, query.message.id, f"{KEPT}: {bid} goes on.")
        return
    status = await ctx.core.store.status(bid)
    if status in (BroadcastStatus.QUEUED, BroadcastStatus.RUNNING, BroadcastStatus.PAUSED):
        queued = status is BroadcastStatus.QUEUED
        paused = status is BroadcastStatus.PAUSED
        await _set_buttons(ctx, query, control_buttons(bid, paused=paused, queued=queued))


async def _apply(ctx: BotContext, query: CallbackQuery, action: str, doc: dict[str, Any]) -> None:
    """Pause, Resume, or Yes to Cancel on the status message."""
    bid, admin = str(doc["_id"]), query.from_user.id
    service = ctx.core.service
    operations = {PAUSE: service.pause, RESUME: service.resume, CANCEL_YES: service.cancel}
    done, refused = ANSWERS[action]
    if action == CANCEL_YES:
        _asking(ctx, bid, False)
    if not await operations[action](bid, by=admin):
        status = await ctx.core.store.status(bid)
        await query.answer(f"{refused} (it is {status.value}).")
        return
    await query.answer(done)
    if action == CANCEL_YES:
        await cancelled_before_start(ctx, doc)
        await _set_buttons(ctx, query, None)  # a running one's summary replaces it soon
        return
    if action == RESUME:  # to the front of the queue: here at once, elsewhere within seconds
        await ctx.queue.submit(bid)
    await _set_buttons(ctx, query, control_buttons(bid, paused=action == PAUSE))


async def cancel_now(ctx: BotContext, before: dict[str, Any], by: int) -> str:
    """Cancel a broadcast (or a repeating schedule) now; what to tell the admin."""
    bid = str(before["_id"])
    if not await ctx.core.service.cancel(bid, by=by):
        status = await ctx.core.store.status(bid)
        return f"{bid} is already {status.value}: nothing to cancel."
    text = f"🛑 Cancelled {bid}."
    if before["status"] in ACTIVE:
        text += " Sending stops within a second; the status message shows the summary."
    elif repeats(before):
        text += " None of its runs will be sent any more."
    await cancelled_before_start(ctx, before)
    if before["status"] == BroadcastStatus.SCHEDULED:
        await ctx.schedules_changed()  # its job goes too
    return text


def repeats(doc: dict[str, Any]) -> bool:
    """Whether ``doc`` is a repeating schedule that has not ended."""
    schedule = doc.get("schedule") or {}
    return doc["status"] == BroadcastStatus.SCHEDULED and bool(schedule.get("recurrence"))


async def cancelled_before_start(ctx: BotContext, doc: dict[str, Any]) -> None:
    """A queued (or paused) broadcast cancelled does not run again, so no summary comes:
    say so on its status message. ``doc`` is as it was before the cancel."""
    where, bid = doc.get("progress_message"), doc["_id"]
    if doc["status"] == BroadcastStatus.QUEUED:
        text = f"🛑 Broadcast {bid} cancelled before it started."
    elif doc["status"] == BroadcastStatus.PAUSED:
        # No run will end it: write its summary now and show it on the status message.
        summary = await ctx.core.service.run(str(bid))
        if ctx.board is not None and where:
            await ctx.board.finished(summary)
            return
        sent = int(doc.get("sent_count") or 0)
        text = f"🛑 Broadcast {bid} cancelled while paused: {sent:,} sent, the rest not sent."
    else:
        return
    if where:
        await ctx.edit(int(where["chat_id"]), int(where["message_id"]), text)


def _asking(ctx: BotContext, broadcast_id: str, asking: bool) -> None:
    """Tell the live status message (if this instance draws it) to keep Yes / No or not."""
    status = ctx.board.statuses.get(broadcast_id) if ctx.board is not None else None
    if status is not None:
        status.asking_cancel = asking


async def _set_buttons(
    ctx: BotContext, query: CallbackQuery, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the pressed message's buttons (None: remove them)."""
    options: dict[str, Any] = {} if markup is None else {"reply_markup": markup}
    try:
        await ctx.client.edit_message_reply_markup(query.from_user.id, query.message.id, **options)
    except Exception:  # cosmetic: the next progress edit sets the buttons too
        return
