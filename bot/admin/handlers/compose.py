"""``/broadcast`` and ``/broadcast_preview``: from the admin's request to checked content.

The content is the command's text (with the formatting the admin's app gave it,
or its markup), the message it replies to, or the admin's next message when the
command came alone (both copied as they are). It is validated by the same
sender the pipeline uses before anything is stored or confirmed.
"""

from __future__ import annotations

from hydrogram.types import Message

from bot.admin.commands import BroadcastRequest
from bot.admin.handlers import confirm, personal, schedule, testers
from bot.admin.handlers.confirm import Shown
from bot.admin.handlers.context import BotContext
from bot.delivery.content import Content, CopyContent, TextContent, clipped
from bot.delivery.errors import BroadcastError, ContentError, StorageUnavailableError
from bot.delivery.service import Audience
from bot.telegram.formatting import plain_entities, rendered
from scheduler.when import ScheduleParseError
from segments import SegmentError

ASK = (
    "✍️ Send me the message to {what}: text, photo, video, album, anything.\n"
    "It goes out exactly as you send it. /cancel to abort."
)
TIMED_OUT = "⏰ Timed out: no message came. Send /{command} again when ready."
ASK_CANCELLED = "Cancelled. Nothing was sent."
PREVIEW_NOTE = "👀 Preview: above is exactly what recipients would get. Nothing was stored."


async def problem_with(ctx: BotContext, admin_id: int, request: BroadcastRequest) -> str | None:
    """What is wrong with the segments, times or testers of ``request``, or None; nothing
    is stored."""
    if request.test and await testers.test_audience(ctx) is None:
        return testers.TEST_REFUSED
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
            lambda: _timed_out(ctx, chat_id, request),
        )
        ask = ASK.format(what="preview" if request.preview else "broadcast")
        await ctx.say(chat_id, ask, reply_to=message.id)
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
    """The command's own text, or a copy of the message it replies to.

    Raises:
        ContentError: The text cannot be sent.
    """
    text = request.text_content()
    if text is not None:
        return text
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
        except StorageUnavailableError:
            raise  # the admin is told the database is down, not the driver's words
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
    audience = await target(ctx, request)
    problem = testers.TEST_REFUSED if audience is None else None
    recipients = personal.audience_query(ctx, audience or Audience())
    problem = problem or await personal.length_problem(ctx, prepared, recipients)
    if problem is not None:
        await ctx.say(chat_id, problem, reply_to=message.id)
        return
    what = await shown(ctx, content, source)
    await confirm.offer(ctx, message, request, content, what, plan, audience)


async def target(ctx: BotContext, request: BroadcastRequest) -> Audience | None:
    """Who ``request`` goes to: its segments, or the testers (None: there are none)."""
    if request.test:
        return await testers.test_audience(ctx)
    return confirm.audience_of(ctx, request)


async def shown(ctx: BotContext, content: Content, source: Message | None) -> Shown:
    """How the confirmation and the history show ``content``: a text as recipients see
    it (its first 100 characters, formatted), a copy by its kind and caption."""
    if isinstance(content, TextContent):
        text, entities = await rendered(ctx.client, content)
        return Shown(*clipped(text, entities, SHOWN), words=clipped(text, (), SHOWN)[0])
    words = copied_words(content, source)
    if source is not None and not source.empty and source.media is None:  # a text message
        text, entities = clipped(source.text or "", plain_entities(source.entities), SHOWN)
        return Shown(text, entities, words=words)
    verb = "Forward" if content.forward else "Copy"
    single = source is not None and not source.empty and not source.media_group_id
    return Shown(f"{verb} of {'a ' if single else ''}{words}", words=words)


def copied_words(content: CopyContent, source: Message | None) -> str:
    """``photo: caption``, ``an album``, the copied text, or the message's id when it is gone."""
    if source is None or source.empty:
        return f"message {content.message_ids[0]}"
    if source.media_group_id:
        return "an album"
    if source.media is not None:
        kind = str(getattr(source.media, "value", source.media))
        return f"{kind}: {_clip(source.caption)}" if source.caption else kind
    return _clip(source.text or "")


SHOWN = 100


def _clip(text: str, limit: int = SHOWN) -> str:
    return clipped(text, (), limit)[0]


async def _timed_out(ctx: BotContext, chat_id: int, request: BroadcastRequest) -> None:
    command = "broadcast_preview" if request.preview else "broadcast"
    await ctx.say(chat_id, TIMED_OUT.format(command=command))
