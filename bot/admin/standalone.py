"""The standalone bot (``python -m bot run``): reach MongoDB and Telegram, then :func:`serve`.

Each start-up failure ends in one :class:`StartError` line saying what could not be
reached and what to check, never a traceback or a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import hydrogram
from hydrogram.errors import RPCError
from pymongo.errors import PyMongoError

from bot.admin.install import install
from bot.app import broadcast_client, open_database
from bot.delivery.events import event
from bot.ops.logs import configure_logging, secrets_of
from bot.storage.mongo import Database
from config.settings import Settings

log = logging.getLogger(__name__)
#: How long ``python -m bot run`` waits for Telegram before it gives up with one line.
CONNECT_TIMEOUT_S = 20.0


class StartError(Exception):
    """The standalone bot could not start: Telegram unreachable, or refusing the bot."""


async def serve(settings: Settings, *, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Run the standalone bot until interrupted (Ctrl-C); the caller checks credentials.

    Logging goes to stderr, one line per event at ``LOG_LEVEL``, secrets masked
    (:mod:`bot.ops.logs`).

    Raises:
        StartError: Telegram could not be reached within ``connect_timeout_s``, or
            refused the bot.
    """
    configure_logging(settings.log_level, secrets_of(settings))
    if not settings.admin_ids:
        log.warning(
            "ADMIN_IDS is empty: only users with role 'admin' can use the bot",
            extra=event("config.no_admins"),
        )
    async with open_database(settings) as db:
        await reach_database(db, connect_timeout_s)
        client = broadcast_client(settings, db)
        await start_client(client, connect_timeout_s)
        try:
            bot = await install(client, db, settings, all_callbacks=True, record_users=True)
            try:
                await hydrogram.idle()  # type: ignore[no-untyped-call]
            finally:
                await bot.stop()
        finally:
            await client.stop()


async def reach_database(db: Database, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Ping MongoDB first: unreachable, it would hold the start up with nothing said.

    Raises:
        StartError: No answer within ``timeout_s`` (host and credentials never shown).
    """
    try:
        async with asyncio.timeout(timeout_s):
            await db.command("ping")
    except (TimeoutError, PyMongoError) as error:
        reason = "no answer" if isinstance(error, TimeoutError) else type(error).__name__
        raise StartError(
            f"MongoDB could not be reached within {timeout_s:g} s ({reason}); "
            "check MONGO_URI and that the server is running"
        ) from None


async def start_client(client: hydrogram.Client, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Start ``client``, or close what it opened and raise :class:`StartError`.

    hydrogram retries an unreachable Telegram for about 20 s (forever once it has a
    session), logging a warning per attempt, and when it gives up leaves its session
    storage open: aiosqlite's thread would keep the process alive. Here the attempts
    are counted instead of logged and the outcome is one error.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    attempts = _ConnectAttempts()
    chatter = logging.getLogger("hydrogram.connection.connection")
    chatter.addFilter(attempts)
    try:
        async with asyncio.timeout(timeout_s):
            await client.start()
    except BaseException as error:
        await _abandon(client)
        if isinstance(error, OSError | TimeoutError):  # ConnectionError is an OSError
            raise StartError(attempts.outcome(loop.time() - started)) from None
        if isinstance(error, RPCError):
            raise StartError(f"Telegram refused to start the bot: {error}") from None
        if isinstance(error, Exception):  # e.g. a proxy answering what is not MTProto
            raise StartError(
                f"Telegram's answer could not be read ({type(error).__name__}: {error}); "
                "is a proxy or a captive portal between this machine and Telegram?"
            ) from None
        raise
    finally:
        chatter.removeFilter(attempts)


class _ConnectAttempts(logging.Filter):
    """Counts hydrogram's "Unable to connect" warnings while the bot starts, and drops them."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = 0
        self.last: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep everything but warnings, which are counted."""
        if record.levelno != logging.WARNING:
            return True
        if record.args and str(record.msg).startswith("Unable to connect"):
            self.failed += 1
            self.last = str(record.args[0] if isinstance(record.args, tuple) else record.args)
        return False

    def outcome(self, elapsed_s: float) -> str:
        """The line that tells why the start failed."""
        advice = "check the network, a firewall or a proxy"
        if not self.failed:
            return f"Telegram did not answer within {elapsed_s:.2g} s; {advice}"
        attempts = "1 connection attempt" if self.failed == 1 else f"{self.failed} attempts"
        return (
            f"Telegram could not be reached: {attempts} failed in {elapsed_s:.2g} s "
            f"(last: {self.last}); {advice}"
        )


async def _abandon(client: hydrogram.Client) -> None:
    """Stop what a failed start left running: the session's tasks and the storage."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5):
            session = getattr(client, "session", None)  # set once connect() got that far
            if session is not None:
                with contextlib.suppress(Exception):
                    await session.stop()
            await client.storage.close()
