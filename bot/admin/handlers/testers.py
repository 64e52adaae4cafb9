"""``/broadcast_testers`` and ``--test``: a list of testers, and broadcasts to them alone.

A test goes through the whole pipeline (confirmation, queue, ledger, summary) to
the testers instead of its audience, so what they get is what the audience would.
``BROADCAST_TEST_MODE`` is another thing: it sends every broadcast to
``BROADCAST_TEST_USERS`` (see :class:`bot.delivery.service.TestMode`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hydrogram.types import Message

from bot.admin.commands import TestersRequest
from bot.admin.handlers.context import BotContext
from bot.delivery.placeholders import Values
from bot.delivery.service import Audience

NO_TESTERS = "🧪 No testers yet: add some with /broadcast_testers add ID (their user ids)."
#: ``--test`` without testers.
TEST_REFUSED = (
    "🧪 --test sends to the testers, and there are none yet: nothing was stored or sent."
    " Add some with /broadcast_testers add ID."
)
LISTED = 100


def plural(count: int) -> str:
    """``1 tester``, ``3 testers``."""
    return f"{count:,} tester" + ("" if count == 1 else "s")


async def test_audience(ctx: BotContext) -> Audience | None:
    """The testers as an audience; None when there are none."""
    ids = await ctx.core.testers.ids()
    return Audience(user_ids=tuple(ids), description=plural(len(ids))) if ids else None


def test_line(count: int) -> str:
    """The confirmation's line that says a test does not reach the audience."""
    return f"🧪 Test: to {plural(count)}, not the audience"


async def on_testers(ctx: BotContext, message: Message, request: TestersRequest) -> None:
    """``/broadcast_testers [add|remove ID...]``: change the list if asked, then show it."""
    lines = []
    wanted = request.user_ids
    if request.action == "add":
        added = await ctx.core.testers.add(wanted, message.from_user.id, ctx.now())
        lines += _outcome("Added", added, "already testers", [i for i in wanted if i not in added])
    elif request.action == "remove":
        removed = await ctx.core.testers.remove(wanted)
        gone = [i for i in wanted if i not in removed]
        lines += _outcome("Removed", removed, "not testers", gone)
    ids = await ctx.core.testers.ids()
    profiles = await ctx.core.users.profiles(ids[:LISTED]) if ids else {}
    lines += _listing(ids, profiles)
    await ctx.say_long(message.chat.id, "\n".join(lines), reply_to=message.id)


def _outcome(done: str, changed: Sequence[int], other: str, unchanged: Sequence[int]) -> list[str]:
    lines = [f"✅ {done}: {', '.join(map(str, changed))}."] if changed else []
    if unchanged:
        lines.append(f"ℹ️ {', '.join(map(str, dict.fromkeys(unchanged)))}: {other}.")
    return [*lines, ""]


def _listing(ids: list[int], profiles: Mapping[int, Values]) -> list[str]:
    if not ids:
        return [NO_TESTERS]
    lines = [f"🧪 Testers ({len(ids):,}): --test broadcasts go to them only."]
    for user_id in ids[:LISTED]:
        lines.append(f"• {user_id}{_who(profiles.get(user_id, {}))}")
    if len(ids) > LISTED:
        lines.append(f"… and {len(ids) - LISTED:,} more.")
    lines.append("/broadcast_testers add ID... or remove ID... changes the list.")
    return lines


def _who(values: Values) -> str:
    name, username = values.get("first_name"), values.get("username")
    shown = " ".join(
        part
        for part in (
            name if isinstance(name, str) else "",
            f"@{username}" if isinstance(username, str) and username else "",
        )
        if part
    )
    return f" {shown}" if shown else ""
