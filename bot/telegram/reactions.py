"""The reaction row (``--react``): a row of callback buttons under a broadcast.

What a button's callback data says belongs to the admin bot, which answers the
presses: it is injected as a :data:`ReactionData` (this package may not import the
admin bot). The data names the broadcast, so the row is built when a broadcast is
prepared, once, like the rest of the request.
"""

from __future__ import annotations

from collections.abc import Callable

from hydrogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.delivery.content import Delivery
from bot.delivery.errors import ContentError

#: ``(broadcast id, or None for a preview of nothing stored; option index) -> callback data``.
ReactionData = Callable[[str | None, int], str]


def with_reactions(
    base: InlineKeyboardMarkup | None,
    options: Delivery,
    reaction_data: ReactionData | None,
    broadcast_id: str | None,
) -> InlineKeyboardMarkup | None:
    """``base`` (the URL buttons, or a copied message's own) with the reaction row under it.

    Raises:
        ContentError: Reactions asked for where nothing answers them (no admin bot).
    """
    if not options.reactions:
        return base
    if reaction_data is None:
        raise ContentError("reaction buttons need the admin bot, which answers them")
    row = [
        InlineKeyboardButton(label, callback_data=reaction_data(broadcast_id, index))
        for index, label in enumerate(options.reactions)
    ]
    rows = list(base.inline_keyboard) if isinstance(base, InlineKeyboardMarkup) else []
    return InlineKeyboardMarkup([*rows, row])
