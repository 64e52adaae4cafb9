"""Paid broadcasts: the four sending requests of MTProto layer 192, with ``allow_paid_floodskip``.

A bot may exceed its free ~30 messages per second, up to 1000, paying Telegram Stars
per message above the free amount (Bot API 7.11 ``allow_paid_broadcast``). In MTProto
that is the flag ``allow_paid_floodskip:flags.19?true`` of ``messages.sendMessage``,
``messages.sendMedia``, ``messages.sendMultiMedia`` and ``messages.forwardMessages``.
hydrogram 0.2.0 speaks layer 181, whose generated classes lack it; the classes here
are those four methods as layer 192 defines them, and :func:`paid_request` turns a
hydrogram request into its paid twin.

Where the definitions come from:

* Layer 192: ``compiler/api/source/main_api.tl`` of github.com/AmanoTeam/hydrogram at
  commit ``4b8f717d7531239da1687e15e6c58699a1b324d0``, a copy of tdesktop's
  ``Telegram/SourceFiles/mtproto/scheme/api.tl`` (its first line says so) ending in
  ``// LAYER 192``. The four lines are quoted in :data:`SCHEMA`.
* Layer 190, without the flag: the same file of github.com/5hojib/Electrogram at commit
  ``0ec21def12c9d3dd3720bc291d441e28879b342c`` (``// LAYER 190``). No layer-191 schema
  was found, so the flag came in layer 191 or 192.
* Later layers keep ``flags.19`` (e.g. the layer-211 and layer-218 definitions mirrored
  from core.telegram.org in phptgcalls/Bootstrapper and TakNone/Bootstrapper
  ``docs/method/messages.sendMessage.md``): "Bots only: if set, allows sending up to
  1000 messages per second, ignoring broadcasting limits for a fee of 0.1 Telegram
  Stars per message."

In layer 192 the four methods are layer 181's plus that one flag, and keep their
constructor ids: a constructor id is the CRC32 of its definition without the ``?true``
fields. So these requests are byte-for-byte hydrogram's with bit 19 of ``flags`` set,
every field type already exists in layer 181, and any ``TLObject`` given for an object
field is written as it is.

Not verified: the connection negotiates layer 181 (``InvokeWithLayer``), and whether
Telegram honours bit 19 on a layer-181 connection (or ignores it, or rejects the
request) cannot be checked here. Nothing in this module has been sent to Telegram.

These constructors are deliberately not registered in hydrogram's ``raw.objects``:
their ids are hydrogram's own, so registering would replace hydrogram's classes for the
whole process, and a client never reads these requests back anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any, ClassVar, Self

from hydrogram import raw
from hydrogram.raw.core import Int, Long, String, TLObject, Vector

#: The layer whose definitions these classes follow.
LAYER = 192
#: The bit of ``flags`` that asks for a paid broadcast.
PAID_FLOODSKIP_BIT = 19

#: The layer-192 definitions, verbatim (see the module docstring for the source).
SCHEMA = {
    "messages.sendMessage": (
        "messages.sendMessage#983f9745 flags:# no_webpage:flags.1?true silent:flags.5?true "
        "background:flags.6?true clear_draft:flags.7?true noforwards:flags.14?true "
        "update_stickersets_order:flags.15?true invert_media:flags.16?true "
        "allow_paid_floodskip:flags.19?true peer:InputPeer reply_to:flags.0?InputReplyTo "
        "message:string random_id:long reply_markup:flags.2?ReplyMarkup "
        "entities:flags.3?Vector<MessageEntity> schedule_date:flags.10?int "
        "send_as:flags.13?InputPeer quick_reply_shortcut:flags.17?InputQuickReplyShortcut "
        "effect:flags.18?long = Updates;"
    ),
    "messages.sendMedia": (
        "messages.sendMedia#7852834e flags:# silent:flags.5?true background:flags.6?true "
        "clear_draft:flags.7?true noforwards:flags.14?true update_stickersets_order:flags.15?true "
        "invert_media:flags.16?true allow_paid_floodskip:flags.19?true peer:InputPeer "
        "reply_to:flags.0?InputReplyTo media:InputMedia message:string random_id:long "
        "reply_markup:flags.2?ReplyMarkup entities:flags.3?Vector<MessageEntity> "
        "schedule_date:flags.10?int send_as:flags.13?InputPeer "
        "quick_reply_shortcut:flags.17?InputQuickReplyShortcut effect:flags.18?long = Updates;"
    ),
    "messages.sendMultiMedia": (
        "messages.sendMultiMedia#37b74355 flags:# silent:flags.5?true background:flags.6?true "
        "clear_draft:flags.7?true noforwards:flags.14?true update_stickersets_order:flags.15?true "
        "invert_media:flags.16?true allow_paid_floodskip:flags.19?true peer:InputPeer "
        "reply_to:flags.0?InputReplyTo multi_media:Vector<InputSingleMedia> "
        "schedule_date:flags.10?int send_as:flags.13?InputPeer "
        "quick_reply_shortcut:flags.17?InputQuickReplyShortcut effect:flags.18?long = Updates;"
    ),
    "messages.forwardMessages": (
        "messages.forwardMessages#d5039208 flags:# silent:flags.5?true background:flags.6?true "
        "with_my_score:flags.8?true drop_author:flags.11?true drop_media_captions:flags.12?true "
        "noforwards:flags.14?true allow_paid_floodskip:flags.19?true from_peer:InputPeer "
        "id:Vector<int> random_id:Vector<long> to_peer:InputPeer top_msg_id:flags.9?int "
        "schedule_date:flags.10?int send_as:flags.13?InputPeer "
        "quick_reply_shortcut:flags.17?InputQuickReplyShortcut = Updates;"
    ),
}

_WRITE: dict[str, Callable[[Any], bytes]] = {
    "int": Int,
    "long": Long,
    "string": String,
    "object": lambda value: bytes(value.write()),
    "objects": Vector,
    "ints": lambda value: Vector(value, Int),
    "longs": lambda value: Vector(value, Long),
}
_READ: dict[str, Callable[[BytesIO], Any]] = {
    "int": Int.read,
    "long": Long.read,
    "string": String.read,
    "object": TLObject.read,
    "objects": TLObject.read,
    "ints": lambda b: TLObject.read(b, Int),
    "longs": lambda b: TLObject.read(b, Long),
}


@dataclass(frozen=True, slots=True)
class Field:
    """One parameter of a definition, in wire order.

    Attributes:
        name: The parameter's name.
        kind: ``true`` (a bare flag) or a key of the readers and writers: ``int``,
            ``long``, ``string``, ``object`` (any boxed TL object), ``objects``
            (``Vector`` of boxed objects), ``ints``, ``longs``.
        bit: The bit of ``flags`` guarding it; None for a required parameter.
    """

    name: str
    kind: str
    bit: int | None = None

    def present(self, value: Any) -> bool:
        """Whether ``value`` sets the flag (an empty vector counts as absent)."""
        if self.kind == "true" or self.kind in ("objects", "ints", "longs"):
            return bool(value)
        return value is not None


def _flag(name: str, bit: int) -> Field:
    return Field(name, "true", bit)


_SEND_FLAGS = (
    _flag("silent", 5),
    _flag("background", 6),
    _flag("clear_draft", 7),
    _flag("noforwards", 14),
    _flag("update_stickersets_order", 15),
    _flag("invert_media", 16),
    _flag("allow_paid_floodskip", PAID_FLOODSKIP_BIT),
)
_SEND_TAIL = (
    Field("schedule_date", "int", 10),
    Field("send_as", "object", 13),
    Field("quick_reply_shortcut", "object", 17),
)
_MESSAGE_BODY = (
    Field("message", "string"),
    Field("random_id", "long"),
    Field("reply_markup", "object", 2),
    Field("entities", "objects", 3),
)
_PEER_AND_REPLY = (Field("peer", "object"), Field("reply_to", "object", 0))


class PaidRequest(TLObject):
    """A layer-192 request: fields by name, written and read in :attr:`FIELDS` order.

    Build it with keyword arguments named after the fields; bare flags default to
    False, optional fields to None, required fields must be given.

    Raises:
        TypeError: An unknown field, or a required one missing.
    """

    __slots__: list[str] = []
    ID: ClassVar[int]
    FIELDS: ClassVar[tuple[Field, ...]]

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - {f.name for f in self.FIELDS}
        if unknown:
            raise TypeError(f"{self.QUALNAME} has no field {', '.join(sorted(unknown))}")
        for field in self.FIELDS:
            if field.bit is None and field.name not in values:
                raise TypeError(f"{self.QUALNAME} needs {field.name}")
            default = False if field.kind == "true" else None
            setattr(self, field.name, values.get(field.name, default))

    @classmethod
    def read(cls, b: BytesIO, *args: Any) -> Self:
        """Parse the body that follows the constructor id, as hydrogram's ``read`` does."""
        flags = Int.read(b)
        values: dict[str, Any] = {}
        for field in cls.FIELDS:
            is_set = field.bit is None or bool(flags & (1 << field.bit))
            if field.kind == "true":
                values[field.name] = is_set
            elif is_set:
                values[field.name] = _READ[field.kind](b)
        return cls(**values)

    def write(self, *args: Any) -> bytes:
        """The request on the wire: constructor id, ``flags``, then the present fields."""
        present = [f for f in self.FIELDS if f.bit is None or f.present(getattr(self, f.name))]
        flags = sum(1 << f.bit for f in present if f.bit is not None)
        parts = [Int(self.ID, False), Int(flags)]
        parts += [_WRITE[f.kind](getattr(self, f.name)) for f in present if f.kind != "true"]
        return b"".join(parts)


class PaidSendMessage(PaidRequest):
    """``messages.sendMessage`` of layer 192; the result is ``Updates``."""

    FIELDS = (
        _flag("no_webpage", 1),
        *_SEND_FLAGS,
        *_PEER_AND_REPLY,
        *_MESSAGE_BODY,
        *_SEND_TAIL,
        Field("effect", "long", 18),
    )
    __slots__ = [f.name for f in FIELDS]
    ID = 0x983F9745
    QUALNAME = "functions.messages.SendMessage"


class PaidSendMedia(PaidRequest):
    """``messages.sendMedia`` of layer 192; the result is ``Updates``."""

    FIELDS = (
        *_SEND_FLAGS,
        *_PEER_AND_REPLY,
        Field("media", "object"),
        *_MESSAGE_BODY,
        *_SEND_TAIL,
        Field("effect", "long", 18),
    )
    __slots__ = [f.name for f in FIELDS]
    ID = 0x7852834E
    QUALNAME = "functions.messages.SendMedia"


class PaidSendMultiMedia(PaidRequest):
    """``messages.sendMultiMedia`` of layer 192; the result is ``Updates``."""

    FIELDS = (
        *_SEND_FLAGS,
        *_PEER_AND_REPLY,
        Field("multi_media", "objects"),
        *_SEND_TAIL,
        Field("effect", "long", 18),
    )
    __slots__ = [f.name for f in FIELDS]
    ID = 0x37B74355
    QUALNAME = "functions.messages.SendMultiMedia"


class PaidForwardMessages(PaidRequest):
    """``messages.forwardMessages`` of layer 192; the result is ``Updates``."""

    FIELDS = (
        _flag("silent", 5),
        _flag("background", 6),
        _flag("with_my_score", 8),
        _flag("drop_author", 11),
        _flag("drop_media_captions", 12),
        _flag("noforwards", 14),
        _flag("allow_paid_floodskip", PAID_FLOODSKIP_BIT),
        Field("from_peer", "object"),
        Field("id", "ints"),
        Field("random_id", "longs"),
        Field("to_peer", "object"),
        Field("top_msg_id", "int", 9),
        *_SEND_TAIL,
    )
    __slots__ = [f.name for f in FIELDS]
    ID = 0xD5039208
    QUALNAME = "functions.messages.ForwardMessages"


#: hydrogram's layer-181 request class -> its paid twin.
PAID_TWINS: dict[type[TLObject], type[PaidRequest]] = {
    raw.functions.messages.SendMessage: PaidSendMessage,
    raw.functions.messages.SendMedia: PaidSendMedia,
    raw.functions.messages.SendMultiMedia: PaidSendMultiMedia,
    raw.functions.messages.ForwardMessages: PaidForwardMessages,
}


def paid_request(request: TLObject) -> PaidRequest:
    """The paid twin of a hydrogram sending request: same field values, paid flag set.

    Field values are shared, not copied: the twin refers to the same peer, media and
    entity objects as ``request``.

    Args:
        request: A hydrogram ``SendMessage``, ``SendMedia``, ``SendMultiMedia`` or
            ``ForwardMessages``.

    Raises:
        TypeError: ``request`` is none of those.
    """
    twin = PAID_TWINS.get(type(request))
    if twin is None:
        raise TypeError(f"no paid form of {type(request).__name__}")
    values = {name: getattr(request, name) for name in type(request).__slots__}
    return twin(**values, allow_paid_floodskip=True)
