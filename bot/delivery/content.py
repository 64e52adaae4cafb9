"""What a broadcast sends: text, or a copy of an existing message or album.

Plain frozen values with structural validation and a stable document form for
MongoDB. Limits that need Telegram's entity parser (4096 characters of text,
1024 of caption, after parsing) are checked by the Telegram adapter's
``prepare``, which runs before the first send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from bot.delivery.errors import ContentError

MAX_TEXT = 4096
MAX_CAPTION = 1024
ALBUM_MIN, ALBUM_MAX = 2, 10
MAX_BUTTON_ROWS = 8
_URL_SCHEMES = frozenset({"http", "https", "tg"})


class ParseMode(StrEnum):
    """How the text's markup is read."""

    HTML = "html"
    MARKDOWN = "markdown"
    PLAIN = "plain"


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
    """Options shared by every kind of content."""

    buttons: tuple[tuple[UrlButton, ...], ...] = ()
    silent: bool = False
    protect: bool = False

    def __post_init__(self) -> None:
        if len(self.buttons) > MAX_BUTTON_ROWS or any(not 1 <= len(r) <= 8 for r in self.buttons):
            raise ContentError(f"buttons: at most {MAX_BUTTON_ROWS} rows of 1-8 buttons")


@dataclass(frozen=True, slots=True)
class TextContent:
    """A text message, with markup read as ``parse_mode``."""

    text: str
    parse_mode: ParseMode = ParseMode.HTML
    options: Delivery = field(default_factory=Delivery)

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ContentError("the message text is empty")


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
        if count > 1 and self.options.buttons:
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
    if isinstance(content, TextContent):
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
    )
    if doc["type"] == "text":
        return TextContent(doc["text"], ParseMode(doc["parse_mode"]), options)
    if doc["type"] == "copy":
        ids = tuple(int(i) for i in doc["message_ids"])
        return CopyContent(int(doc["from_chat_id"]), ids, bool(doc.get("forward")), options)
    raise ContentError(f"unknown content type {doc['type']!r}")
