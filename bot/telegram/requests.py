"""The raw requests a broadcast sends: built once, then only peer and ``random_id`` change.

Telegram deduplicates sends by ``random_id``: a repeat is answered
``RANDOM_ID_DUPLICATE`` and not delivered again (the field's documented purpose:
"prevent message resending"). :func:`random_id_for` derives it from the broadcast
and the recipient, so every attempt for one recipient, in any run, on any instance,
carries the same one and a retry after a lost answer cannot deliver twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import hydrogram
from hydrogram import enums, raw, utils
from hydrogram.types import Message, MessageEntity, User

from bot.delivery.content import TextEntity
from bot.delivery.errors import ContentError

#: Media a copy sends by file id, the caption kept unless noted in :data:`_NO_CAPTION`.
FILE_KINDS = ("photo", "video", "document", "audio", "animation", "voice", "sticker", "video_note")
ALBUM_KINDS = ("photo", "video", "document", "audio")
_NO_CAPTION = frozenset({"sticker", "video_note"})
#: What a copy can reproduce; anything else fails for every recipient.
COPYABLE = (*FILE_KINDS, "text", "contact", "location", "venue", "poll")


def random_id_for(key: str, user_id: int, item: int = 0) -> int:
    """The ``random_id`` of item ``item`` of the message ``key`` sends to ``user_id``.

    Stable (a hash, not a counter), a signed 64-bit integer as the schema's ``long``,
    never zero.
    """
    digest = hashlib.blake2b(f"{key}:{user_id}:{item}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True) or 1


def message_ids(reply: Any, random_ids: Sequence[int]) -> tuple[int, ...]:
    """The ids of the messages a send created, in the order of ``random_ids``."""
    if isinstance(reply, raw.types.UpdateShortSentMessage):
        return (reply.id,)
    updates = getattr(reply, "updates", ())
    by_random = {u.random_id: u.id for u in updates if isinstance(u, raw.types.UpdateMessageID)}
    found = tuple(by_random[r] for r in random_ids if r in by_random)
    if found:
        return found
    new = (raw.types.UpdateNewMessage, raw.types.UpdateNewChannelMessage)
    return tuple(u.message.id for u in updates if isinstance(u, new))


async def written_entities(entities: Sequence[Any] | None, client: hydrogram.Client) -> Any:
    """hydrogram's parsed entities as raw ones; None when there are none (not ``[]``:
    layer 181's writers set the flag on truthiness and write on ``is not None``)."""
    if not entities:
        return None
    for entity in entities:
        entity._client = client  # mentions of users need the client to resolve them
    return [await entity.write() for entity in entities]


def message_entities(entities: Sequence[TextEntity]) -> list[MessageEntity]:
    """Our plain entities as hydrogram's, ready for :func:`written_entities`."""
    return [_message_entity(entity) for entity in entities]


def _message_entity(entity: TextEntity) -> MessageEntity:
    # hydrogram annotates the user without None, though None is its default.
    user: Any = None if entity.user_id is None else User(id=entity.user_id)
    return MessageEntity(
        type=enums.MessageEntityType[entity.type.upper()],
        offset=entity.offset,
        length=entity.length,
        url=entity.url,
        user=user,
        language=entity.language,
        custom_emoji_id=entity.custom_emoji_id,
    )


def kind_of(message: Message) -> str:
    """What a message to copy holds: ``text``, a file kind, or another media kind.

    Raises:
        ContentError: Nothing a copy can reproduce (service messages, games...).
    """
    if message.service or message.empty:
        raise ContentError("this kind of message cannot be broadcast")
    for kind in COPYABLE:
        if getattr(message, kind, None):
            return kind
    raise ContentError("this kind of message cannot be broadcast")


def input_media(message: Message, kind: str) -> Any:
    """The input media that sends a copy of ``message``'s media (by file id)."""
    if kind in FILE_KINDS:
        return utils.get_input_media_from_file_id(getattr(message, kind).file_id)
    if kind == "contact":
        c = message.contact
        return raw.types.InputMediaContact(
            phone_number=c.phone_number,
            first_name=c.first_name,
            last_name=c.last_name or "",
            vcard=c.vcard or "",
        )
    if kind == "location":
        return raw.types.InputMediaGeoPoint(geo_point=_geo(message.location))
    if kind == "venue":
        v = message.venue
        return raw.types.InputMediaVenue(
            geo_point=_geo(v.location),
            title=v.title,
            address=v.address,
            provider="foursquare" if v.foursquare_id else "",
            venue_id=v.foursquare_id or "",
            venue_type=v.foursquare_type or "",
        )
    if kind == "poll":
        poll = message.poll
        return raw.types.InputMediaPoll(
            poll=raw.types.Poll(
                id=0,
                question=_text(poll.question),
                answers=[
                    raw.types.PollAnswer(text=_text(o.text), option=bytes([i]))
                    for i, o in enumerate(poll.options)
                ],
            )
        )
    raise ContentError(f"a {kind} cannot be copied")


def caption_of(message: Message, kind: str) -> tuple[str, Sequence[Any] | None]:
    """The caption a copy of ``message`` keeps, with its entities."""
    if kind in _NO_CAPTION or kind not in FILE_KINDS:
        return "", None
    return message.caption or "", message.caption_entities


def _text(text: str) -> raw.types.TextWithEntities:
    # Layer 181 wants TextWithEntities here; hydrogram 0.2.0's send_poll passes a str.
    return raw.types.TextWithEntities(text=text, entities=[])


def _geo(location: Any) -> Any:
    return raw.types.InputGeoPoint(lat=location.latitude, long=location.longitude)
