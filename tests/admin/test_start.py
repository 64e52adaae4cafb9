"""``python -m bot run`` starting without Telegram: one clear line and an exit, never a hang.

Telegram is made unreachable by pointing hydrogram's data centre at a local port:
a closed one (connections refused) or a listener that never answers.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import hydrogram.connection.connection
import pytest

from bot.admin.install import StartError, start_client
from bot.app import broadcast_client
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
    assert (sessions / "broadcast_manager.session").is_file()
    assert not list((ROOT / "bot").glob("*.session"))


@pytest.fixture
async def silent_telegram(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """A listener that accepts connections and never answers, as hydrogram's data centre."""
    stop = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await stop.wait()
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(
        hydrogram.connection.connection, "DataCenter", lambda *args: ("127.0.0.1", port)
    )
    yield
    stop.set()
    server.close()
    await server.wait_closed()


@pytest.mark.usefixtures("silent_telegram")
async def test_a_telegram_that_never_answers_is_given_up_after_the_timeout(
    tmp_path: Path,
) -> None:
    before = set(threading.enumerate())
    client = broadcast_client(Settings.for_tests(session_dir=str(tmp_path)))
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(
        StartError, match=r"Telegram did not answer within 0\.3\d* s; check the network"
    ):
        await start_client(client, timeout_s=0.3)

    assert loop.time() - started < 2
    for thread in set(threading.enumerate()) - before:  # the session storage's: closed
        thread.join(timeout=2)
        assert thread.daemon or not thread.is_alive(), thread


async def test_the_session_file_lives_in_session_dir(tmp_path: Path) -> None:
    client = broadcast_client(Settings.for_tests(session_dir=str(tmp_path / "state")))
    assert client.storage.database == tmp_path / "state" / "broadcast_manager.session"
    await client.storage.open()
    await client.storage.close()
    assert (tmp_path / "state" / "broadcast_manager.session").is_file()


async def test_a_session_string_keeps_nothing_on_disk(tmp_path: Path) -> None:
    session = "A" * 362  # well-formed; never used to connect here
    settings = Settings.for_tests(session_dir=str(tmp_path / "unused"), session_string=session)
    client = broadcast_client(settings)
    assert client.storage.database == ":memory:"
    assert client.storage.session_string == session
    assert not (tmp_path / "unused").exists()
