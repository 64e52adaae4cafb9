"""Where a hydrogram session's values live: a private file, or a MongoDB document.

The values are hydrogram's ``sessions`` row: ``dc_id``, ``api_id``, ``test_mode``,
``auth_key``, ``date``, ``user_id``, ``is_bot``. The auth key is a credential:
whoever holds it is the bot. The file is written whole to a temporary file
(mode 0600) and renamed over the old one, so a crash leaves the old or the new
session, never half of one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Literal, Protocol

from hydrogram.storage import BaseStorage

from bot.storage.mongo import Collection

SessionStoreKind = Literal["file", "mongo"]
FIELDS = ("dc_id", "api_id", "test_mode", "auth_key", "date", "user_id", "is_bot")
#: A session nobody logged in with yet, as hydrogram's SQLite storage creates it.
FRESH: dict[str, Any] = dict.fromkeys(FIELDS) | {"dc_id": 2, "date": 0}
FILE_SUFFIX = ".session.json"


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = enum.auto()


#: hydrogram calls ``storage.user_id(None)`` to *set* None: "no value" needs its own marker.
UNSET = Unset.UNSET


class SessionValues(Protocol):
    """Loads and saves one session's values."""

    async def load(self) -> dict[str, Any] | None:
        """The stored values, or None if there is no session yet."""

    async def save(self, values: dict[str, Any]) -> None:
        """Store ``values`` (every field), replacing what was stored."""

    async def delete(self) -> None:
        """Remove the stored session (nothing happens if there is none)."""


class SessionFile:
    """The session in ``<directory>/<name>.session.json``, readable by its owner only (0600).

    File I/O runs on a worker thread, off the event loop.
    """

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / f"{name}{FILE_SUFFIX}"

    async def load(self) -> dict[str, Any] | None:
        """The stored values, or None if the file does not exist."""
        text = await asyncio.to_thread(_read_text, self.path)
        if text is None:
            return None
        values = json.loads(text)
        if values.get("auth_key") is not None:
            values["auth_key"] = base64.b64decode(values["auth_key"])
        return {name: values.get(name) for name in FIELDS}

    async def save(self, values: dict[str, Any]) -> None:
        """Replace the file with ``values``, atomically."""
        data = {name: values.get(name) for name in FIELDS}
        if data["auth_key"] is not None:
            data["auth_key"] = base64.b64encode(data["auth_key"]).decode()
        text = json.dumps(data, indent=1)
        await asyncio.to_thread(_write_private, self.path, text.encode())

    async def delete(self) -> None:
        """Remove the file."""
        await asyncio.to_thread(self.path.unlink, missing_ok=True)


class SessionDocument:
    """The session as the document ``_id = name`` of a collection (``telegram_sessions``).

    The auth key is stored as it is: whoever can read the collection can be the bot.
    """

    def __init__(self, collection: Collection, name: str) -> None:
        self.collection = collection
        self.name = name

    async def load(self) -> dict[str, Any] | None:
        """The stored values, or None if there is no document."""
        doc = await self.collection.find_one({"_id": self.name})
        if doc is None:
            return None
        values = {name: doc.get(name) for name in FIELDS}
        if values["auth_key"] is not None:
            values["auth_key"] = bytes(values["auth_key"])
        return values

    async def save(self, values: dict[str, Any]) -> None:
        """Replace the document with ``values``."""
        doc = {name: values.get(name) for name in FIELDS}
        await self.collection.replace_one({"_id": self.name}, doc, upsert=True)

    async def delete(self) -> None:
        """Remove the document."""
        await self.collection.delete_one({"_id": self.name})


def session_values_for(
    name: str, store: str, session_dir: str | Path | None, sessions: Collection | None
) -> SessionValues:
    """The session store ``store`` names, at ``session_dir`` or in ``sessions``.

    Raises:
        ValueError: An unknown ``store``, or one without its location.
    """
    if store == "file":
        if session_dir is None:
            raise ValueError("store='file' needs session_dir")
        return SessionFile(Path(session_dir), name)
    if store == "mongo":
        if sessions is None:
            raise ValueError("store='mongo' needs the sessions collection")
        return SessionDocument(sessions, name)
    raise ValueError(f"store must be 'file' or 'mongo', not {store!r}")


def parse_session_string(text: str) -> dict[str, Any]:
    """The values a hydrogram session string (``Client.export_session_string``) holds.

    Raises:
        ValueError: ``text`` is not a hydrogram session string.
    """
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        unpacked = struct.unpack(BaseStorage.SESSION_STRING_FORMAT, packed)
    except (binascii.Error, struct.error, ValueError) as error:
        raise ValueError(
            "not a hydrogram session string (as Client.export_session_string makes)"
        ) from error
    dc_id, api_id, test_mode, auth_key, user_id, is_bot = unpacked
    return {
        "dc_id": dc_id,
        "api_id": api_id,
        "test_mode": test_mode,
        "auth_key": auth_key,
        "date": 0,
        "user_id": user_id,
        "is_bot": is_bot,
    }


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _write_private(path: Path, data: bytes) -> None:
    """Write ``path`` as a new 0600 file renamed over the old one, fsynced (survives a crash)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
