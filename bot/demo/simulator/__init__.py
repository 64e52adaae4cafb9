"""A Telegram simulator at the MTProto seam, for tests, the demo and benchmarks.

``TelegramSimulator`` is a hydrogram ``Client`` that answers raw requests in memory, so
hydrogram's own request building and reply parsing run for real.
"""

from __future__ import annotations

from bot.simulator.limits import LimitRules
from bot.simulator.media import MEDIA_KINDS
from bot.simulator.model import CallbackAnswer, ReceivedMessage, SimRpcError, UserState
from bot.simulator.simulator import TelegramSimulator

__all__ = [
    "CallbackAnswer",
    "LimitRules",
    "MEDIA_KINDS",
    "ReceivedMessage",
    "SimRpcError",
    "TelegramSimulator",
    "UserState",
]
