"""Latency and failures the simulator injects: seeded random ones and scripted ones."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from bot.demo.simulator.model import SimRpcError

TransientKind = Literal["rpc", "timeout"]


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
    """

    def __init__(
        self,
        *,
        seed: int,
        latency_ms: float,
        latency_jitter_ms: float,
        transient_failure_rate: float,
        transient_error: TransientKind,
    ) -> None:
        if not 0.0 <= transient_failure_rate <= 1.0:
            raise ValueError(
                f"transient_failure_rate must be in [0, 1], got {transient_failure_rate}"
            )
        if latency_ms < 0 or latency_jitter_ms < 0:
            raise ValueError("latency_ms and latency_jitter_ms must be >= 0")
        if transient_error not in ("rpc", "timeout"):
            raise ValueError(f'transient_error must be "rpc" or "timeout", got {transient_error!r}')
        self._rng = random.Random(seed)
        self._latency = latency_ms / 1000
        self._jitter = latency_jitter_ms / 1000
        self._rate = transient_failure_rate
        self._transient_error = transient_error
        self._scripted: dict[int, _Scripted] = {}

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

    def scripted(self, chat_id: int) -> BaseException | None:
        """Consume and return the scripted failure for a send to ``chat_id``, if any."""
        entry = self._scripted.get(chat_id)
        if entry is None:
            return None
        if entry.remaining is not None:
            entry.remaining -= 1
            if entry.remaining == 0:
                del self._scripted[chat_id]
        return entry.failure
