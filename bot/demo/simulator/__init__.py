"""A Telegram simulator at the MTProto seam, for tests, the demo and benchmarks.

``TelegramSimulator`` is a hydrogram ``Client`` that answers raw requests in memory, so
hydrogram's own request building and reply parsing run for real. Documents the bot
uploads (``send_document``) arrive whole: :attr:`ReceivedMessage.file` holds their name,
mime type and bytes.

May import: only hydrogram and :mod:`bot.demo.simulator`: it models Telegram, not us.
"""

from __future__ import annotations

from bot.demo.simulator.limits import LimitRules
from bot.demo.simulator.media import MEDIA_KINDS
from bot.demo.simulator.model import (
    CallbackAnswer,
    ReceivedMessage,
    SeenEntity,
    SentFile,
    SimRpcError,
    UserState,
)
from bot.demo.simulator.simulator import TelegramSimulator

__all__ = [
    "CallbackAnswer",
    "LimitRules",
    "MEDIA_KINDS",
    "ReceivedMessage",
    "SeenEntity",
    "SentFile",
    "SimRpcError",
    "TelegramSimulator",
    "UserState",
]
