"""``/broadcast`` and ``/broadcast_preview``: from the admin's request to checked content.

The content is the command's text, the message it replies to, or the admin's
next message when the command came alone. It is validated by the same sender
the pipeline uses before anything is stored or confirmed.
"""

from __future__ import annotations

from hydrogram.types import Message

from bot.admin.commands import BroadcastRequest
from bot.admin.handlers import confirm, schedule
from bot.admin.handlers.context import BotContext
from bot.delivery.content import Content, CopyContent, TextContent
from bot.delivery.errors import BroadcastError, ContentError
from scheduler.when import ScheduleParseError
from segments import SegmentError

ASK = (
    "✍️ Send me the message to broadcast: text, photo, video, album, anything.\n"
    "It goes out exactly as you send it. /cancel to abort."
)
TIMED_OUT = "⏰ Timed out: no message came. Send /broadcast again when ready."
ASK_CANCELLED = "Cancelled. Nothing was sent."
PREVIEW_NOTE = "👀 Preview: above is exactly what recipients would get. Nothing was stored."


async def problem_with(ctx: BotContext, admin_id: int, request: BroadcastRequest) -> str | None:
    """What is wrong with the segments or times of ``request``, or None; nothing is stored."""
    try:
        ctx.core.segments.check(request.segments, request.excludes)
    except SegmentError as error:
        return f"🎯 {error}"
    try:
        await schedule.resolve(ctx, admin_id, request)
    except ScheduleParseError as error:
        return f"⏰ {error}"
    return None


async def on_broadcast(ctx: BotContext, message: Message, request: BroadcastRequest) -> None:
    """``/broadcast``: refuse bad segments or times, else take the content or ask for it."""
    chat_id, admin = message.chat.id, message.from_user.id
    problem = await problem_with(ctx, admin, request)
    if problem is not None:
        await ctx.say(chat_id, problem, reply_to=message.id)
        return
    if request.text is None and not message.reply_to_message_id:
        ctx.pending.open(
            (chat_id, admin),
            request,
            ctx.timing.ask_timeout_s,
            lambda: _timed_out(ctx, chat_id),
        )
        await ctx.say(chat_id, ASK, reply_to=message.id)
        return
    source = None if request.text is not None else message.reply_to_message
    try:
        content = content_of(request, message)
    except ContentError as error:
        await ctx.say(chat_id, f"❌ {error}", reply_to=message.id)
        return
    await proceed(ctx, message, request, content, source)


async def on_answer(ctx: BotContext, message: Message, request: BroadcastRequest) -> None:
    """The admin's message after the bot asked: ``/cancel``, or the content (copied as is)."""
    chat_id = message.chat.id
    if is_cancel(message.text or ""):
        await ctx.say(chat_id, ASK_CANCELLED, reply_to=message.id)
        return
    content = CopyContent(
        chat_id, (message.id,), forward=request.forward, options=request.delivery()
    )
    await proceed(ctx, message, request, content, message)


def is_cancel(text: str) -> bool:
    """Whether ``text`` is ``/cancel`` (or ``/cancel@AnyBot``)."""
    words = text.split()
    return bool(words) and words[0].lower().partition("@")[0] == "/cancel"


def content_of(request: BroadcastRequest, message: Message) -> Content:
    """The command's own text, or a copy of the message it replies to."""
    if request.text is not None:
        return TextContent(request.text, request.parse_mode, request.delivery())
    return CopyContent(
        message.chat.id,
        (message.reply_to_message_id or 0,),
        forward=request.forward,
        options=request.delivery(),
    )


async def proceed(
    ctx: BotContext,
    message: Message,
    request: BroadcastRequest,
    content: Content,
    source: Message | None,
) -> None:
    """Validate ``content``, then send a preview or offer the confirmation."""
    chat_id = message.chat.id
    try:
        prepared = await ctx.core.pipeline.ports.sender.prepare(content)
    except ContentError as error:
        await ctx.say(chat_id, f"❌ This cannot be broadcast: {error}", reply_to=message.id)
        return
    if request.preview:
        try:
            await prepared.send(chat_id)
        except BroadcastError as error:
            await ctx.say(chat_id, f"❌ The preview failed: {error}", reply_to=message.id)
            return
        await ctx.say(chat_id, PREVIEW_NOTE)
        return
    try:  # again: time has passed since the command, and "in 2 hours" moves with it
        plan = await schedule.resolve(ctx, message.from_user.id, request)
    except ScheduleParseError as error:
        await ctx.say(chat_id, f"⏰ {error}", reply_to=message.id)
        return
    await confirm.offer(ctx, message, request, content, describe(content, source), plan)


def describe(content: Content, source: Message | None) -> str:
    """The first 100 characters of the text, or what kind of message is copied."""
    if isinstance(content, TextContent):
        return _clip(content.text)
    verb = "Forward" if content.forward else "Copy"
    if source is None or getattr(source, "empty", False):
        return f"{verb} of message {content.message_ids[0]}"
    if source.media_group_id:
        return f"{verb} of an album"
    if source.media is not None:
        kind = str(getattr(source.media, "value", source.media))
        caption = f": {_clip(source.caption)}" if source.caption else ""
        return f"{verb} of a {kind}{caption}"
    return _clip(source.text or "")


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _timed_out(ctx: BotContext, chat_id: int) -> None:
    await ctx.say(chat_id, TIMED_OUT)
