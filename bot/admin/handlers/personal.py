"""Personal greetings at the confirmation: will the longest values fit?

A text with placeholders is as long as the values it gets. Before a broadcast is
offered, the longest value of each field it uses is read from the users it
targets (one query per field) and the text is measured with them: one that could
exceed Telegram's 4096 characters (1024 for a caption) is refused with the
figures, rather than failing for the users with long names.
"""

from __future__ import annotations

from typing import Any

from bot.admin.handlers.context import BotContext
from bot.delivery.filters import load_filter
from bot.delivery.ports import PreparedMessage
from bot.delivery.service import Audience
from bot.telegram.personal import personal_parts


async def length_problem(
    ctx: BotContext, prepared: PreparedMessage, recipients: dict[str, Any]
) -> str | None:
    """Why ``prepared`` could be too long for one of the users ``recipients`` matches
    (:func:`audience_query` of a new broadcast, :func:`recipients_query` of a sent one
    being edited); None if it fits."""
    parts = personal_parts(prepared)
    if not parts:
        return None
    fields = sorted(set().union(*(part.template.fields for part in parts)))
    longest = await ctx.core.users.longest(recipients, fields)
    for part in parts:
        worst = part.template.longest(longest)
        if worst > part.limit:
            seen = ", ".join(f"{field} {longest[field]}" for field in fields)
            return (
                f"✂️ This could be too long: with the longest values among the recipients"
                f" ({seen} characters) the {part.what} reaches {worst:,} characters, and"
                f" Telegram allows {part.limit:,}. Nothing was stored; shorten it."
            )
    return None


def audience_query(ctx: BotContext, audience: Audience) -> dict[str, Any]:
    """The users filter of ``audience`` now (test mode's users when it is on)."""
    key = ctx.core.users.fields.user_id
    test_mode = ctx.core.service.test_mode
    if test_mode.enabled:
        return {key: {"$in": list(test_mode.users)}}
    if audience.user_ids is not None:
        return {key: {"$in": list(audience.user_ids)}}
    if audience.segments is not None:
        return ctx.core.segments.compile(audience.segments, audience.excludes, ctx.now())
    return audience.query or {}


def recipients_query(ctx: BotContext, original: dict[str, Any]) -> dict[str, Any]:
    """The users filter the send of ``original`` read its recipients from: its stored
    target (test mode's users, when it was sent in test mode), its segments as compiled
    when it started (a sent broadcast has them), else its filter (none: every user)."""
    target: dict[str, Any] = original.get("target") or {}
    if "user_ids" in target:
        return {ctx.core.users.fields.user_id: {"$in": list(target["user_ids"])}}
    if "compiled" in target:
        return load_filter(str(target["compiled"]))
    return dict(target.get("filter") or {})
