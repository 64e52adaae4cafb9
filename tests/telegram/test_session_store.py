"""The session itself (data centre, auth key, user): its round trip in a file or in MongoDB,
the file's privacy, a session string to seed it, and where a store must be told to keep it."""

from __future__ import annotations

import base64
import stat
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hydrogram.storage import BaseStorage

from bot.storage.mongo import Database
from bot.telegram.session import MongoSessionStorage, session_storage

VALUES: dict[str, Any] = {
    "dc_id": 4,
    "api_id": 12345,
    "test_mode": False,
    "auth_key": bytes(range(256)),
    "user_id": 7_000_000_001,
    "is_bot": True,
}


def session_string() -> str:
    packed = struct.pack(BaseStorage.SESSION_STRING_FORMAT, *VALUES.values())
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


async def session_values(storage: BaseStorage) -> dict[str, Any]:
    return {name: await getattr(storage, name)() for name in VALUES}


@pytest.mark.parametrize("store", ["file", "mongo"])
async def test_the_session_round_trips(db: Database, tmp_path: Path, store: Any) -> None:
    first = session_storage("bot", db, store=store, session_dir=tmp_path)
    await first.open()
    assert await first.auth_key() is None  # hydrogram's test for a session to create
    for name, value in VALUES.items():
        await getattr(first, name)(value)
    await first.user_id(None)  # hydrogram sets None this way
    assert await first.user_id() is None
    await first.user_id(VALUES["user_id"])
    await first.save()
    await first.close()
    second = session_storage("bot", db, store=store, session_dir=tmp_path)
    await second.open()
    assert await session_values(second) == VALUES
    assert await second.date() > 0
    assert await second.export_session_string() == session_string()
    await second.close()
    await second.delete()
    third = session_storage("bot", db, store=store, session_dir=tmp_path)
    await third.open()
    assert await third.auth_key() is None
    await third.close()


async def test_the_session_file_is_private(db: Database, tmp_path: Path) -> None:
    made = session_storage("bot", db, session_dir=tmp_path / "sessions")
    await made.open()
    await made.auth_key(bytes(256))
    path = tmp_path / "sessions" / "bot.session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["bot.session.json"]  # no temporary left
    await made.close()


@pytest.mark.parametrize("store", ["file", "mongo"])
async def test_a_session_string_seeds_the_session(db: Database, tmp_path: Path, store: Any) -> None:
    seeded = session_storage(
        "bot", db, store=store, session_dir=tmp_path, session_string=session_string()
    )
    await seeded.open()
    assert await session_values(seeded) == VALUES
    await seeded.close()
    later = session_storage("bot", db, store=store, session_dir=tmp_path)
    await later.open()
    assert await later.export_session_string() == session_string()  # it was stored
    await later.close()
    with pytest.raises(ValueError, match="session string"):
        session_storage("bot", db, session_dir=tmp_path, session_string="not-a-session")


def test_a_session_store_needs_its_location(db: Database) -> None:
    with pytest.raises(ValueError, match="session_dir"):
        session_storage("bot", db)
    with pytest.raises(ValueError, match="sessions collection"):
        MongoSessionStorage("bot", db["telegram_peers"], store="mongo")
    with pytest.raises(ValueError, match="'file' or 'mongo'"):
        session_storage("bot", db, store="disk")  # type: ignore[arg-type]


ROOT = Path(__file__).resolve().parents[2]


async def test_session_files_are_ignored_by_git(db: Database, tmp_path: Path) -> None:
    """SESSION_DIR defaults to the checkout: neither the session file (an auth key, a
    credential) nor its temporary while saving may be committed by a ``git add .``."""
    made = session_storage("broadcast_manager", db, session_dir=tmp_path)
    await made.open()
    await made.auth_key(bytes(256))
    await made.close()
    assert not_ignored_by_git(tmp_path) == []


def not_ignored_by_git(folder: Path) -> list[str]:
    """The files of ``folder``, and the temporary a save renames over each, that this
    checkout's .gitignore would let ``git add`` take."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    names = [p.name for p in folder.iterdir()]
    names += [f".{name}.k3j_x9.tmp" for name in names]  # what _write_private writes first
    check = ["git", "check-ignore", "--no-index", "-q"]
    return [n for n in names if subprocess.run([*check, n], cwd=ROOT, check=False).returncode]
