"""How long sends take: recent round trips, summarised for the rate limiter (pure).

Telegram counts a send when it *arrives*; the limiter only decides when it
*leaves*. Between the two lies the latency, and what the limiter needs from the
latencies it has seen is two bounds: how early the next send can arrive at the
soonest (:attr:`LatencyEstimate.floor`), and how long a send with no answer yet
may still be on its way (:attr:`LatencyEstimate.bound`).
"""

from __future__ import annotations

from collections import deque

#: Below any floor: a send may leave a little sooner than its grant was timed
#: (event-loop timers, clock readings taken a few microseconds apart).
SLACK_S = 0.001


class LatencyEstimate:
    """Recent round-trip latencies (grant to answer), summarised as two bounds.

    * :attr:`floor`, a latency no send is expected to beat: the fastest recent
      sample, lowered by a margin, since a new send may well undercut every one
      seen. The margin is twice the gap between the fastest sample and the fastest
      tenth, plus :data:`SLACK_S`: the thinner the samples near the fastest, the
      wider it is (from uniform jitter, the fastest of 128 samples lies one
      sample-spacing above the true minimum on average, the margin about 24
      spacings below it). It is ``0.0`` (a send may arrive at once) until
      ``min_samples`` were seen: the fastest of a few samples says little.
    * :attr:`bound`, how long a send with no answer yet may still be on its way:
      twice the slowest recent sample (``0.0`` before any).

    Both are recomputed every ``every`` samples from the last ``size``; a sample
    below the floor lowers it at once, and one above half the bound raises it at once.
    Latencies are plain seconds: the caller measures them (no clock in here).
    """

    def __init__(self, size: int = 128, min_samples: int = 64, every: int = 16) -> None:
        if not 1 <= min_samples <= size or every < 1:
            raise ValueError("need 1 <= min_samples <= size and every >= 1")
        self._samples: deque[float] = deque(maxlen=size)
        self._min_samples = min_samples
        self._every = every
        self._since_summary = 0
        self._margin = 0.0
        #: Samples seen so far.
        self.count = 0
        #: Seconds no send is expected to beat (0.0 until enough samples).
        self.floor = 0.0
        #: Seconds an unanswered send may still be on its way (0.0 before any sample).
        self.bound = 0.0

    def add(self, latency_s: float) -> None:
        """Record one send's latency: seconds from its grant to its answer."""
        latency = max(0.0, latency_s)
        self._samples.append(latency)
        self.count += 1
        self._since_summary += 1
        if latency > self.bound / 2:
            self.bound = 2 * latency
        if self.count < self._min_samples:
            return
        if self._since_summary >= self._every or self.count == self._min_samples:
            self._summarise()
        elif latency - self._margin < self.floor:
            self.floor = max(0.0, latency - self._margin)

    def _summarise(self) -> None:
        ordered = sorted(self._samples)
        fastest = ordered[0]
        self._margin = 2 * (ordered[len(ordered) // 10] - fastest) + SLACK_S
        self.floor = max(0.0, fastest - self._margin)
        self.bound = 2 * ordered[-1]
        self._since_summary = 0
