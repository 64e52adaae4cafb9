"""The FloodWaits of a run, recorded on its broadcast for the report's chart.

Totals (``flood_waits``, ``flood_wait_seconds``) are kept by the run itself; this
keeps each episode, when Telegram answered FLOOD_WAIT and how long it asked for,
in the document's ``flood_wait_log`` (the latest few hundred).
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from bot.delivery.events import event

if TYPE_CHECKING:
    from bot.delivery.outage import OutageGuard
    from bot.delivery.ports import BroadcastStore

log = logging.getLogger(__name__)


class FloodLog:
    """FloodWaits a run met and has not recorded yet.

    Args:
        broadcast_id: The broadcast of the run.
        store: Where episodes are recorded.
        guard: The run's guard: an outage is waited out as for every write of the run.
    """

    def __init__(self, broadcast_id: str, store: BroadcastStore, guard: OutageGuard) -> None:
        self.bid, self.store, self.guard = broadcast_id, store, guard
        self.unwritten: list[tuple[datetime, float]] = []

    def add(self, at: datetime, seconds: float) -> None:
        """A FloodWait of ``seconds`` answered at ``at``."""
        self.unwritten.append((at, float(seconds)))

    async def write(self) -> None:
        """Record the episodes added since the last call.

        A failure (an outage past the run's limit, anything else) loses only these
        episodes, logged: the record is never worth stopping a run for.
        """
        if not self.unwritten:
            return
        batch, self.unwritten = self.unwritten, []
        try:
            await self.guard(partial(self.store.add_flood_waits, self.bid, batch))
        except Exception as error:
            lost = event("flood_wait.not_recorded", self.bid, count=len(batch), error=str(error))
            log.warning("%s: %d FloodWaits not recorded", self.bid, len(batch), extra=lost)
