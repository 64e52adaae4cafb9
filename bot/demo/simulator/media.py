"""Photos and documents the simulator created, so a file id maps back to the full object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hydrogram import raw

from bot.demo.simulator.model import SentFile, SimRpcError, access_hash_for

MEDIA_KINDS = ("photo", "video", "document", "audio", "voice", "animation", "sticker", "video_note")
#: Kinds that ``copy_media_group`` can copy (and so may appear in albums).
ALBUM_KINDS = frozenset({"photo", "video", "document", "audio"})

Media = raw.types.MessageMediaPhoto | raw.types.MessageMediaDocument
_DC_ID = 2


def _video(round_message: bool = False) -> raw.types.DocumentAttributeVideo:
    side = 240 if round_message else 640
    return raw.types.DocumentAttributeVideo(
        duration=5.0, w=side, h=side if round_message else 360, round_message=round_message or None
    )


def _attributes(kind: str) -> tuple[str, list[raw.base.DocumentAttribute]]:
    """Return the mime type and the attributes hydrogram reads to tell ``kind`` apart."""
    name = raw.types.DocumentAttributeFilename
    table: dict[str, tuple[str, list[raw.base.DocumentAttribute]]] = {
        "video": ("video/mp4", [_video(), name(file_name="video.mp4")]),
        "document": ("application/pdf", [name(file_name="file.pdf")]),
        "audio": (
            "audio/mpeg",
            [
                raw.types.DocumentAttributeAudio(duration=30, title="Song", performer="Band"),
                name(file_name="song.mp3"),
            ],
        ),
        "voice": ("audio/ogg", [raw.types.DocumentAttributeAudio(duration=3, voice=True)]),
        "animation": (
            "video/mp4",
            [raw.types.DocumentAttributeAnimated(), _video(), name(file_name="anim.mp4")],
        ),
        "sticker": (
            "image/webp",
            [
                raw.types.DocumentAttributeSticker(
                    alt="\U0001f642", stickerset=raw.types.InputStickerSetEmpty()
                ),
                raw.types.DocumentAttributeImageSize(w=512, h=512),
            ],
        ),
        "video_note": ("video/mp4", [_video(round_message=True)]),
    }
    return table[kind]


class MediaRegistry:
    """Creates photos and documents; resolves the ``InputPhoto``/``InputDocument`` of file ids."""

    def __init__(self) -> None:
        self._photos: dict[int, raw.types.Photo] = {}
        self._documents: dict[int, tuple[str, raw.types.Document]] = {}
        self._files: dict[int, SentFile] = {}
        self._next_id = 5_000_000_000_000_000_001

    def create(self, kind: str, date: int) -> Media:
        """Create a file of ``kind`` (one of :data:`MEDIA_KINDS`); return its message media."""
        if kind not in MEDIA_KINDS:
            raise ValueError(f"unknown media kind {kind!r}; expected one of {MEDIA_KINDS}")
        media_id = self._new_id()
        common: dict[str, Any] = {
            "id": media_id,
            "access_hash": access_hash_for(media_id),
            "file_reference": b"sim" + media_id.to_bytes(8, "big"),
            "date": date,
            "dc_id": _DC_ID,
        }
        if kind == "photo":
            size = raw.types.PhotoSize(type="x", w=800, h=600, size=48_000)
            self._photos[media_id] = raw.types.Photo(**common, sizes=[size])
            return self._photo_media(media_id)
        mime_type, attributes = _attributes(kind)
        document = raw.types.Document(
            **common, mime_type=mime_type, size=120_000, attributes=attributes
        )
        self._documents[media_id] = (kind, document)
        return self._document_media(media_id)

    def create_uploaded(self, file: SentFile, date: int) -> Media:
        """A document of the bytes the bot uploaded (kept: :meth:`file_of` returns them)."""
        media_id = self._new_id()
        document = raw.types.Document(
            id=media_id,
            access_hash=access_hash_for(media_id),
            file_reference=b"sim" + media_id.to_bytes(8, "big"),
            date=date,
            dc_id=_DC_ID,
            mime_type=file.mime_type,
            size=len(file.data),
            attributes=[raw.types.DocumentAttributeFilename(file_name=file.name)],
        )
        self._documents[media_id] = ("document", document)
        self._files[media_id] = file
        return self._document_media(media_id)

    def file_of(self, media: raw.base.MessageMedia | None) -> SentFile | None:
        """The uploaded file a message carries, if it carries one."""
        if isinstance(media, raw.types.MessageMediaDocument) and media.document is not None:
            return self._files.get(media.document.id)
        return None

    def _new_id(self) -> int:
        media_id = self._next_id
        self._next_id += 1
        return media_id

    def resolve(self, media: raw.base.InputMedia) -> tuple[str, Media]:
        """Map the input media of a send back to ``(kind, message media)``.

        Raises:
            SimRpcError: 400 MEDIA_EMPTY for a file the simulator did not create.
            NotImplementedError: For uploads, URLs and other input media.
        """
        if isinstance(media, raw.types.InputMediaPhoto):
            ref = media.id
            if isinstance(ref, raw.types.InputPhoto) and self._known(ref, self._photos):
                return "photo", self._photo_media(ref.id)
        elif isinstance(media, raw.types.InputMediaDocument):
            doc = media.id
            if isinstance(doc, raw.types.InputDocument) and self._known(doc, self._documents):
                return self._documents[doc.id][0], self._document_media(doc.id)
        else:
            raise NotImplementedError(
                f"TelegramSimulator only sends files it created, not {type(media).__name__}"
            )
        raise SimRpcError(400, "MEDIA_EMPTY")

    def kind_of(self, media: raw.base.MessageMedia | None) -> str | None:
        """Return the media kind of a stored message's media, None for a text message."""
        if isinstance(media, raw.types.MessageMediaPhoto):
            return "photo"
        if isinstance(media, raw.types.MessageMediaDocument) and media.document is not None:
            entry = self._documents.get(media.document.id)
            return entry[0] if entry else "document"
        return None

    @staticmethod
    def _known(
        ref: raw.types.InputPhoto | raw.types.InputDocument, table: Mapping[int, object]
    ) -> bool:
        return ref.id in table and ref.access_hash == access_hash_for(ref.id)

    def _photo_media(self, media_id: int) -> raw.types.MessageMediaPhoto:
        return raw.types.MessageMediaPhoto(photo=self._photos[media_id])

    def _document_media(self, media_id: int) -> raw.types.MessageMediaDocument:
        kind, document = self._documents[media_id]
        return raw.types.MessageMediaDocument(
            document=document,
            video=kind in ("video", "video_note") or None,
            round=kind == "video_note" or None,
            voice=kind == "voice" or None,
        )
