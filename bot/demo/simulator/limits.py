"""Telegram's flood control as the simulator enforces it (pure: the clock is passed in).

Rules (``now`` comes from the simulator's injected clock):

* **Global**: at most ``per_second`` messages in any sliding 1-second window, bot-wide.
  Every message counts, so an album of n items counts n. A request larger than the
  whole budget is allowed only into an empty window.
* **Per chat**: at most ``chat_burst`` send *requests* to one chat in any sliding
  ``chat_window`` seconds (default 3 in 3 s: about 1/s with a small burst). An album
  or a multi-message forward is one request here, as Telegram accepts a 10-item
  album to one chat.
* A send that breaks a rule is answered ``FLOOD_WAIT_X`` with X the whole seconds
  (at least 1) until the rule allows it, and a *flood period* of X seconds starts:
  global for a global breach, for that chat only for a per-chat breach. Every send
  in a flood period is answered ``FLOOD_WAIT_<remaining seconds>``.
* Answered sends count (delivered or failed with a user error); sends answered with
  FLOOD_WAIT do not.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

_EPSILON = 1e-9
#: What paid broadcasts allow (Bot API 7.11: up to 1000 messages per second, for Stars).
PAID_PER_SECOND = 1000


@dataclass(frozen=True, slots=True)
class LimitRules:
    """The limits of one bot.

    Args:
        per_second: Messages per sliding second, bot-wide (30 by default, up to 1000
            with paid broadcasts).
        chat_burst: Send requests allowed to one chat per ``chat_window``.
        chat_window: Seconds of the per-chat window.
    """

    per_second: int = 30
    chat_burst: int = 3
    chat_window: float = 3.0

    def __post_init__(self) -> None:
        if not 1 <= self.per_second <= 1000:
            raise ValueError(f"telegram_limit must be in 1..1000, got {self.per_second}")
        if self.chat_burst < 1 or self.chat_window <= 0:
            raise ValueError(
                f"chat_burst must be >= 1 and chat_window > 0, got "
                f"{self.chat_burst} and {self.chat_window}"
            )


def _whole_seconds(delay: float) -> int:
    return max(1, math.ceil(delay - _EPSILON))


class FloodControl:
    """Sliding-window counters and flood periods; answers "how long must this send wait"."""

    def __init__(self, rules: LimitRules) -> None:
        self.rules = rules
        self._global: deque[tuple[float, int]] = deque()
        self._global_count = 0
        self._global_until = -math.inf
        self._chats: dict[int, list[float]] = {}
        self._chat_until: dict[int, float] = {}
        self._sweep_at = 1024

    def wait_for(self, chat_id: int, count: int, now: float, *, paid: bool = False) -> int:
        """Return 0 if ``count`` messages may go to ``chat_id`` now, else the FLOOD_WAIT seconds.

        A non-zero answer starts (or continues) a flood period. A ``paid`` send (the
        request carries ``allow_paid_floodskip``) may fill the window up to
        :data:`PAID_PER_SECOND` instead of the bot's free limit.
        """
        until = max(self._global_until, self._chat_until.get(chat_id, -math.inf))
        if until > now:
            return _whole_seconds(until - now)
        limit = max(self.rules.per_second, PAID_PER_SECOND) if paid else self.rules.per_second
        wait = self._global_wait(count, now, limit)
        if wait:
            self._global_until = now + wait
            return wait
        wait = self._chat_wait(chat_id, now)
        if wait:
            self._chat_until[chat_id] = now + wait
        return wait

    def record(self, chat_id: int, count: int, now: float) -> None:
        """Count an answered request of ``count`` messages to ``chat_id``."""
        self._global.append((now, count))
        self._global_count += count
        self._chats.setdefault(chat_id, []).append(now)
        if len(self._chats) >= self._sweep_at:
            self._sweep(now)

    def _global_wait(self, count: int, now: float, limit: int) -> int:
        window = self._global
        while window and window[0][0] <= now - 1.0:
            self._global_count -= window.popleft()[1]
        excess = self._global_count + count - limit
        if excess <= 0 or not window:
            return 0
        freed = 0
        for sent_at, sent in window:
            freed += sent
            if freed >= excess:
                return _whole_seconds(sent_at + 1.0 - now)
        return _whole_seconds(window[-1][0] + 1.0 - now)

    def _chat_wait(self, chat_id: int, now: float) -> int:
        times = self._chats.get(chat_id)
        if not times:
            return 0
        horizon = now - self.rules.chat_window
        while times and times[0] <= horizon:
            times.pop(0)
        if len(times) < self.rules.chat_burst:
            return 0
        return _whole_seconds(times[-self.rules.chat_burst] + self.rules.chat_window - now)

    def _sweep(self, now: float) -> None:
        """Forget chats idle for a whole window, so memory follows active chats only."""
        horizon = now - self.rules.chat_window
        self._chats = {c: t for c, t in self._chats.items() if t and t[-1] > horizon}
        self._chat_until = {c: u for c, u in self._chat_until.items() if u > now}
        self._sweep_at = max(1024, 2 * len(self._chats))
