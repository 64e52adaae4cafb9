"""Paid-broadcast requests: their bytes against the layer-192 schema.

Expected bytes are built independently of ``bot.telegram.paid``: by hand from the
schema lines, and by the small TL encoder of ``paid_kit`` that reads the quoted lines.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from hydrogram.raw.core import Int, Long, String, Vector

from bot.telegram.paid import (
    PaidForwardMessages,
    PaidSendMedia,
    PaidSendMessage,
    PaidSendMultiMedia,
)
from tests.telegram.paid_kit import (
    ALBUM,
    BOLD,
    BY_NAME,
    CHANNEL,
    MARKUP,
    PHOTO,
    REPLY,
    SHORTCUT,
    USER,
    Method,
    bits,
    each_method,
    encode,
    head,
    normal,
    parse,
)


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
