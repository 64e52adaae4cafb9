"""Files the bot uploads: ``upload.SaveFilePart`` / ``SaveBigFilePart`` parts, assembled
when a ``messages.SendMedia`` names them (``InputMediaUploadedDocument``).

hydrogram's ``save_file`` opens a media ``Session`` of its own for an upload, not the
client's: :func:`install` makes that session, for a simulated client only, one that
answers from the simulated world like the client's own. Everything else of
``save_file`` (parts of 512 KiB, the MD5 of a small file, ``InputFile``) and of
``send_document`` is hydrogram's code, run for real.

Checked as Telegram checks them: every part of ``parts`` present
(``FILE_PART_<n>_MISSING``, which hydrogram answers by uploading that part again),
parts of at most 512 KiB (``FILE_PART_TOO_BIG``), the MD5 of a small file
(``MD5_CHECKSUM_INVALID``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from hydrogram import raw
from hydrogram.methods.advanced import save_file as save_file_module

from bot.demo.simulator.model import SentFile, SimRpcError

#: The largest part Telegram accepts (and the size hydrogram cuts files into).
PART_MAX = 512 * 1024
#: Parts of one file at most (``upload.saveBigFilePart``: 4000 parts of 512 KiB).
PARTS_MAX = 4000


class UploadedParts:
    """Parts received per ``file_id``, until a send uses them."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[int, bytes]] = {}

    def save(self, file_id: int, part: int, data: bytes) -> bool:
        """Keep one part (a part sent again replaces it); True, as Telegram answers.

        Raises:
            SimRpcError: A part too big, or a part number out of range.
        """
        if len(data) > PART_MAX:
            raise SimRpcError(400, "FILE_PART_TOO_BIG")
        if not 0 <= part < PARTS_MAX:
            raise SimRpcError(400, "FILE_PART_INVALID")
        if not data:
            raise SimRpcError(400, "FILE_PART_EMPTY")
        self._parts.setdefault(file_id, {})[part] = data
        return True

    def take(self, file: raw.base.InputFile) -> bytes:
        """The bytes of an uploaded file, whose parts are then forgotten.

        Raises:
            SimRpcError: A part missing (``FILE_PART_<n>_MISSING``), a wrong MD5, or
                another kind of input file.
        """
        if not isinstance(file, raw.types.InputFile | raw.types.InputFileBig):
            raise SimRpcError(400, "FILE_ID_INVALID")
        parts = self._parts.get(file.id, {})
        missing = next((n for n in range(file.parts) if n not in parts), None)
        if missing is not None:
            raise SimRpcError(400, f"FILE_PART_{missing}_MISSING")
        data = b"".join(parts[n] for n in range(file.parts))
        md5 = file.md5_checksum if isinstance(file, raw.types.InputFile) else ""
        if md5 and hashlib.md5(data).hexdigest() != md5:
            raise SimRpcError(400, "MD5_CHECKSUM_INVALID")
        del self._parts[file.id]
        return data


def uploaded_file(uploads: UploadedParts, media: raw.types.InputMediaUploadedDocument) -> SentFile:
    """The document a send names by its uploaded parts: name, mime type and bytes."""
    data = uploads.take(media.file)
    name = next(
        (
            a.file_name
            for a in media.attributes or ()
            if isinstance(a, raw.types.DocumentAttributeFilename)
        ),
        getattr(media.file, "name", None) or "file",
    )
    return SentFile(name, media.mime_type, data)


class _MediaSessions:
    """Stands where ``save_file`` builds its media session: the simulated one a client has
    (``session_for``), else hydrogram's own ``Session``."""

    def __init__(self, real: type[Any], session_for: Callable[[Any], Any | None]) -> None:
        self.real, self.session_for = real, session_for

    def __call__(self, client: Any, *args: Any, **kwargs: Any) -> Any:
        return self.session_for(client) or self.real(client, *args, **kwargs)


def install(session_for: Callable[[Any], Any | None]) -> None:
    """Make hydrogram's ``save_file`` upload through ``session_for(client)`` when it returns
    a session (a simulated client), through hydrogram's ``Session`` otherwise. Idempotent."""
    module: Any = save_file_module  # its Session is hydrogram's, imported by name
    current = module.Session
    real = current.real if isinstance(current, _MediaSessions) else current
    module.Session = _MediaSessions(real, session_for)
