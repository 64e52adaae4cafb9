"""Where a run's candidates come from: the ledger's leftovers, the audience, then sweeps.

The feed writes the audience snapshot into the ledger as pending while the
dispatcher is already claiming from it, keeps at most two batches of ids in
memory, and, once the dispatcher has drained everything, sweeps the ledger for
pending rows until a sweep finds none: no recipient is skipped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from bot.delivery.filters import dump_filter, load_filter

if TYPE_CHECKING:
    from bot.delivery.ports import Ports


class AudienceFeed:
    """Produces candidate recipients for one broadcast; run :meth:`produce` as a task.

    ``total`` counts the recipients in the snapshot; set it to the ledger's
    count before producing when resuming.
    """

    def __init__(self, ports: Ports, broadcast_id: str, batch: int, wake: asyncio.Event) -> None:
        self.p, self.bid, self.batch, self.wake = ports, broadcast_id, batch, wake
        self.candidates: deque[int] = deque()
        self.total = 0
        self.total_known = False
        self.exhausted = False
        self._waiting_for_drain = False
        self._drained = asyncio.Event()
        self._want_more = asyncio.Event()

    def take(self, count: int) -> list[int]:
        """Up to ``count`` candidates, oldest first."""
        taken = [self.candidates.popleft() for _ in range(min(count, len(self.candidates)))]
        self._want_more.set()
        return taken

    def drained(self) -> None:
        """The dispatcher holds nothing: let a waiting sweep go ahead."""
        if self._waiting_for_drain:
            self._drained.set()

    async def produce(self, doc: dict[str, Any]) -> None:
        """Offer every recipient that may still be pending, then finish."""
        self.total_known = bool(doc.get("snapshot_complete"))
        if doc.get("snapshot_started"):
            await self._offer_pending()
        if not self.total_known:
            await self._snapshot(await self._compiled(doc))
        while True:  # sweep until a pass over the ledger finds nothing pending
            self._drained.clear()
            self._waiting_for_drain = True
            self.wake.set()
            await self._drained.wait()
            self._waiting_for_drain = False
            if not await self._offer_pending():
                self.exhausted = True
                self.wake.set()
                return

    async def _offer_pending(self) -> int:
        found = 0
        async for ids in self.p.ledger.pending(self.bid, self.batch):
            found += len(ids)
            await self._offer(ids)
        return found

    async def _compiled(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The target with its filter, compiled from segment names once, when sending starts.

        The compiled filter is stored (as Extended JSON text: its operators cannot be
        field names) before any recipient is read, so a resumed run reads the same
        audience, not one shifted by the time of the resume.
        """
        target: dict[str, Any] = doc["target"]
        fields: dict[str, Any] = {"snapshot_started": True}
        if "segments" in target:
            if "compiled" not in target:
                now = self.p.wall_clock()
                compiled = dump_filter(self.p.compile_target(target, now))
                target = {**target, "compiled": compiled, "compiled_at": now}
                fields |= {"target.compiled": compiled, "target.compiled_at": now}
            target = {"filter": load_filter(target["compiled"])}
        await self.p.store.update(self.bid, fields)
        return target

    async def _snapshot(self, target: dict[str, Any]) -> None:
        async for ids in self._audience(target):
            self.total += await self.p.ledger.add_pending(self.bid, ids, self.p.wall_clock())
            await self._offer(ids)
        self.total_known = True
        await self.p.store.update(self.bid, {"snapshot_complete": True, "total_users": self.total})

    async def _audience(self, target: dict[str, Any]) -> AsyncIterator[list[int]]:
        if "user_ids" in target:
            ids: list[int] = list(dict.fromkeys(target["user_ids"]))
            for start in range(0, len(ids), self.batch):
                yield ids[start : start + self.batch]
            return
        async for chunk in self.p.users.stream_ids(target.get("filter", {}), self.batch):
            yield chunk

    async def _offer(self, ids: list[int]) -> None:
        while len(self.candidates) >= 2 * self.batch:
            self._want_more.clear()
            await self._want_more.wait()
        self.candidates.extend(ids)
        self.wake.set()
