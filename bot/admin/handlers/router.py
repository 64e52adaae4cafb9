"""The two hydrogram handlers of the admin bot: one for messages, one for buttons.

Each checks access first, then hands a parsed request or callback to the
feature module that serves it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import hydrogram
from hydrogram import filters
from hydrogram.handlers import CallbackQueryHandler, MessageHandler
from hydrogram.types import CallbackQuery, Message
from pymongo.errors import PyMongoError

from bot.admin.commands import (
    ADMIN_HELP,
    BroadcastRequest,
    CancelRequest,
    DeleteRequest,
    EditRequest,
    HelpRequest,
    HistoryRequest,
    NotACommand,
    NotForUs,
    Parsed,
    ReportRequest,
    RescheduleRequest,
    RetryRequest,
    ScheduledRequest,
    SegmentsRequest,
    TestersRequest,
    TimezoneRequest,
    UnknownCommand,
    UsageError,
    parse_command,
)
from bot.admin.handlers import (
    compose,
    confirm,
    controls,
    history,
    operation_buttons,
    operations,
    reactions,
    report,
    retry,
    schedule,
    segments,
    testers,
    visitors,
)
from bot.admin.handlers.context import ADMINS_ONLY, EXPIRED, BotContext
from bot.admin.status import parse_callback
from bot.delivery.errors import StorageUnavailableError
from bot.storage.outage import is_unavailable
from bot.telegram.formatting import plain_entities

log = logging.getLogger(__name__)

CONFIRM_ACTIONS = frozenset({"send", "schedule", "preview", "discard"})
CONTROL_ACTIONS = frozenset({"pause", "resume", "cancel", "cancel_yes", "cancel_no"})
CALLBACK_PREFIX = "bc:"
SORRY = "⚠️ Sorry, that did not work. Please try again in a little while."
LOG_HINT = "The bot's log has the details."
DATABASE_DOWN = (
    "⚠️ The database cannot be reached right now; nothing was changed. "
    "Try again in a minute. " + LOG_HINT
)
PRESS_FAILED = "⚠️ That did not work; nothing was changed."
ASK_DROPPED = "ℹ️ The broadcast that was waiting for your message is dropped: nothing was stored."


def handlers(ctx: BotContext, *, all_callbacks: bool = False) -> list[Any]:
    """The message and callback handlers, bound to ``ctx``.

    With ``all_callbacks`` every callback query is ours (a standalone bot);
    otherwise only those whose data starts with ``bc:``, leaving a host bot's own.
    """

    async def on_message(client: hydrogram.Client, message: Message) -> None:
        await _guarded(ctx, message.chat.id, handle_message(ctx, message))

    async def on_callback(client: hydrogram.Client, query: CallbackQuery) -> None:
        if not await _guarded(ctx, query.from_user.id, handle_callback(ctx, query)):
            # the button's spinner stops at once; a query answered before the failure
            # refuses a second answer, which changes nothing
            with contextlib.suppress(Exception):
                await query.answer(PRESS_FAILED)
        # hydrogram 0.2.0 runs every matching handler of every group: a query is
        # answered once, so the host bot's handlers must not see ours.
        raise hydrogram.StopPropagation

    ours = filters.create(lambda _, __, query: _is_ours(query.data))
    callbacks = CallbackQueryHandler(on_callback, None if all_callbacks else ours)
    return [MessageHandler(on_message, filters.private & filters.incoming), callbacks]


def _is_ours(data: str | bytes | None) -> bool:
    if isinstance(data, bytes):
        return data.startswith(CALLBACK_PREFIX.encode())
    return isinstance(data, str) and data.startswith(CALLBACK_PREFIX)


async def _guarded(ctx: BotContext, chat_id: int, work: Any) -> bool:
    """Run a handler; whether it succeeded. A failure is logged in full and told
    briefly, without internals.

    Nobody sees exception texts (host names, queries): admins learn what kind of
    trouble it is, everyone else that it did not work.
    """
    try:
        await work
    except hydrogram.StopPropagation:
        raise
    except Exception as error:
        log.exception("handler failed for chat %s", chat_id)
        admin = chat_id in ctx.settings.admin_ids
        if not admin and not isinstance(error, StorageUnavailableError | PyMongoError):
            with contextlib.suppress(Exception):
                admin = await ctx.is_admin(chat_id)
        try:
            await ctx.say(chat_id, failure_text(error, admin=admin))
        except Exception:
            log.exception("could not report the failure")
        return False
    return True


def failure_text(error: Exception, *, admin: bool) -> str:
    """What a person is told when handling their message or button failed."""
    if not admin:
        return SORRY
    if isinstance(error, StorageUnavailableError) or is_unavailable(error):
        return DATABASE_DOWN
    return f"⚠️ Something went wrong ({type(error).__name__}); nothing was changed. {LOG_HINT}"


async def handle_message(ctx: BotContext, message: Message) -> None:
    """An incoming private message: a command of ours, an awaited answer, or not ours."""
    user = message.from_user
    if user is None:
        return
    key = (message.chat.id, user.id)
    text = message.text or ""
    parsed: Parsed = NotACommand()
    if text:
        entities = plain_entities(message.entities)
        # str(): hydrogram's text slices in UTF-16 units; the parser counts characters.
        parsed = parse_command(str(text), bot_username=ctx.bot_username, entities=entities)
    if isinstance(parsed, UnknownCommand) and ctx.records_users and await ctx.is_admin(user.id):
        parsed = UsageError(parsed.hint)  # standalone: nobody else owns /broadcast...
    if isinstance(parsed, NotACommand | NotForUs | UnknownCommand):
        request = ctx.pending.take(key)
        if request is None:
            return  # the host bot's business
        await compose.on_answer(ctx, message, request)
    elif not await ctx.is_admin(user.id):
        await ctx.say(message.chat.id, ADMINS_ONLY, reply_to=message.id)
    else:
        if ctx.pending.close(key) and not isinstance(parsed, BroadcastRequest):
            await ctx.say(message.chat.id, ASK_DROPPED)  # a new command replaces the question
        await _serve(ctx, message, parsed)
    raise hydrogram.StopPropagation  # consumed: a host bot's handlers do not see it


async def _serve(ctx: BotContext, message: Message, parsed: Parsed) -> None:
    if isinstance(parsed, UsageError):
        await ctx.say(message.chat.id, parsed.message, reply_to=message.id)
    elif isinstance(parsed, HelpRequest):
        await ctx.say(message.chat.id, ADMIN_HELP, reply_to=message.id)
    else:
        serve = _SERVERS.get(type(parsed))
        if serve is not None:
            await serve(ctx, message, parsed)


#: Each request type and the feature handler that serves it.
_SERVERS: dict[type, Callable[[BotContext, Message, Any], Awaitable[None]]] = {
    BroadcastRequest: compose.on_broadcast,
    HistoryRequest: history.on_history,
    CancelRequest: history.on_cancel,
    SegmentsRequest: segments.on_segments,
    ScheduledRequest: schedule.on_scheduled,
    RescheduleRequest: schedule.on_reschedule,
    TimezoneRequest: schedule.on_timezone,
    TestersRequest: testers.on_testers,
    DeleteRequest: operations.on_delete,
    EditRequest: operations.on_edit,
    RetryRequest: retry.on_retry,
    ReportRequest: report.on_report,
}


async def handle_callback(ctx: BotContext, query: CallbackQuery) -> None:
    """A button press: terms and reactions for anyone; access first for the rest, then
    confirm or control."""
    parsed = parse_callback(query.data) if query.data is not None else None
    if parsed == (visitors.TERMS_ACTION, visitors.TERMS_ACCEPT) and ctx.records_users:
        await visitors.on_terms(ctx, query)
        return
    option = None if parsed is None else reactions.option_index(parsed[0])
    if parsed is not None and option is not None:
        await reactions.on_press(ctx, query, option, parsed[1])
        return
    if not await ctx.is_admin(query.from_user.id):
        await query.answer(ADMINS_ONLY)
        return
    if parsed is None:
        await query.answer(EXPIRED)
        return
    action, broadcast_id = parsed
    if action in CONFIRM_ACTIONS:
        await confirm.on_button(ctx, query, action, broadcast_id)
    elif action in CONTROL_ACTIONS:
        await controls.on_button(ctx, query, action, broadcast_id)
    elif action in operations.ACTIONS:
        await operation_buttons.on_button(ctx, query, action, broadcast_id)
    elif action in retry.ACTIONS:
        await retry.on_button(ctx, query, action, broadcast_id)
    else:
        await query.answer(EXPIRED)
