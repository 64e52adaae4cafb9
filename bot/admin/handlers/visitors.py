"""The standalone bot's audience: record everyone who writes, and the terms on ``/start``.

A host bot keeps its own users collection and does not install this. Recording
runs in its own handler group before the admin commands and never stops an
update from reaching them.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import hydrogram
from hydrogram import filters
from hydrogram.handlers import MessageHandler
from hydrogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.admin.handlers.context import BotContext
from bot.admin.status import callback_data
from bot.storage.users import UserProfile

log = logging.getLogger(__name__)

#: Before the admin commands (-1) and the host bot's handlers (0).
RECORD_GROUP = -2
TERMS_ACTION, TERMS_ACCEPT = "terms", "accept"
WELCOME = "👋 Welcome! Announcements from this bot will reach you here."
ACCEPTED = "✅ Thank you: announcements from this bot will reach you here."
ADMIN_HINT = "\n\nYou are an admin: /help lists the broadcast commands."


class RecentVisitors:
    """Which users were written recently, so a chatty user is not a write per message.

    A user is written when first seen, when the profile changed, and otherwise
    at most once per ``every``; ``last_seen`` is exact to that.
    """

    def __init__(self, every: timedelta = timedelta(minutes=1), capacity: int = 10_000) -> None:
        self.every, self.capacity = every, capacity
        self._seen: OrderedDict[int, tuple[UserProfile, datetime]] = OrderedDict()

    def due(self, profile: UserProfile, now: datetime) -> bool:
        """Whether to write ``profile`` at ``now``; if so it counts as written."""
        last = self._seen.get(profile.user_id)
        if last is not None and last[0] == profile and timedelta(0) <= now - last[1] < self.every:
            return False
        self._seen[profile.user_id] = (profile, now)
        self._seen.move_to_end(profile.user_id)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def forget(self, user_ids: Sequence[int]) -> None:
        """Write these users at their next message (the pipeline just marked them)."""
        for uid in user_ids:
            self._seen.pop(uid, None)


def visitor_handlers(ctx: BotContext, visitors: RecentVisitors) -> list[Any]:
    """The handler recording private messages (``/start`` included) into the users collection."""

    async def on_message(client: hydrogram.Client, message: Message) -> None:
        try:
            await record_visit(ctx, visitors, message)
        except Exception:  # a visitor's message must never break the bot
            log.exception("recording a visitor failed")

    return [MessageHandler(on_message, filters.private & filters.incoming)]


def profile_of(message: Message) -> UserProfile | None:
    """The sender's profile, or None for a message with no human sender."""
    user = message.from_user
    if user is None or user.is_bot:
        return None
    return UserProfile(
        user_id=user.id,
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
        is_premium=bool(user.is_premium),
    )


async def record_visit(ctx: BotContext, visitors: RecentVisitors, message: Message) -> None:
    """Upsert the sender; answer ``/start`` with a welcome or the terms."""
    profile = profile_of(message)
    if profile is None:
        return
    start, now = is_start(message.text or ""), ctx.now()
    if visitors.due(profile, now) or start:
        await ctx.core.users.record(profile, now)
    if start:
        await _welcome(ctx, message, profile.user_id)


def is_start(text: str) -> bool:
    """Whether ``text`` is ``/start`` (any payload, any ``@Bot`` suffix)."""
    words = text.split()
    return bool(words) and words[0].lower().partition("@")[0] == "/start"


async def _welcome(ctx: BotContext, message: Message, user_id: int) -> None:
    hint = ADMIN_HINT if await ctx.is_admin(user_id) else ""
    if ctx.settings.require_terms and not await ctx.core.users.has_accepted_terms(user_id):
        accept = InlineKeyboardButton(
            "✅ Accept", callback_data=callback_data(TERMS_ACTION, TERMS_ACCEPT)
        )
        markup = InlineKeyboardMarkup([[accept]])
        await ctx.say(message.chat.id, ctx.settings.terms_text + hint, markup=markup)
        return
    await ctx.say(message.chat.id, WELCOME + hint)


async def on_terms(ctx: BotContext, query: CallbackQuery) -> None:
    """The Accept button under the terms: anyone may press it, for themselves only."""
    user_id = query.from_user.id
    await ctx.core.users.accept_terms(user_id, ctx.now())
    await query.answer("✅ Accepted")
    if query.message is not None:
        await ctx.edit(user_id, query.message.id, ACCEPTED)
