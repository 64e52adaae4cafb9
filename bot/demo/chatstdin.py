"""What the admin types in the interactive demo, read from stdin without blocking the loop."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable

from bot.demo import chatinput as typed


async def stdin_lines() -> AsyncIterator[str]:
    """Lines typed on stdin, read by a daemon thread so Ctrl-C never waits on a read."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    read_line = _line_reader()

    def read() -> None:
        while True:
            try:
                line = read_line()
            except (EOFError, OSError):
                line = None
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the chat is over and its loop closed
                return
            if line is None or line.strip() == typed.QUIT:
                return

    threading.Thread(target=read, name="demo-chat-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


def _line_reader() -> Callable[[], str | None]:
    """``input`` on a terminal (line editing); elsewhere a stream of its own on stdin's fd.

    A daemon thread blocked reading a pipe through ``sys.stdin`` holds its lock, and
    the interpreter aborts at exit when it cannot take it; a separate stream avoids that.
    """
    if sys.stdin.isatty():
        return input
    stream = os.fdopen(os.dup(sys.stdin.fileno()), encoding="utf-8", errors="replace")

    def read() -> str | None:
        line = stream.readline()
        return line.removesuffix("\n") if line else None

    return read
