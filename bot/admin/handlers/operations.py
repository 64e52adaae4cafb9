"""``/broadcast_delete`` and ``/broadcast_edit``: act on the copies a broadcast sent.

Each is an operation (:mod:`bot.delivery.operations`): a draft document of its own,
offered with the count and "Yes / Cancel" (valid as long as a broadcast's
confirmation), then queued and run by the same queue, pipeline and status message
as a broadcast. What Telegram would refuse is refused here, before anything is
stored: a delete when every copy is past Telegram's 48 hours, an edit that would
turn a caption into a text or go past its length, an edit of a forward.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from hydrogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.admin.commands import DeleteRequest, EditRequest
from bot.admin.handlers import personal
from bot.admin.handlers.context import BotContext
from bot.admin.status import callback_data
from bot.delivery.content import (
    Content,
    Delivery,
    ParseMode,
    TextContent,
    clipped,
    content_from_document,
    shifted,
    utf16_len,
)
from bot.delivery.errors import BroadcastExistsError, BroadcastNotFoundError, ContentError
from bot.delivery.events import event
from bot.delivery.model import ACTIVE, BroadcastStatus, new_broadcast_id
from bot.delivery.operations import (
    DELETE_WINDOW,
    IDLESS_WHY,
    CopyCounts,
    DeleteContent,
    EditContent,
    new_operation,
)
from bot.delivery.report import duration_text
from bot.delivery.reruns import RETRYABLE
from bot.telegram.formatting import plain_entities, rendered

log = logging.getLogger(__name__)

YES, NO = "op_yes", "op_no"
ACTIONS = frozenset({YES, NO})
ICONS = {"delete": "🗑", "edit": "✏️"}
PAST = {"delete": "deleted", "edit": "edited"}
SHOWN = 100
NO_TEXT = "✏️ Give the new text after the id, or send the command as a reply to a text message."
MEDIA_REPLY = (
    "✏️ Reply to a text message: an edit changes the text or caption of the copies, never "
    "their media."
)


async def on_delete(ctx: BotContext, message: Message, request: DeleteRequest) -> None:
    """Offer to delete every copy of a sent broadcast; refuse what Telegram would."""
    chat_id, bid = message.chat.id, request.broadcast_id
    doc = await _original(ctx, message, bid, "delete")
    if doc is None:
        return
    deletes = deletes_of(doc)
    counts = await ctx.core.ledger.sent_ages(bid, ctx.now() - DELETE_WINDOW, deletes)
    problem = _nothing_to_reach(bid, counts, "delete", deletes)
    if problem is None and counts.young == 0:
        problem = (
            f"⌛ {bid} cannot be deleted: Telegram lets a bot delete only messages it sent in "
            f"the last 48 hours, and all {counts.reachable:,} of its copies are older. "
            "Nothing was changed."
        )
    if problem is not None:
        await ctx.say(chat_id, problem, reply_to=message.id)
        return
    lines = [f"👥 Chats to delete it from: {counts.reachable:,} (an album goes whole)"]
    if counts.reachable > counts.young:
        too_old = counts.reachable - counts.young
        lines.append(f"⌛ Past Telegram's 48 hours, recorded as too old: {too_old:,}")
    lines += _unreachable_lines(counts)
    await _offer(ctx, message, doc, DeleteContent(bid), counts, lines, f"🗑 Delete of {bid}")


def _nothing_to_reach(bid: str, counts: CopyCounts, verb: str, deletes: list[str]) -> str | None:
    """Why no copy of ``bid`` can be acted on (none left, or none with ids); None if some can."""
    icon = ICONS[verb]
    if counts.left == 0:
        why = f"every copy was deleted already, by {', '.join(deletes)}" if deletes else ""
        return f"{icon} Nothing left to {verb}: {why or 'it reached nobody'} ({bid})."
    if counts.reachable == 0:
        return (
            f"{icon} {bid} cannot be {PAST[verb]}: none of its {counts.idless:,} copies can be "
            f"reached, as {IDLESS_WHY}. Nothing was changed."
        )
    return None


def _unreachable_lines(counts: CopyCounts) -> list[str]:
    """The confirmation's word on the copies no delete or edit can reach."""
    if not counts.idless:
        return []
    return [f"🚫 Cannot be reached, recorded as such: {counts.idless:,} ({IDLESS_WHY})"]


async def on_edit(ctx: BotContext, message: Message, request: EditRequest) -> None:
    """Offer to edit every copy of a sent broadcast; refuse an edit Telegram would refuse."""
    chat_id, bid = message.chat.id, request.broadcast_id
    doc = await _original(ctx, message, bid, "edit")
    if doc is None:
        return
    original = content_from_document(doc["content"])
    try:
        text = _new_text(request, message, original)
    except ContentError as error:
        await ctx.say(chat_id, str(error), reply_to=message.id)
        return
    edit = EditContent(bid, original, text)
    try:
        prepared = await ctx.core.pipeline.ports.sender.prepare(edit, None)
        shown, entities = await rendered(ctx.client, text)
    except ContentError as error:
        await ctx.say(chat_id, f"❌ This edit cannot be made: {error}", reply_to=message.id)
        return
    problem = await personal.length_problem(ctx, prepared, personal.recipients_query(ctx, doc))
    if problem is not None:
        await ctx.say(chat_id, problem, reply_to=message.id)
        return
    deletes = deletes_of(doc)
    counts = await ctx.core.ledger.sent_ages(bid, ctx.now(), deletes)
    problem = _nothing_to_reach(bid, counts, "edit", deletes)
    if problem is not None:
        await ctx.say(chat_id, problem, reply_to=message.id)
        return
    shown, entities = clipped(shown, entities, SHOWN)
    lines = [f"👥 Copies to edit: {counts.reachable:,}", *_unreachable_lines(counts)]
    lines.append(_buttons_line(text, original))
    words = f"✏️ Edit of {bid}: {clipped(shown, (), 60)[0]}"
    await _offer(ctx, message, doc, edit, counts, lines, words, (shown, entities))


def _buttons_line(text: TextContent, original: Content) -> str:
    """What the confirmation says of the keyboard the copies keep or get."""
    given = sum(len(row) for row in text.options.buttons)
    line = f"🔘 Buttons: {given} new, in place of the old" if given else "🔘 Buttons: as sent"
    reactions = original.options.reactions
    return line + (f"; the reaction row stays ({' '.join(reactions)})" if reactions else "")


def _new_text(request: EditRequest, message: Message, original: Content) -> TextContent:
    """The new text, with the URL buttons given for the copies (none given: the copies
    keep the keyboard the original send built; its reaction row stays either way).

    Raises:
        ContentError: No text given, a reply to something else than a text, or more
            buttons than fit beside the reaction row.
    """
    buttons = request.message.buttons
    try:
        Delivery(buttons=buttons, reactions=original.options.reactions)
    except ContentError as error:
        raise ContentError(
            f"❌ This edit cannot be made: {error} (the reaction row takes one)"
        ) from error
    options = Delivery(buttons=buttons)
    given = request.message.text_content()
    if given is not None:
        return replace(given, options=options)
    reply = message.reply_to_message
    if reply is None or reply.empty or not message.reply_to_message_id:
        raise ContentError(NO_TEXT)
    if reply.media is not None or not reply.text:
        raise ContentError(MEDIA_REPLY)
    entities = plain_entities(reply.entities)
    return TextContent(str(reply.text), ParseMode.ENTITIES, options, entities)


async def _original(
    ctx: BotContext, message: Message, bid: str, verb: str
) -> dict[str, Any] | None:
    """The broadcast to act on, or None after telling the admin why not."""
    doc = await ctx.named_broadcast(message, bid)
    if doc is None:
        return None
    problem = await original_problem(ctx, doc, verb)
    if problem is not None:
        await ctx.say(message.chat.id, problem, reply_to=message.id)
        return None
    return doc


async def original_problem(ctx: BotContext, doc: dict[str, Any], verb: str) -> str | None:
    """Why the copies of ``doc`` cannot be acted on now, or None."""
    bid, status = doc["broadcast_id"], doc["status"]
    if doc.get("kind"):
        return f"{bid} is a {doc['kind']} of {doc.get('of')}, not a broadcast: nothing to {verb}."
    if status in (BroadcastStatus.QUEUED, *ACTIVE):
        return f"{bid} is still {status}: {verb} it once it has ended (or cancel it first)."
    if status not in RETRYABLE or not doc.get("snapshot_started"):
        return f"{bid} was never sent ({status}): there is nothing to {verb}."
    for entry in doc.get("operations") or []:
        try:
            other = await ctx.core.store.get(str(entry["id"]))
        except BroadcastNotFoundError:
            continue
        if other["status"] in (BroadcastStatus.QUEUED, *ACTIVE):
            return (
                f"{other['broadcast_id']} ({other.get('kind')} of {bid}) is {other['status']}:"
                f" {verb} it once that has ended."
            )
    return None


def deletes_of(doc: dict[str, Any]) -> list[str]:
    """The deletes of the broadcast ``doc`` (whose copies they removed are gone)."""
    return [str(o["id"]) for o in doc.get("operations") or [] if o.get("kind") == "delete"]


async def _offer(
    ctx: BotContext,
    message: Message,
    original: dict[str, Any],
    operation: DeleteContent | EditContent,
    counts: CopyCounts,
    lines: list[str],
    words: str,
    shown: tuple[str, tuple[Any, ...]] | None = None,
) -> None:
    """Store the operation as a draft and ask the admin to confirm it (the copies without
    ids are in its audience, to be recorded unreachable without a request)."""
    admin, now = message.from_user, ctx.now()
    op_id = await _create(
        ctx,
        new_operation(
            operation, original, broadcast_id=new_broadcast_id(now), admin_id=admin.id,
            admin_name=admin.username or admin.first_name, now=now, words=words, count=counts.left,
        ),
    )  # fmt: skip
    kind = "delete" if isinstance(operation, DeleteContent) else "edit"
    bid = str(original["_id"])
    minutes = int(ctx.timing.confirm_ttl.total_seconds() // 60)
    rate = ctx.settings.rate_limit
    head = "\n".join(
        [
            f"{ICONS[kind]} Ready to {kind}",
            "",
            f"📢 Broadcast: {bid} · {original.get('message_text') or original.get('message_type')}",
            *lines,
            f"⏱️ Estimated time: {duration_text(counts.reachable / rate)} at {rate:g} msg/s",
            *(["📝 New text: "] if shown else []),
        ]
    )
    text = head + (shown[0] if shown else "")
    entities = shifted(shown[1], utf16_len(head)) if shown else ()
    text += f"\n\n🆔 {op_id}\nThis confirmation expires in {minutes} minutes."
    yes = InlineKeyboardButton(
        f"{ICONS[kind]} Yes, {kind}", callback_data=callback_data(YES, op_id)
    )
    no = InlineKeyboardButton("✖️ Cancel", callback_data=callback_data(NO, op_id))
    sent = await ctx.say(
        message.chat.id,
        text,
        markup=InlineKeyboardMarkup([[yes, no]]),
        reply_to=message.id,
        entities=entities,
    )
    where = {"chat_id": sent.chat.id, "message_id": sent.id}
    await ctx.core.store.update(op_id, {"confirmation_message": where})


async def _create(ctx: BotContext, doc: dict[str, Any]) -> str:
    for _ in range(4):
        try:
            op_id = await ctx.core.store.insert(doc)
            break
        except BroadcastExistsError:  # another took the id in the same second
            doc["broadcast_id"] = new_broadcast_id(ctx.now())
    else:
        op_id = await ctx.core.store.insert(doc)
    entry = {"id": op_id, "kind": doc["kind"], "at": doc["created_at"], "by": doc["admin_id"]}
    await ctx.core.store.add_operation(str(doc["of"]), entry)
    created = event("broadcast.created", op_id, kind=doc["kind"], of=doc["of"], by=doc["admin_id"])
    log.info("%s: %s of %s created", op_id, doc["kind"], doc["of"], extra=created)
    return op_id
