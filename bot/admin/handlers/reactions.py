"""Reaction rows (``--react``): the buttons' callback data, anyone's presses, the counts.

A reaction button's data is ``bc:react_<letter>:<broadcast_id>`` (made and read by
:mod:`bot.admin.status`), the letter naming the option (``a`` the first). Anyone
who received the broadcast may press: their choice is recorded (one per user, a
later press changes it), they get a short toast, and nobody else hears of it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from hydrogram.types import CallbackQuery

from bot.admin.handlers.context import EXPIRED, BotContext
from bot.admin.status import callback_data
from bot.delivery.model import BroadcastStatus

log = logging.getLogger(__name__)

REACT = "react_"
#: One letter per option, in order (callback actions are letters and underscores).
OPTION_LETTERS = "abcdefgh"
#: The broadcast id in the data of a preview of nothing stored (``/broadcast_preview``).
PREVIEW_ID = "preview"
THANKS = "Thanks! You chose {choice}"
WITHDRAWN = "This message was withdrawn."
NOT_COUNTED = "This is a preview: choices are not counted."


def reaction_data(broadcast_id: str | None, index: int) -> str:
    """The callback data of option ``index`` of a broadcast's reaction row (the sender's
    :data:`bot.telegram.reactions.ReactionData`)."""
    return callback_data(REACT + OPTION_LETTERS[index], broadcast_id or PREVIEW_ID)


def option_index(action: str) -> int | None:
    """The option a callback action presses, None when it is not a reaction."""
    letter = action.removeprefix(REACT)
    if letter == action or len(letter) != 1 or letter not in OPTION_LETTERS:
        return None
    return OPTION_LETTERS.index(letter)


def withdrawn(doc: dict[str, Any]) -> bool:
    """Whether recipients should hear the broadcast is gone: cancelled, or deleted
    (``deleted_at`` set, or a ``deleted`` status)."""
    return doc.get("status") in (BroadcastStatus.CANCELLED, "deleted") or bool(
        doc.get("deleted_at")
    )


async def on_press(ctx: BotContext, query: CallbackQuery, index: int, broadcast_id: str) -> None:
    """Anyone's press on a reaction button: record the choice, answer with a toast."""
    if broadcast_id == PREVIEW_ID:
        await query.answer(NOT_COUNTED)
        return
    wanted = {"status": 1, "content.reactions": 1, "deleted_at": 1}
    doc = await ctx.core.store.docs.find_one({"_id": broadcast_id}, wanted)
    if doc is None or withdrawn(doc):
        await query.answer(WITHDRAWN)
        return
    options = (doc.get("content") or {}).get("reactions") or []
    if index >= len(options):
        await query.answer(EXPIRED)
        return
    user = query.from_user.id
    # A preview of a draft (or of a broadcast sent to others) carries the same buttons.
    received = await ctx.core.ledger.status_of(broadcast_id, user)
    if doc["status"] == BroadcastStatus.DRAFT or received is None:
        await query.answer(NOT_COUNTED)
        return
    choice = str(options[index])
    await ctx.core.reactions.record(broadcast_id, user, choice, ctx.now())
    await query.answer(THANKS.format(choice=choice))


def counts_text(options: list[str], counts: Mapping[str, int]) -> str:
    """``👍 3 · 👎 1``: every option in order, with how many chose it."""
    return " · ".join(f"{option} {counts.get(option, 0):,}" for option in options)


def reaction_lines(doc: dict[str, Any], counts: Mapping[str, int]) -> list[str]:
    """The history's line about a broadcast's reactions; none without a reaction row."""
    options = [str(o) for o in (doc.get("content") or {}).get("reactions") or ()]
    if not options:
        return []
    voters = sum(counts.get(option, 0) for option in options)
    return [f"🗳 Reactions: {counts_text(options, counts)} ({voters:,} voted)"]
