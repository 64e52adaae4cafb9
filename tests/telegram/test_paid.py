"""Paid-broadcast requests: their bytes against the layer-192 schema, and the factory.

Expected bytes are built here, independently of ``bot.telegram.paid``: by hand from
the schema lines, and by a small TL encoder that reads the quoted lines themselves.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
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
    paid_request,
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


# --- bytes against the schema -------------------------------------------------------------


def test_send_message_bytes_by_hand() -> None:
    minimal = PaidSendMessage(peer=USER, message="Hello", random_id=42)
    assert minimal.write() == (head(0x983F9745, 0) + USER.write() + String("Hello") + Long(42))
    full = PaidSendMessage(**BY_NAME["messages.sendMessage"].full(), allow_paid_floodskip=True)
    flags = bits(1, 5, 6, 7, 14, 15, 16, 19, 0, 2, 3, 10, 13, 17, 18)
    assert full.write() == (
        head(0x983F9745, flags)
        + USER.write()
        + REPLY.write()
        + String("Hello")
        + Long(42)
        + MARKUP.write()
        + Vector(BOLD)
        + Int(1_900_000_000)
        + CHANNEL.write()
        + SHORTCUT.write()
        + Long(5_000_000_001)
    )


def test_send_media_bytes_by_hand() -> None:
    minimal = PaidSendMedia(peer=USER, media=PHOTO, message="Caption", random_id=-42)
    assert minimal.write() == (
        head(0x7852834E, 0) + USER.write() + PHOTO.write() + String("Caption") + Long(-42)
    )
    full = PaidSendMedia(**BY_NAME["messages.sendMedia"].full(), allow_paid_floodskip=True)
    flags = bits(5, 6, 7, 14, 15, 16, 19, 0, 2, 3, 10, 13, 17, 18)
    assert full.write() == (
        head(0x7852834E, flags)
        + USER.write()
        + REPLY.write()
        + PHOTO.write()
        + String("Caption")
        + Long(-42)
        + MARKUP.write()
        + Vector(BOLD)
        + Int(1_900_000_000)
        + CHANNEL.write()
        + SHORTCUT.write()
        + Long(7)
    )


def test_send_multi_media_bytes_by_hand() -> None:
    minimal = PaidSendMultiMedia(peer=USER, multi_media=ALBUM)
    assert minimal.write() == head(0x37B74355, 0) + USER.write() + Vector(ALBUM)
    full = PaidSendMultiMedia(
        **BY_NAME["messages.sendMultiMedia"].full(), allow_paid_floodskip=True
    )
    flags = bits(5, 6, 7, 14, 15, 16, 19, 0, 10, 13, 17, 18)
    assert full.write() == (
        head(0x37B74355, flags)
        + USER.write()
        + REPLY.write()
        + Vector(ALBUM)
        + Int(1_900_000_000)
        + CHANNEL.write()
        + SHORTCUT.write()
        + Long(8)
    )


def test_forward_messages_bytes_by_hand() -> None:
    ids, randoms = [10, 11], [-1, 2**62]
    minimal = PaidForwardMessages(from_peer=CHANNEL, id=ids, random_id=randoms, to_peer=USER)
    assert minimal.write() == (
        head(0xD5039208, 0)
        + CHANNEL.write()
        + Vector(ids, Int)
        + Vector(randoms, Long)
        + USER.write()
    )
    full = PaidForwardMessages(
        **BY_NAME["messages.forwardMessages"].full(), allow_paid_floodskip=True
    )
    flags = bits(5, 6, 8, 11, 12, 14, 19, 9, 10, 13, 17)
    assert full.write() == (
        head(0xD5039208, flags)
        + CHANNEL.write()
        + Vector(ids, Int)
        + Vector(randoms, Long)
        + USER.write()
        + Int(3)
        + Int(1_900_000_000)
        + CHANNEL.write()
        + SHORTCUT.write()
    )


@each_method
def test_fields_are_the_schema_parameters(method: Method) -> None:
    _, params = parse(method.line)
    assert list(method.paid.__slots__) == [name for name, _, _ in params]


@each_method
def test_each_optional_field_alone_matches_the_schema_line(method: Method) -> None:
    _, params = parse(method.line)
    samples = {**method.optional, "allow_paid_floodskip": True}
    for name, bit, _ in params:
        if bit is None:
            continue
        values = {**method.required, name: samples[name]}
        assert method.paid(**values).write() == encode(method.line, values), name


@each_method
def test_paid_flag_sets_bit_19_and_nothing_else(method: Method) -> None:
    free = method.paid(**method.full()).write()
    paid = method.paid(**method.full(), allow_paid_floodskip=True).write()
    assert paid[:4] == free[:4]
    assert paid[8:] == free[8:]
    assert Int.read(BytesIO(paid[4:8])) ^ Int.read(BytesIO(free[4:8])) == 1 << 19


@each_method
@pytest.mark.parametrize("fullness", ["required only", "every field"])
def test_read_of_write_round_trips(method: Method, fullness: str) -> None:
    values = method.required if fullness == "required only" else method.full()
    sent = method.paid(**values, allow_paid_floodskip=True)
    data = BytesIO(sent.write())
    assert Int.read(data, False) == method.paid.ID
    back = method.paid.read(data)
    assert data.read() == b""
    assert type(back) is method.paid
    assert normal(back) == normal(sent)


def test_an_empty_entity_list_is_written_as_absent() -> None:
    # hydrogram's own write would emit the vector without setting its flag.
    with_empty = PaidSendMessage(peer=USER, message="Hello", random_id=1, entities=[])
    assert with_empty.write() == PaidSendMessage(peer=USER, message="Hello", random_id=1).write()


def test_unknown_or_missing_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="no field allow_paid_stars"):
        PaidSendMessage(peer=USER, message="x", random_id=1, allow_paid_stars=5)
    with pytest.raises(TypeError, match="needs random_id"):
        PaidSendMessage(peer=USER, message="x")


# --- constructor ids ------------------------------------------------------------------------


@each_method
def test_constructor_ids_are_layer_181s_because_true_flags_are_not_hashed(method: Method) -> None:
    constructor, _ = parse(method.line)
    assert tl_constructor_id(method.line) == constructor == method.paid.ID
    # Layer 181's definition is this one without the flag, and hashes to the same id.
    layer_181 = method.line.replace(" allow_paid_floodskip:flags.19?true", "")
    assert tl_constructor_id(layer_181) == method.free.ID == method.paid.ID


@each_method
def test_hydrogram_keeps_its_own_classes_and_reads_paid_bytes_without_the_flag(
    method: Method,
) -> None:
    objects: dict[int, Any] = raw.objects
    assert objects[method.paid.ID] is method.free
    paid = method.paid(**method.full(), allow_paid_floodskip=True)
    as_hydrogram_reads_it = TLObject.read(BytesIO(paid.write()))
    assert type(as_hydrogram_reads_it) is method.free
    assert "allow_paid_floodskip" not in method.free.__slots__


# --- the factory ----------------------------------------------------------------------------


@each_method
@pytest.mark.parametrize("fullness", ["required only", "every field"])
def test_factory_copies_every_field_and_sets_the_flag(method: Method, fullness: str) -> None:
    values = method.required if fullness == "required only" else method.full()
    free = method.free(**values)
    paid = paid_request(free)
    assert type(paid) is method.paid
    assert set(paid.__slots__) - set(free.__slots__) == {"allow_paid_floodskip"}
    for name in free.__slots__:
        assert getattr(paid, name) is getattr(free, name), name
    assert paid.allow_paid_floodskip is True  # type: ignore[attr-defined]
    free_bytes, paid_bytes = free.write(), paid.write()
    assert paid_bytes[8:] == free_bytes[8:]
    assert Int.read(BytesIO(paid_bytes[4:8])) == Int.read(BytesIO(free_bytes[4:8])) | 1 << 19


def test_factory_refuses_other_requests() -> None:
    with pytest.raises(TypeError, match="no paid form of EditMessage"):
        paid_request(raw.functions.messages.EditMessage(peer=USER, id=1))


async def test_a_paid_broadcast_goes_past_the_free_limit_in_the_simulator() -> None:
    from bot.app import Tuning, build_core
    from bot.delivery.content import TextContent
    from bot.delivery.service import Audience
    from bot.demo.simulator import TelegramSimulator
    from bot.storage.inmemory import in_memory_database

    async def broadcast(paid: bool) -> tuple[int, int]:
        sim = TelegramSimulator(telegram_limit=30, chat_burst=100)
        await sim.start()
        try:
            users = list(range(100, 250))
            sim.add_users(users)
            db = in_memory_database()
            await db["users"].insert_many([{"user_id": u} for u in users])
            core = build_core(db, sim, Tuning(rate=150, concurrency=32, paid=paid))
            bid = await core.service.create(TextContent("Hi"), Audience(query={}), admin_id=1)
            await core.service.start(bid)
            summary = await core.service.run(bid)
            return summary.sent, sim.flood_waits
        finally:
            await sim.stop()

    paid_sent, paid_floods = await broadcast(paid=True)
    free_sent, free_floods = await broadcast(paid=False)
    assert (paid_sent, paid_floods) == (150, 0)  # 150 msg/s is within the paid 1000
    assert free_sent == 150
    assert free_floods > 0  # the same rate without the flag trips the free 30 msg/s
