"""``python -m bot run`` starting without Telegram: one clear line and an exit, never a hang.

Telegram is made unreachable by pointing hydrogram's data centre at a local port:
a closed one (connections refused) or a listener that never answers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import hydrogram.connection.connection
import pytest
from hydrogram.storage import BaseStorage
from pymongo.errors import ServerSelectionTimeoutError

from bot.admin.standalone import StartError, reach_database, start_client
from bot.app import broadcast_client
from bot.storage.mongo import Database
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {
    "API_ID": "12345",
    "API_HASH": "0123456789abcdef0123456789abcdef",
    "BOT_TOKEN": "123456:" + "T" * 35,
    "ADMIN_IDS": "1",
}
# hydrogram, pointed at a closed local port, and told to give up at the first refusal
# (by itself it retries for about 20 s, which start_client also bounds: see below).
UNREACHABLE = """
import socket, sys
import hydrogram.connection.connection as connection
from hydrogram.session.auth import Auth
probe = socket.socket(); probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]; probe.close()
connection.DataCenter = lambda *args: ("127.0.0.1", port)
connection.Connection.MAX_CONNECTION_ATTEMPTS = 1
Auth.MAX_RETRIES = 0
import contextlib, bot.admin.standalone as standalone  # MongoDB is fine here: the in-memory one
from bot.storage.inmemory import in_memory_database
@contextlib.asynccontextmanager
async def in_memory(settings):
    yield in_memory_database()
standalone.open_database = in_memory
from bot.__main__ import main
sys.exit(main(["run"]))
"""


def test_run_without_telegram_exits_with_one_line(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    env = {**os.environ, **CREDENTIALS, "SESSION_DIR": str(sessions), "ADMIN_IDS": "1000001"}
    env.pop("SESSION_STRING", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", UNREACHABLE],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("cannot start the bot: Telegram could not be reached: ")
    assert "check the network" in line
    assert set(sessions.glob("*")) <= {sessions / "broadcast_manager.session.json"}
    assert not list((ROOT / "bot").glob("*.session"))


@pytest.fixture
async def silent_telegram(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """A listener that accepts connections and never answers, as hydrogram's data centre."""
    stop = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await stop.wait()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(
        hydrogram.connection.connection, "DataCenter", lambda *args: ("127.0.0.1", port)
    )
    yield
    stop.set()
    for writer in writers:  # every accepted connection closed, none left to the collector
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    server.close()
    await server.wait_closed()


@pytest.mark.usefixtures("silent_telegram")
async def test_a_telegram_that_never_answers_is_given_up_after_the_timeout(
    tmp_path: Path, db: Database
) -> None:
    before = set(threading.enumerate())
    client = broadcast_client(Settings.for_tests(session_dir=str(tmp_path)), db)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(
        StartError, match=r"Telegram did not answer within 0\.3\d* s; check the network"
    ):
        await start_client(client, timeout_s=0.3)

    assert loop.time() - started < 2
    for thread in set(threading.enumerate()) - before:  # the session storage's: closed
        if thread.name.startswith(("asyncio_", "in-memory-mongodb")):
            continue  # the loop's executor (shut down by asyncio.run), the test's database
        thread.join(timeout=2)
        assert thread.daemon or not thread.is_alive(), thread


async def test_the_session_file_lives_in_session_dir(tmp_path: Path, db: Database) -> None:
    client = broadcast_client(Settings.for_tests(session_dir=str(tmp_path / "state")), db)
    await client.storage.open()
    await client.storage.auth_key(bytes(256))
    await client.storage.close()
    session = tmp_path / "state" / "broadcast_manager.session.json"
    assert session.is_file()
    assert session.stat().st_mode & 0o777 == 0o600  # the auth key is a credential
    assert not list((ROOT / "bot").glob("*.session*"))


async def test_a_session_string_in_mongo_keeps_nothing_on_disk(
    tmp_path: Path, db: Database
) -> None:
    values = (2, 12345, False, bytes(range(256)), 7_000_000_001, True)
    packed = struct.pack(BaseStorage.SESSION_STRING_FORMAT, *values)
    session = base64.urlsafe_b64encode(packed).decode().rstrip("=")
    settings = Settings.for_tests(
        session_dir=str(tmp_path / "unused"), session_string=session, session_store="mongo"
    )
    client = broadcast_client(settings, db)
    await client.storage.open()
    assert await client.storage.auth_key() == bytes(range(256))
    await client.storage.close()
    assert not (tmp_path / "unused").exists()
    assert await db["telegram_sessions"].count_documents({"_id": "broadcast_manager"}) == 1


class DownDatabase:
    """Where MongoDB should be: refusing (as PyMongo reports it), or never answering."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer

    async def command(self, name: str) -> dict[str, Any]:
        if self.answer:
            raise ServerSelectionTimeoutError(
                "mongodb://user:secret@10.0.0.5:27017: [Errno 111] Connection refused"
            )
        await asyncio.Event().wait()
        return {}


@pytest.mark.parametrize("answer", [True, False], ids=["refused", "silent"])
async def test_an_unreachable_mongodb_is_one_clear_line(answer: bool) -> None:
    with pytest.raises(StartError) as stopped:
        await reach_database(DownDatabase(answer), timeout_s=0.2)
    assert str(stopped.value).startswith("MongoDB could not be reached within 0.2 s")
    assert "secret" not in str(stopped.value)
    assert "10.0.0.5" not in str(stopped.value)
