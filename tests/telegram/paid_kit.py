"""What the paid-broadcast tests share: sample requests of the four methods, and a small TL
encoder that reads the quoted schema lines themselves, independent of ``bot.telegram.paid``."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hydrogram import raw
from hydrogram.raw.core import Int, Long, String, TLObject, Vector

from bot.telegram.paid import (
    SCHEMA,
    PaidForwardMessages,
    PaidRequest,
    PaidSendMedia,
    PaidSendMessage,
    PaidSendMultiMedia,
)

USER = raw.types.InputPeerUser(user_id=1234, access_hash=-5678)
CHANNEL = raw.types.InputPeerChannel(channel_id=99, access_hash=77)
REPLY = raw.types.InputReplyToMessage(reply_to_msg_id=321)
MARKUP = raw.types.ReplyInlineMarkup(
    rows=[
        raw.types.KeyboardButtonRow(
            buttons=[raw.types.KeyboardButtonUrl(text="Go", url="https://example.org")]
        )
    ]
)
BOLD: list[Any] = [raw.types.MessageEntityBold(offset=0, length=5)]
SHORTCUT = raw.types.InputQuickReplyShortcut(shortcut="promo")
PHOTO = raw.types.InputMediaPhoto(
    id=raw.types.InputPhoto(id=11, access_hash=22, file_reference=b"\x01\x02")
)
ALBUM = [
    raw.types.InputSingleMedia(media=PHOTO, random_id=501, message="one", entities=BOLD),
    raw.types.InputSingleMedia(media=PHOTO, random_id=502, message="two"),
]


def bits(*numbers: int) -> int:
    return sum(1 << n for n in numbers)


def head(constructor: int, flags: int) -> bytes:
    return Int(constructor, False) + Int(flags)


@dataclass(frozen=True)
class Method:
    """One of the four methods: its classes, schema line, and sample field values."""

    name: str
    free: Any  # hydrogram's layer-181 class
    paid: type[PaidRequest]
    required: dict[str, Any]
    optional: dict[str, Any]

    @property
    def line(self) -> str:
        return SCHEMA[self.name]

    def full(self) -> dict[str, Any]:
        return {**self.required, **self.optional}


SEND_FLAGS = dict.fromkeys(
    ("silent", "background", "clear_draft", "noforwards", "update_stickersets_order"), True
) | {"invert_media": True}
SEND_TAIL = {"schedule_date": 1_900_000_000, "send_as": CHANNEL, "quick_reply_shortcut": SHORTCUT}
BODY = {"reply_to": REPLY, "reply_markup": MARKUP, "entities": BOLD}

METHODS = [
    Method(
        "messages.sendMessage",
        raw.functions.messages.SendMessage,
        PaidSendMessage,
        {"peer": USER, "message": "Hello", "random_id": 42},
        {"no_webpage": True, **SEND_FLAGS, **BODY, **SEND_TAIL, "effect": 5_000_000_001},
    ),
    Method(
        "messages.sendMedia",
        raw.functions.messages.SendMedia,
        PaidSendMedia,
        {"peer": USER, "media": PHOTO, "message": "Caption", "random_id": -42},
        {**SEND_FLAGS, **BODY, **SEND_TAIL, "effect": 7},
    ),
    Method(
        "messages.sendMultiMedia",
        raw.functions.messages.SendMultiMedia,
        PaidSendMultiMedia,
        {"peer": USER, "multi_media": ALBUM},
        {**SEND_FLAGS, "reply_to": REPLY, **SEND_TAIL, "effect": 8},
    ),
    Method(
        "messages.forwardMessages",
        raw.functions.messages.ForwardMessages,
        PaidForwardMessages,
        {"from_peer": CHANNEL, "id": [10, 11], "random_id": [-1, 2**62], "to_peer": USER},
        {
            "silent": True,
            "background": True,
            "with_my_score": True,
            "drop_author": True,
            "drop_media_captions": True,
            "noforwards": True,
            "top_msg_id": 3,
            **SEND_TAIL,
        },
    ),
]
BY_NAME = {m.name: m for m in METHODS}
each_method = pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)


# --- an independent TL encoder, driven by the quoted schema line -------------------------

PARAM = re.compile(r"(\w+):(?:flags\.(\d+)\?)?(\S+)")


def parse(line: str) -> tuple[int, list[tuple[str, int | None, str]]]:
    """The constructor id and (name, flag bit or None, type) of each parameter of ``line``."""
    match = re.fullmatch(r"[\w.]+#([0-9a-f]+) flags:# (.*) = Updates;", line)
    assert match, line
    params = [(n, int(b) if b else None, t) for n, b, t in PARAM.findall(match[2])]
    return int(match[1], 16), params


def encode_value(tl_type: str, value: Any) -> bytes:
    plain: dict[str, Callable[[Any], bytes]] = {"int": Int, "long": Long, "string": String}
    if tl_type in plain:
        return plain[tl_type](value)
    if tl_type in ("Vector<int>", "Vector<long>"):
        return Vector(value, Int if tl_type == "Vector<int>" else Long)
    if tl_type.startswith("Vector<"):
        return Vector(value)
    return bytes(value.write())


def encode(line: str, values: dict[str, Any]) -> bytes:
    """``values`` serialised as ``line`` defines them (absent: None, False or missing)."""
    constructor, params = parse(line)
    given = {name: v for name, v in values.items() if v is not None and v is not False}
    flags = sum(1 << bit for name, bit, _ in params if bit is not None and name in given)
    body = [encode_value(t, given[n]) for n, _, t in params if t != "true" and n in given]
    return head(constructor, flags) + b"".join(body)


def normal(value: Any) -> Any:
    """``value`` as plain data, absent fields dropped.

    hydrogram reads an absent optional vector as ``[]`` and an absent flag as False where
    its constructors default to None; nested hydrogram objects can therefore not be
    compared with ``==`` (nor re-written: its ``write`` then emits the vector unflagged).
    """
    if isinstance(value, TLObject) and not isinstance(value, list):
        fields = {s: normal(getattr(value, s)) for s in value.__slots__}
        return type(value).__name__, {k: v for k, v in fields.items() if v not in (None, False, [])}
    if isinstance(value, list):
        return [normal(item) for item in value]
    return value


def tl_constructor_id(line: str) -> int:
    """CRC32 of the definition without its id and its ``?true`` fields (Telegram's rule)."""
    name, _, rest = line.rstrip(";").partition(" ")
    text = f"{name.split('#')[0]} {rest}".replace("<", " ").replace(">", "")
    return zlib.crc32(re.sub(r" \w+:flags\d*\.\d+\?true", "", text).encode())
