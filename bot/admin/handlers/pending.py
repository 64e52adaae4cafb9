"""Waiting for an admin's next message: hydrogram 0.2.0 has no ``listen``/``ask``.

One entry per (chat, admin): the next message from that admin in that chat
within the timeout is the answer. Entries are plain data plus a timer task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.admin.commands import BroadcastRequest

Key = tuple[int, int]  # (chat id, user id)


@dataclass(slots=True)
class Pending:
    """A ``/broadcast`` (or preview) waiting for its content."""

    request: BroadcastRequest
    timer: asyncio.Task[None] | None = None


class PendingInputs:
    """The open questions of the bot, keyed by chat and admin."""

    def __init__(self) -> None:
        self._open: dict[Key, Pending] = {}

    def open(
        self,
        key: Key,
        request: BroadcastRequest,
        timeout_s: float,
        on_timeout: Callable[[], Awaitable[None]],
    ) -> None:
        """Wait for ``key``'s next message; after ``timeout_s`` call ``on_timeout`` once."""
        self.close(key)
        entry = Pending(request)

        async def expire() -> None:
            await asyncio.sleep(timeout_s)
            if self._open.get(key) is entry:
                del self._open[key]
                await on_timeout()

        entry.timer = asyncio.create_task(expire(), name=f"ask:{key}")
        self._open[key] = entry

    def take(self, key: Key) -> BroadcastRequest | None:
        """The request waiting for ``key``'s message, removed; None if nothing waits."""
        entry = self._open.pop(key, None)
        if entry is None:
            return None
        if entry.timer is not None:
            entry.timer.cancel()
        return entry.request

    def close(self, key: Key) -> bool:
        """Stop waiting for ``key``; whether anything was waiting."""
        return self.take(key) is not None

    def close_all(self) -> None:
        """Stop waiting for anyone (on shutdown)."""
        for key in list(self._open):
            self.close(key)
