"""``/broadcast_segments``: every segment, what it means, and how many users it has now."""

from __future__ import annotations

from typing import Any

from hydrogram.types import Message

from bot.admin.commands import SegmentsRequest
from bot.admin.handlers.context import BotContext
from bot.storage.mongo import aggregate

#: Languages shown with their counts under ``lang:<code>``.
TOP_LANGUAGES = 8


async def on_segments(ctx: BotContext, message: Message, request: SegmentsRequest) -> None:
    """List the segments with live counts (each count is one indexed query)."""
    catalog, users, now = ctx.core.segments, ctx.core.users, ctx.now()
    lines = ["🎯 Segments (counts are eligible users now)", ""]
    for name, description in catalog.listing():
        if "<" in name:  # a form such as lang:<code>, not a name
            lines.append(f"• {name}: {description}")
            lines += await _languages(ctx)
            continue
        count = await users.count(catalog.compile([name], [], now))
        lines.append(f"• {name} ({count:,}): {description}")
    lines += [
        "",
        "Combine them: --segment A --segment B is both; --exclude C leaves C out.",
        "active_<N>d, inactive_<N>d and new_<N>d take any N from 1 to 3650.",
    ]
    await ctx.say(message.chat.id, "\n".join(lines), reply_to=message.id)


async def _languages(ctx: BotContext) -> list[str]:
    """The most common languages among eligible users, with their counts."""
    field = ctx.core.segments.fields.language_code
    pipeline: list[dict[str, Any]] = [
        {"$match": ctx.core.segments.base_filter()},
        {"$group": {"_id": f"${field}", "n": {"$sum": 1}}},
        {"$sort": {"n": -1, "_id": 1}},
        {"$limit": TOP_LANGUAGES},
    ]
    rows = await aggregate(ctx.core.users.docs, pipeline)
    shown = [f"lang:{row['_id']} ({row['n']:,})" for row in rows if isinstance(row["_id"], str)]
    return [f"   {', '.join(shown)}"] if shown else []
