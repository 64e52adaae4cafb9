"""The confirmation of a broadcast: a draft, its summary, and Send now / Preview / Cancel.

A draft becomes queued by one compare-and-set, so a double tap on Send now
finds it no longer a draft and cannot start a second run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hydrogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.admin.commands import BroadcastRequest
from bot.admin.handlers import schedule
from bot.admin.handlers.context import EXPIRED, BotContext, aware
from bot.admin.handlers.enqueue import ALREADY_STARTED, append_outcome, queue_confirmed
from bot.admin.handlers.testers import test_line
from bot.admin.status import callback_data
from bot.delivery.content import (
    Content,
    CopyContent,
    TextEntity,
    content_from_document,
    shifted,
    utf16_len,
)
from bot.delivery.errors import BroadcastError, BroadcastNotFoundError, StorageUnavailableError
from bot.delivery.events import event
from bot.delivery.model import BroadcastStatus
from bot.delivery.report import duration_text
from bot.delivery.service import Audience
from scheduler.book import Schedule
from scheduler.when import describe_when

log = logging.getLogger(__name__)

ALREADY_CANCELLED = "This broadcast was cancelled."
ALREADY = {
    BroadcastStatus.CANCELLED: ALREADY_CANCELLED,
    BroadcastStatus.SCHEDULED: "This broadcast is already scheduled.",
    BroadcastStatus.MISSED: "This broadcast was missed.",
}
TIME_PASSED = "⏰ Its time has passed: send the command again with a new time."
MESSAGE_LABEL = "📝 Message: "


@dataclass(frozen=True, slots=True)
class Shown:
    """A broadcast's message as the confirmation shows it: ``text`` formatted by
    ``entities`` (UTF-16 offsets from its start); ``words``, its first words for the
    history."""

    text: str
    entities: tuple[TextEntity, ...] = ()
    words: str | None = None


def confirm_buttons(broadcast_id: str, *, scheduled: bool = False) -> InlineKeyboardMarkup:
    """Send now (or Schedule) / Preview to me / Cancel."""
    first = _button("🗓 Schedule", "schedule", broadcast_id) if scheduled else None
    return InlineKeyboardMarkup(
        [
            [first or _button("🚀 Send now", "send", broadcast_id)],
            [
                _button("👀 Preview to me", "preview", broadcast_id),
                _button("✖️ Cancel", "discard", broadcast_id),
            ],
        ]
    )


def _button(text: str, action: str, broadcast_id: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=callback_data(action, broadcast_id))


def audience_of(ctx: BotContext, request: BroadcastRequest) -> Audience:
    """The segments ``request`` names (checked before), with their description."""
    catalog = ctx.core.segments
    description = catalog.describe(request.segments, request.excludes)
    return Audience.of_segments(request.segments, request.excludes, description)


async def offer(
    ctx: BotContext,
    message: Message,
    request: BroadcastRequest,
    content: Content,
    what: Shown,
    plan: Schedule | None = None,
    audience: Audience | None = None,
) -> None:
    """Store ``content`` as a draft and ask the admin to confirm (or schedule) it.

    Nobody to send to now: an immediate broadcast is refused (nothing stored); a
    scheduled one is offered with a warning, since its audience is counted again
    when it runs. ``audience``: the segments of ``request`` unless given (the testers).
    """
    admin = message.from_user
    audience = audience or audience_of(ctx, request)
    count = await ctx.recipient_count(audience)
    if count == 0 and plan is None:
        text = f"🎯 Nobody matches {audience.description} right now: nothing was stored or sent."
        await ctx.say(message.chat.id, text, reply_to=message.id)
        return
    extra: dict[str, Any] = {"message_text": what.words} if what.words else {}
    extra |= {"test": True} if request.test else {}
    if plan is not None:
        extra |= {"schedule": plan.to_document(), "scheduled_for": plan.first}
    broadcast_id = await ctx.core.service.create(
        content,
        audience,
        admin_id=admin.id,
        admin_name=admin.username or admin.first_name,
        status=BroadcastStatus.DRAFT,
        extra=extra,
    )
    test_mode = ctx.core.service.test_mode.enabled
    target = "test users (BROADCAST_TEST_MODE)" if test_mode else audience.description
    rate = ctx.settings.rate_limit
    minutes = int(ctx.timing.confirm_ttl.total_seconds() // 60)
    now_or_later = [] if plan is None else schedule.when_lines(plan, ctx.now())
    above = [
        "📢 Ready to broadcast" if plan is None else "🗓 Ready to schedule",
        "",
        f"👥 Recipients: {count:,}" + ("" if plan is None else " now (counted again when it runs)"),
        *(["⚠️ Nobody matches now."] if count == 0 else []),
        *([test_line(count)] if request.test else []),
        f"🎯 Target: {target}",
        f"⏱️ Estimated time: {duration_text(count / rate)} at {rate:g} msg/s",
        *_paid_lines(ctx, content, count),
        *await _paused_lines(ctx, admin.id),
        *now_or_later,
        MESSAGE_LABEL,
    ]
    below = [
        *_options(content),
        "",
        f"🆔 {broadcast_id}",
        f"This confirmation expires in {minutes} minutes.",
    ]
    head = "\n".join(above)  # the message's formatting moves with it, to after the label
    text = "\n".join([head + what.text, *below])
    entities = shifted(what.entities, utf16_len(head))
    markup = confirm_buttons(broadcast_id, scheduled=plan is not None)
    sent = await ctx.say(
        message.chat.id, text, markup=markup, reply_to=message.id, entities=entities
    )
    where = {"chat_id": sent.chat.id, "message_id": sent.id}
    await ctx.core.store.update(broadcast_id, {"confirmation_message": where})


#: Bot API 7.11: paid broadcasts cost 0.1 Telegram Stars per message.
STARS_PER_MESSAGE = 0.1
FREE_RATE = 30.0


def _paid_lines(ctx: BotContext, content: Content, count: int) -> list[str]:
    """With ``PAID_BROADCAST``: what it costs, and how much sooner it is done."""
    if not ctx.settings.paid_broadcast or count == 0:
        return []
    per_recipient = len(content.message_ids) if isinstance(content, CopyContent) else 1
    stars = count * per_recipient * STARS_PER_MESSAGE
    free = duration_text(count / min(ctx.settings.rate_limit, FREE_RATE))
    return [
        f"⭐ Paid broadcast: up to {stars:,.1f} Telegram Stars from the bot's balance "
        f"({STARS_PER_MESSAGE:g} per message); about {free} at Telegram's free rate."
    ]


async def _paused_lines(ctx: BotContext, admin_id: int) -> list[str]:
    """Paused broadcasts hold nothing back: say so, so nobody waits for them."""
    paused = await ctx.core.store.with_status([BroadcastStatus.PAUSED])
    if not paused:
        return []
    zone = await schedule.admin_zone(ctx, admin_id)
    lines = []
    for doc in paused[:3]:
        since = aware(doc.get("paused_at"))
        when = f" since {since.astimezone(zone):%a %H:%M}" if since else ""
        lines.append(f"⏸ {doc['_id']} is paused{when}; this one will not wait for it.")
    if len(paused) > 3:
        lines.append(f"⏸ ...and {len(paused) - 3} more paused.")
    return lines


def _options(content: Content) -> list[str]:
    options = content.options
    shown = [
        name for name, on in (("silent", options.silent), ("protected", options.protect)) if on
    ]
    if options.buttons:
        shown.append(f"{sum(len(row) for row in options.buttons)} button(s)")
    if options.reactions:
        shown.append(f"reactions {' '.join(options.reactions)}")
    return [f"⚙️ Options: {', '.join(shown)}"] if shown else []


async def on_button(ctx: BotContext, query: CallbackQuery, action: str, broadcast_id: str) -> None:
    """Send now / Preview to me / Cancel on a confirmation."""
    doc = await _confirmation(ctx, query, broadcast_id)
    if doc is None:
        await query.answer(EXPIRED)
        return
    status = doc["status"]
    if status != BroadcastStatus.DRAFT and action != "preview":
        await query.answer(ALREADY.get(status, ALREADY_STARTED))
        return
    created = aware(doc.get("created_at"))
    if created is None or ctx.now() - created > ctx.timing.confirm_ttl:
        await query.answer(EXPIRED)
        return
    if action == "send":
        await queue_confirmed(ctx, query, broadcast_id, f"📢 Broadcast {broadcast_id}")
    elif action == "schedule":
        await _schedule(ctx, query, doc)
    elif action == "preview":
        await _preview(ctx, query, doc)
    else:
        await _discard(ctx, query, broadcast_id)


async def _confirmation(
    ctx: BotContext, query: CallbackQuery, broadcast_id: str
) -> dict[str, Any] | None:
    """The draft's document, if ``query`` was pressed on its own confirmation message."""
    try:
        doc = await ctx.core.store.get(broadcast_id)
    except BroadcastNotFoundError:
        return None
    where = doc.get("confirmation_message") or {}
    pressed = (query.from_user.id, getattr(query.message, "id", None))
    return doc if (where.get("chat_id"), where.get("message_id")) == pressed else None


async def _schedule(ctx: BotContext, query: CallbackQuery, doc: dict[str, Any]) -> None:
    broadcast_id, admin, now = str(doc["_id"]), query.from_user.id, ctx.now()
    scheduled = await ctx.core.schedules.confirm(broadcast_id, admin, now)
    if scheduled is None:
        current = await ctx.core.store.status(broadcast_id)
        await query.answer(TIME_PASSED if current == BroadcastStatus.DRAFT else ALREADY_STARTED)
        return
    await ctx.schedules_changed()
    await query.answer("🗓 Scheduled")
    zone = await schedule.admin_zone(ctx, admin)
    due = aware(scheduled["scheduled_for"]) or now
    confirmed = event("broadcast.scheduled", broadcast_id, by=admin, at=due)
    log.info("%s: scheduled by %s", broadcast_id, admin, extra=confirmed)
    text = (
        f"✅ Scheduled: {describe_when(due, now, zone)}."
        f"\n/broadcast_cancel {broadcast_id} cancels it."
    )
    await append_outcome(ctx, query, text)


async def _preview(ctx: BotContext, query: CallbackQuery, doc: dict[str, Any]) -> None:
    try:
        prepared = await ctx.core.pipeline.ports.sender.prepare(
            content_from_document(doc["content"]), str(doc["_id"])
        )
        await prepared.send(query.from_user.id)
    except StorageUnavailableError:
        raise  # the admin is told the database is down, not the driver's words
    except BroadcastError as error:
        await query.answer(f"The preview failed: {error}"[:200], show_alert=True)
        return
    await query.answer("👀 Preview sent")


async def _discard(ctx: BotContext, query: CallbackQuery, broadcast_id: str) -> None:
    moved = await ctx.core.store.transition(
        broadcast_id,
        [BroadcastStatus.DRAFT],
        BroadcastStatus.CANCELLED,
        at=ctx.now(),
        by=query.from_user.id,
        fields={"discarded": True},  # never confirmed: the history leaves it out
    )
    if moved is None:
        await query.answer(ALREADY_STARTED)
        return
    by = query.from_user.id
    log.info(
        "%s: discarded by %s",
        broadcast_id,
        by,
        extra=event("broadcast.discarded", broadcast_id, by=by),
    )
    await query.answer("Cancelled")
    await append_outcome(ctx, query, "🗑 Cancelled: nothing was sent.")
