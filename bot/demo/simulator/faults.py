"""Latency and failures the simulator injects: seeded random ones and scripted ones."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from bot.demo.simulator.model import SimRpcError

TransientKind = Literal["rpc", "timeout"]
#: How the answer to a delivered message is lost: hydrogram's ``TimeoutError`` (no answer in
#: time), a connection reset, Telegram's ``-503 Timeout`` or a ``500`` after the fact.
LostKind = Literal["timeout", "reset", "-503", "500"]
LOST_KINDS: tuple[LostKind, ...] = ("timeout", "reset", "-503", "500")


@dataclass(slots=True)
class _Scripted:
    failure: BaseException
    remaining: int | None


class FaultPlan:
    """Decides, deterministically from a seed, how slow each request is and which sends fail.

    Args:
        seed: Seed of the private ``random.Random`` (latency jitter and transient failures).
        latency_ms: Delay of every request.
        latency_jitter_ms: Each delay is drawn uniformly in ``latency_ms +/- jitter``.
        transient_failure_rate: Probability in [0, 1] that a send fails on the server side.
        transient_error: ``"rpc"`` answers ``500 RPC_CALL_FAIL`` (hydrogram raises
            ``RpcCallFail``, an ``InternalServerError``); ``"timeout"`` raises
            ``TimeoutError("Request timed out")`` as hydrogram's session does.
        lost_answer_rate: Probability in [0, 1] that a delivered message's answer is
            lost: the message is in the chat, the client sees a failure.
        lost_answer_kinds: The failures a lost answer shows as, one drawn at random.
    """

    def __init__(
        self,
        *,
        seed: int,
        latency_ms: float,
        latency_jitter_ms: float,
        transient_failure_rate: float,
        transient_error: TransientKind,
        lost_answer_rate: float = 0.0,
        lost_answer_kinds: tuple[LostKind, ...] = LOST_KINDS,
    ) -> None:
        if not 0.0 <= transient_failure_rate <= 1.0:
            raise ValueError(
                f"transient_failure_rate must be in [0, 1], got {transient_failure_rate}"
            )
        if not 0.0 <= lost_answer_rate <= 1.0:
            raise ValueError(f"lost_answer_rate must be in [0, 1], got {lost_answer_rate}")
        if not lost_answer_kinds or not set(lost_answer_kinds) <= set(LOST_KINDS):
            raise ValueError(f"lost_answer_kinds must be some of {LOST_KINDS}")
        if latency_ms < 0 or latency_jitter_ms < 0:
            raise ValueError("latency_ms and latency_jitter_ms must be >= 0")
        if transient_error not in ("rpc", "timeout"):
            raise ValueError(f'transient_error must be "rpc" or "timeout", got {transient_error!r}')
        self._rng = random.Random(seed)
        self._latency = latency_ms / 1000
        self._jitter = latency_jitter_ms / 1000
        self._rate = transient_failure_rate
        self._transient_error = transient_error
        #: Scripted failures by chat id (sends) or by request name (any request).
        self._scripted: dict[int | str, _Scripted] = {}
        self.lost_answer_rate = lost_answer_rate
        self._lost_kinds = lost_answer_kinds
        #: Answers lost so far (each a delivered message the client saw fail).
        self.lost_answers = 0
        #: Chats whose next send is delivered but answered ``updatesTooLong`` (no ids).
        self.too_long: set[int] = set()

    def delay(self) -> float:
        """Return the seconds the next request takes on the wire (0 means no sleep)."""
        if not self._jitter:
            return self._latency
        return max(0.0, self._latency + self._rng.uniform(-self._jitter, self._jitter))

    def transient(self) -> BaseException | None:
        """Roll the dice for one send; return the failure to raise, if any."""
        if not self._rate or self._rng.random() >= self._rate:
            return None
        if self._transient_error == "timeout":
            return TimeoutError("Request timed out")
        return SimRpcError(500, "RPC_CALL_FAIL")

    def lost_answer(self) -> BaseException | None:
        """Roll the dice for one delivered send: the failure its client sees instead, if any."""
        if not self.lost_answer_rate or self._rng.random() >= self.lost_answer_rate:
            return None
        self.lost_answers += 1
        kind = self._rng.choice(self._lost_kinds)
        if kind == "timeout":
            return TimeoutError("Request timed out")
        if kind == "reset":
            return ConnectionResetError("Connection reset by peer")
        if kind == "-503":
            return SimRpcError(-503, "Timeout")
        return SimRpcError(500, "INTERNAL_SERVER_ERROR")

    def fail_next(
        self,
        chat_id: int,
        *,
        error_message: str = "MESSAGE_TOO_LONG",
        error_code: int = 400,
        exception: BaseException | None = None,
        times: int | None = 1,
    ) -> None:
        """Script the next ``times`` sends to ``chat_id`` (None: all) to fail.

        The failure is ``exception`` if given, else the RPC error ``error_code error_message``.
        """
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times}")
        failure = exception if exception is not None else SimRpcError(error_code, error_message)
        self._scripted[chat_id] = _Scripted(failure, times)

    def fail_next_request(
        self,
        name: str,
        *,
        error_message: str,
        error_code: int,
        times: int | None = 1,
    ) -> None:
        """Script the next ``times`` requests named ``name`` (``"users.GetUsers"``) to fail."""
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times}")
        self._scripted[name] = _Scripted(SimRpcError(error_code, error_message), times)

    def scripted(self, key: int | str) -> BaseException | None:
        """Consume and return the scripted failure for a send to the chat ``key`` or for a
        request named ``key``, if any."""
        entry = self._scripted.get(key)
        if entry is None:
            return None
        if entry.remaining is not None:
            entry.remaining -= 1
            if entry.remaining == 0:
                del self._scripted[key]
        return entry.failure
