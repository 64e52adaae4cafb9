"""A text's formatting between hydrogram and our plain :class:`TextEntity` values.

An entity's type is hydrogram's :class:`~hydrogram.enums.MessageEntityType` name in
lower case (``bold``, ``text_link``...); offsets and lengths stay in UTF-16 code
units, as Telegram and hydrogram count them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import hydrogram
from hydrogram import enums, raw
from hydrogram.types import MessageEntity

from bot.delivery.content import (
    DETECTED_ENTITIES,
    FORMATTING_ENTITIES,
    ParseMode,
    TextContent,
    TextEntity,
)
from bot.delivery.errors import ContentError
from bot.telegram.sender import PARSE_MODES

_CARRIED = FORMATTING_ENTITIES | DETECTED_ENTITIES


def plain_entities(entities: Iterable[MessageEntity] | None) -> tuple[TextEntity, ...]:
    """A received message's entities as plain values.

    Bot commands, unknown kinds and mentions of users hydrogram could not name
    are left out: a broadcast does not carry them.
    """
    plain = []
    for entity in entities or ():
        user = getattr(entity, "user", None)
        found = _plain(
            entity.type.name.lower(),
            entity,
            None if user is None else user.id,
        )
        if found is not None:
            plain.append(found)
    return tuple(plain)


async def rendered(
    client: hydrogram.Client, content: TextContent
) -> tuple[str, tuple[TextEntity, ...]]:
    """The text recipients of ``content`` see, and its entities: markup parsed as the
    sender parses it.

    Raises:
        ContentError: The markup cannot be parsed.
    """
    if content.parse_mode is ParseMode.ENTITIES:
        return content.text, content.entities
    try:
        parsed = await client.parser.parse(content.text, PARSE_MODES[content.parse_mode])
    except Exception as error:
        raise ContentError(f"the {content.parse_mode.value} markup is invalid: {error}") from error
    entities = (_from_raw(entity) for entity in parsed["entities"] or ())
    return str(parsed["message"]), tuple(entity for entity in entities if entity is not None)


def _from_raw(entity: Any) -> TextEntity | None:
    if isinstance(entity, raw.types.InputMessageEntityMentionName):
        return _plain("text_mention", entity, getattr(entity.user_id, "user_id", None))
    try:
        kind = enums.MessageEntityType(type(entity))
    except ValueError:
        return None
    return _plain(kind.name.lower(), entity, getattr(entity, "user_id", None))


def _plain(kind: str, entity: Any, user_id: int | None) -> TextEntity | None:
    if kind not in _CARRIED:
        return None
    try:
        return TextEntity(
            kind,
            entity.offset,
            entity.length,
            url=getattr(entity, "url", None) or None,
            user_id=user_id if kind == "text_mention" else None,
            language=getattr(entity, "language", None) or None,
            custom_emoji_id=getattr(entity, "custom_emoji_id", None)
            or getattr(entity, "document_id", None),
        )
    except ContentError:  # a mention without its user, an empty entity
        return None
