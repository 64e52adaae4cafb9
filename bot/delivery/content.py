"""What a broadcast sends: text, or a copy of an existing message or album.

Plain frozen values with structural validation and a stable document form for
MongoDB. Limits that need Telegram's entity parser (4096 characters of text,
1024 of caption, after parsing) are checked by the Telegram adapter's
``prepare``, which runs before the first send.

A text's formatting is either markup to parse (HTML, Markdown) or entities, as
the chat apps send bold, links or spoilers: :class:`TextEntity` values whose
offsets and lengths count UTF-16 code units, as Telegram's do (an emoji outside
the Basic Multilingual Plane counts 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from bot.delivery.errors import ContentError

MAX_TEXT = 4096
MAX_CAPTION = 1024
ALBUM_MIN, ALBUM_MAX = 2, 10
MAX_BUTTON_ROWS = 8
#: ``--react``: options of the reaction row, and the length of each.
REACTIONS_MIN, REACTIONS_MAX, MAX_REACTION = 2, 8, 16
_URL_SCHEMES = frozenset({"http", "https", "tg"})


class ParseMode(StrEnum):
    """How the text's markup is read; ``ENTITIES``: not at all, the entities format it."""

    HTML = "html"
    MARKDOWN = "markdown"
    PLAIN = "plain"
    ENTITIES = "entities"


#: Entities that format a text (hydrogram's ``MessageEntityType`` names, lower case).
FORMATTING_ENTITIES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "blockquote",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)
#: Entities Telegram finds by itself in what was typed: kept, but they format nothing.
DETECTED_ENTITIES = frozenset(
    {"mention", "hashtag", "cashtag", "url", "email", "phone_number", "bank_card"}
)
#: What a text entity is this one needs: ``text_link`` a URL, ``text_mention`` a user.
_ENTITY_NEEDS = {"text_link": "url", "text_mention": "user_id", "custom_emoji": "custom_emoji_id"}


def utf16_len(text: str) -> int:
    """The length of ``text`` as Telegram counts offsets: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class TextEntity:
    """One entity of a text: ``offset`` and ``length`` in UTF-16 code units.

    ``url`` belongs to a ``text_link``, ``user_id`` to a ``text_mention``, ``language``
    to a ``pre`` block, ``custom_emoji_id`` to a ``custom_emoji``.
    """

    type: str
    offset: int
    length: int
    url: str | None = None
    user_id: int | None = None
    language: str | None = None
    custom_emoji_id: int | None = None

    def __post_init__(self) -> None:
        if self.type not in FORMATTING_ENTITIES | DETECTED_ENTITIES:
            raise ContentError(f"unknown text entity {self.type!r}")
        if self.offset < 0 or self.length < 1:
            raise ContentError(f"a {self.type} entity at {self.offset} of length {self.length}")
        needed = _ENTITY_NEEDS.get(self.type)
        if needed is not None and getattr(self, needed) is None:
            raise ContentError(f"a {self.type} entity needs its {needed}")

    @property
    def end(self) -> int:
        """Where it ends, in UTF-16 code units (exclusive)."""
        return self.offset + self.length

    @property
    def formats(self) -> bool:
        """Whether it formats the text (bold, link...), rather than being found in it (a URL)."""
        return self.type in FORMATTING_ENTITIES

    def to_document(self) -> dict[str, Any]:
        """The MongoDB form: its fields, those unset left out."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not None}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> TextEntity:
        """Rebuild an entity stored by :meth:`to_document`."""
        return cls(**{f.name: doc[f.name] for f in fields(cls) if f.name in doc})


def entities_within(
    entities: Iterable[TextEntity], start: int, end: int | None = None
) -> tuple[TextEntity, ...]:
    """The parts of ``entities`` between ``start`` and ``end`` (UTF-16 units), moved so
    that ``start`` becomes 0: entities outside are dropped, those across a bound clipped."""
    inside = []
    for entity in entities:
        first = max(entity.offset, start)
        last = entity.end if end is None else min(entity.end, end)
        if last > first:
            inside.append(replace(entity, offset=first - start, length=last - first))
    return tuple(inside)


def shifted(entities: Iterable[TextEntity], by: int) -> tuple[TextEntity, ...]:
    """``entities`` moved ``by`` UTF-16 code units, for a text placed after ``by`` units."""
    return tuple(replace(entity, offset=entity.offset + by) for entity in entities)


def clipped(
    text: str, entities: Iterable[TextEntity], limit: int
) -> tuple[str, tuple[TextEntity, ...]]:
    """``text`` cut to ``limit`` characters with an ellipsis, and its entities with it."""
    if len(text) <= limit:
        return text, tuple(entities)
    kept = text[: limit - 1]
    return kept + "…", entities_within(entities, 0, utf16_len(kept))


@dataclass(frozen=True, slots=True)
class UrlButton:
    """An inline button that opens a URL."""

    text: str
    url: str

    def __post_init__(self) -> None:
        if not self.text.strip() or len(self.text) > 64:
            raise ContentError(f"button text must be 1-64 characters, got {self.text!r}")
        try:
            parts = urlsplit(self.url)
        except ValueError as error:  # e.g. "Invalid IPv6 URL"
            raise ContentError(f"button URL is malformed: {self.url!r} ({error})") from error
        if parts.scheme not in _URL_SCHEMES or not (parts.netloc or parts.path):
            raise ContentError(f"button URL must be http(s):// or tg://, got {self.url!r}")


@dataclass(frozen=True, slots=True)
class Delivery:
    """Options shared by every kind of content.

    ``reactions``: the labels of a row of buttons under the message, each user's
    choice counted (``--react``); the row takes one of the keyboard's rows.
    """

    buttons: tuple[tuple[UrlButton, ...], ...] = ()
    silent: bool = False
    protect: bool = False
    reactions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        rows = MAX_BUTTON_ROWS - (1 if self.reactions else 0)
        if len(self.buttons) > rows or any(not 1 <= len(r) <= 8 for r in self.buttons):
            raise ContentError(f"buttons: at most {rows} rows of 1-8 buttons")
        if self.reactions:
            check_reactions(self.reactions)


def check_reactions(options: tuple[str, ...]) -> None:
    """Raise :class:`ContentError` unless ``options`` are 2-8 distinct labels of 1-16
    characters, without surrounding spaces."""
    if not REACTIONS_MIN <= len(options) <= REACTIONS_MAX:
        raise ContentError(
            f"reactions: {REACTIONS_MIN}-{REACTIONS_MAX} options, got {len(options)}"
        )
    for option in options:
        if not option or option != option.strip() or len(option) > MAX_REACTION:
            raise ContentError(
                f"reactions: each option is 1-{MAX_REACTION} characters, got {option!r}"
            )
    if len(set(options)) != len(options):
        raise ContentError("reactions: the options must differ")


@dataclass(frozen=True, slots=True)
class TextContent:
    """A text message, with markup read as ``parse_mode``, or formatted by ``entities``
    (``parse_mode`` :attr:`ParseMode.ENTITIES`: the text is sent as it is)."""

    text: str
    parse_mode: ParseMode = ParseMode.HTML
    options: Delivery = field(default_factory=Delivery)
    entities: tuple[TextEntity, ...] = ()

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ContentError("the message text is empty")
        if self.entities and self.parse_mode is not ParseMode.ENTITIES:
            raise ContentError(f"entities come with parse mode entities, not {self.parse_mode}")
        size = utf16_len(self.text)
        if any(entity.end > size for entity in self.entities):
            raise ContentError(f"an entity goes past the end of the text ({size} UTF-16 units)")


@dataclass(frozen=True, slots=True)
class CopyContent:
    """A copy (or, with ``forward``, a forward) of a message or an album in ``from_chat_id``.

    ``message_ids`` holds one id for a single message, or every id of an album.
    """

    from_chat_id: int
    message_ids: tuple[int, ...]
    forward: bool = False
    options: Delivery = field(default_factory=Delivery)

    def __post_init__(self) -> None:
        count = len(self.message_ids)
        if count == 0 or any(i <= 0 for i in self.message_ids):
            raise ContentError("a copy needs the id of at least one existing message")
        if count > 1 and not ALBUM_MIN <= count <= ALBUM_MAX:
            raise ContentError(f"an album has {ALBUM_MIN}-{ALBUM_MAX} items, got {count}")
        if count > 1 and (self.options.buttons or self.options.reactions):
            raise ContentError("Telegram does not allow buttons on an album")

    @property
    def is_album(self) -> bool:
        """Whether this copies an album as one unit."""
        return len(self.message_ids) > 1


Content = TextContent | CopyContent


def content_to_document(content: Content) -> dict[str, Any]:
    """The MongoDB form of ``content``."""
    options = content.options
    doc: dict[str, Any] = {
        "buttons": [[{"text": b.text, "url": b.url} for b in row] for row in options.buttons],
        "silent": options.silent,
        "protect": options.protect,
    }
    if options.reactions:  # absent otherwise: older documents have none either
        doc["reactions"] = list(options.reactions)
    if isinstance(content, TextContent):
        if content.entities:  # absent otherwise: older documents have none either
            doc["entities"] = [entity.to_document() for entity in content.entities]
        return {"type": "text", "text": content.text, "parse_mode": content.parse_mode.value, **doc}
    return {
        "type": "copy",
        "from_chat_id": content.from_chat_id,
        "message_ids": list(content.message_ids),
        "forward": content.forward,
        **doc,
    }


def content_from_document(doc: dict[str, Any]) -> Content:
    """Rebuild content stored by :func:`content_to_document`."""
    options = Delivery(
        buttons=tuple(
            tuple(UrlButton(b["text"], b["url"]) for b in row) for row in doc.get("buttons", [])
        ),
        silent=bool(doc.get("silent", False)),
        protect=bool(doc.get("protect", False)),
        reactions=tuple(str(option) for option in doc.get("reactions") or ()),
    )
    if doc["type"] == "text":
        entities = tuple(TextEntity.from_document(e) for e in doc.get("entities") or ())
        return TextContent(doc["text"], ParseMode(doc["parse_mode"]), options, entities)
    if doc["type"] == "copy":
        ids = tuple(int(i) for i in doc["message_ids"])
        return CopyContent(int(doc["from_chat_id"]), ids, bool(doc.get("forward")), options)
    raise ContentError(f"unknown content type {doc['type']!r}")
