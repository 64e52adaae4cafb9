"""``/broadcast_retry``: a finished broadcast sent again to those who did not get it.

The bot counts who would get it (:class:`bot.delivery.reruns.RetryPlan`) and asks "Yes /
Cancel" in a message recorded on the broadcast; Yes reopens their rows and queues the
broadcast again (:meth:`bot.delivery.reruns.Reruns.start`), with a new status message
for the run. The question is answered once: a double tap queues one run.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from hydrogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.admin.commands import RetryRequest
from bot.admin.handlers.context import EXPIRED, BotContext, aware
from bot.admin.status import callback_data, control_buttons
from bot.delivery.errors import BroadcastNotFoundError
from bot.delivery.events import event
from bot.delivery.reruns import Reruns, RetryPlan, retry_problem

log = logging.getLogger(__name__)

YES, NO = "retry_yes", "retry_no"
ACTIONS = frozenset({YES, NO})
ANSWERED = "This question was answered already."


def reruns(ctx: BotContext) -> Reruns:
    """The retry planner over the bot's storage."""
    core = ctx.core
    return Reruns(core.store, core.ledger, core.users, core.service.now)


async def on_retry(ctx: BotContext, message: Message, request: RetryRequest) -> None:
    """Count who a retry would reach and ask before anything is changed."""
    chat_id, bid = message.chat.id, request.broadcast_id
    doc = await ctx.named_broadcast(message, bid)
    if doc is None:
        return
    problem = retry_problem(doc)
    if problem is not None:
        await ctx.say(chat_id, f"🔁 {problem}", reply_to=message.id)
        return
    plan = await reruns(ctx).plan(bid)
    if plan.total == 0:
        await ctx.say(chat_id, nobody_text(bid, plan), reply_to=message.id)
        return
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("🔁 Yes, retry", callback_data=callback_data(YES, bid)),
                InlineKeyboardButton("✖️ Cancel", callback_data=callback_data(NO, bid)),
            ]
        ]
    )
    text = question_text(bid, plan) + await _edited_note(ctx, doc)
    asked = await ctx.say(chat_id, text, markup=markup, reply_to=message.id)
    where = {"chat_id": asked.chat.id, "message_id": asked.id, "at": ctx.now()}
    await ctx.core.store.update(bid, {"retry_question": where})


async def _edited_note(ctx: BotContext, doc: dict[str, Any]) -> str:
    """A retry sends the broadcast as it was first sent: say so when it was edited since."""
    edits = []
    for entry in doc.get("operations") or []:
        if entry.get("kind") != "edit":
            continue
        with contextlib.suppress(BroadcastNotFoundError):
            op = await ctx.core.store.get(str(entry["id"]))
            if op["status"] not in ("draft", "cancelled") or op.get("sent_count"):
                edits.append(str(op["_id"]))
    if not edits:
        return ""
    return (
        f"\n⚠️ It goes out as first sent: the edit {', '.join(edits)} changed only the copies"
        " sent before it."
    )


def question_text(bid: str, plan: RetryPlan) -> str:
    """ "Retry it?" with who would get it, by why."""
    reasons = (
        (plan.failed, "failed for a passing or unknown reason"),
        (plan.in_doubt, "left in doubt by an interrupted run"),
        (plan.never_reached, "never reached (it was cancelled or stopped)"),
        (plan.came_back, "back after blocking the bot or deleting their account"),
    )
    lines = [f"🔁 Retry {bid}?", "", f"👥 Recipients: {plan.total:,}"]
    lines += [f"• {why}: {count:,}" for count, why in reasons if count]
    lines += [f"✅ Never sent again: the {plan.delivered:,} who got it."]
    if plan.still_unreachable:
        lines.append(f"⛔ Left out, still blocked or gone: {plan.still_unreachable:,}")
    return "\n".join(lines)


def nobody_text(bid: str, plan: RetryPlan) -> str:
    """Why a retry would reach nobody."""
    text = f"🔁 Nobody to retry: {plan.delivered:,} got {bid}"
    if plan.still_unreachable:
        text += f"; {plan.still_unreachable:,} still blocked the bot or are gone"
    return text + "."


async def on_button(ctx: BotContext, query: CallbackQuery, action: str, bid: str) -> None:
    """Yes / Cancel on the retry question."""
    try:
        doc = await ctx.core.store.get(bid)
    except BroadcastNotFoundError:
        await query.answer(EXPIRED)
        return
    where = doc.get("retry_question") or {}
    pressed = (query.from_user.id, getattr(query.message, "id", None))
    if (where.get("chat_id"), where.get("message_id")) != pressed:
        await query.answer(ANSWERED if where == {} else EXPIRED)
        return
    asked = aware(where.get("at"))
    if asked is None or ctx.now() - asked > ctx.timing.confirm_ttl:
        await query.answer(EXPIRED)
        return
    if action == YES:
        await _start(ctx, query, doc)
        return
    await ctx.core.store.update(bid, {"retry_question": None})
    await query.answer("Not retried")
    await ctx.edit(query.from_user.id, query.message.id, f"{query.message.text}\n\n✖️ Not retried.")


async def _start(ctx: BotContext, query: CallbackQuery, doc: dict[str, Any]) -> None:
    bid, admin = str(doc["_id"]), query.from_user.id
    run = len(doc.get("runs") or [None]) + 1
    status = await ctx.say(
        admin,
        f"🔁 Broadcast {bid}, run {run} (a retry)\n🕒 Queued…",
        markup=control_buttons(bid, paused=False, queued=True),
    )
    where = {"chat_id": admin, "message_id": status.id}
    queued = await reruns(ctx).start(
        doc, admin, query.message.id, {"progress_message": where, "confirmed_by": admin}
    )
    if queued is None:  # another tap, or the broadcast moved on
        await ctx.delete(admin, status.id)
        await query.answer(ANSWERED)
        return
    recipients = int((queued.get("runs") or [{}])[-1].get("recipients") or 0)
    log.info(
        "%s: retry confirmed by %s", bid, admin, extra=event("broadcast.retried", bid, by=admin)
    )
    await query.answer("🔁 Retrying")
    text = f"{query.message.text}\n\n✅ Run {run} queued: {recipients:,} recipient(s)."
    await ctx.edit(admin, query.message.id, text)
    await ctx.queue.submit(bid)
