"""Where a run's candidates come from: the ledger's leftovers, the audience, then sweeps.

The feed writes the audience snapshot into the ledger as pending while the
dispatcher is already claiming from it, keeps at most two pages of ids in
memory, and, once the dispatcher has drained everything, sweeps the ledger for
pending rows until a sweep finds none: no recipient is skipped.

Every read is a page by an indexed key, a fresh query from the last key seen: no
cursor lives across a pause, a FloodWait or a failover. The snapshot's position
is saved on the broadcast after each page, so a resumed run continues it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from bot.delivery.errors import ErrorCategory, FloodWaitError, SendError
from bot.delivery.filters import dump_filter, load_filter
from bot.delivery.recipients import Skipped, sort_out

if TYPE_CHECKING:
    from bot.delivery.ports import Ports

T = TypeVar("T")
Guard = Callable[[Callable[[], Awaitable[T]]], Awaitable[T]]
#: Gets the sender ready for a batch of recipients; returns those Telegram does not know.
Resolve = Callable[[list[int]], Awaitable[list[int]]]
#: Attempts to resolve a batch before its recipients are left to resolve one by one.
RESOLVE_ATTEMPTS = 5


class AudienceFeed:
    """Produces candidate recipients for one broadcast; run :meth:`produce` as a task.

    ``total`` counts the recipients in the ledger; set it to the ledger's count
    before producing when resuming. ``skipped`` counts audience entries that are
    not user ids. ``guard`` runs every database operation (waiting out outages).
    ``resolve``, when set, gets the sender ready for each batch before it is offered
    (a cold session learns its recipients in bulk); the ids it reports unknown to
    Telegram go to :attr:`unknown` instead of the candidates.
    """

    def __init__(
        self, ports: Ports, broadcast_id: str, batch: int, wake: asyncio.Event, guard: Guard[Any]
    ) -> None:
        self.p, self.bid, self.batch, self.wake, self.db = ports, broadcast_id, batch, wake, guard
        self.candidates: deque[int] = deque()
        self.unknown: deque[int] = deque()
        #: The audience counted when sending started, until the snapshot has the real total.
        self.expected: int | None = None
        self.resolve: Resolve | None = None
        self.total = 0
        self.total_known = False
        self.exhausted = False
        self.skipped = Skipped()
        self._waiting_for_drain = False
        self._drained = asyncio.Event()
        self._want_more = asyncio.Event()

    def take(self, count: int) -> list[int]:
        """Up to ``count`` candidates, oldest first."""
        taken = [self.candidates.popleft() for _ in range(min(count, len(self.candidates)))]
        self._want_more.set()
        return taken

    def take_unknown(self) -> list[int]:
        """Every recipient found unknown to Telegram so far."""
        taken = list(self.unknown)
        self.unknown.clear()
        return taken

    def drained(self) -> None:
        """The dispatcher holds nothing: let a waiting sweep go ahead."""
        if self._waiting_for_drain:
            self._drained.set()

    async def produce(self, doc: dict[str, Any]) -> None:
        """Offer every recipient that may still be pending, then finish."""
        self.total_known = bool(doc.get("snapshot_complete"))
        self.skipped = Skipped.from_document(doc.get("skipped"))
        self.expected = doc.get("expected_total")
        if doc.get("snapshot_started"):
            await self._offer_pending()
        if not self.total_known:
            target = await self._compiled(doc)
            counting = asyncio.create_task(self._count(target)) if self.expected is None else None
            try:
                await self._snapshot(target, doc.get("snapshot_after"))
            finally:
                if counting is not None:
                    counting.cancel()
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
        found, after = 0, None
        while True:
            ids = await self.db(partial(self.p.ledger.pending_page, self.bid, after, self.batch))
            if not ids:
                return found
            found += len(ids)
            after = ids[-1]
            await self._offer(ids)

    async def _compiled(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The target with its filter, compiled from segment names once, when sending starts.

        The compiled filter is stored (as JSON text: its operators cannot be field
        names) before any recipient is read, so a resumed run reads the same
        audience, not one shifted by the time of the resume.
        """
        target: dict[str, Any] = doc["target"]
        fields: dict[str, Any] = {"snapshot_started": True}
        if "ledger_of" in target and "excluding" not in target:
            excluding = await self._deleted_by(str(target["ledger_of"]))
            target = {**target, "excluding": excluding}
            fields["target.excluding"] = excluding
        if "segments" in target:
            if "compiled" not in target:
                now = self.p.wall_clock()
                compiled = dump_filter(self.p.compile_target(target, now))
                target = {**target, "compiled": compiled, "compiled_at": now}
                fields |= {"target.compiled": compiled, "target.compiled_at": now}
            target = {"filter": load_filter(target["compiled"])}
        await self.db(partial(self.p.store.update, self.bid, fields))
        return target

    async def _deleted_by(self, original: str) -> list[str]:
        """An operation's audience leaves out the copies other deletes of the original
        deleted (fixed when sending starts, like a compiled filter)."""
        doc = await self.db(partial(self.p.store.get, original))
        ops = doc.get("operations") or []
        return [str(o["id"]) for o in ops if o.get("kind") == "delete" and o["id"] != self.bid]

    async def _count(self, target: dict[str, Any]) -> None:
        """Count the audience beside the snapshot, so progress has a true total at once."""
        if "user_ids" in target:
            expected = len(target["user_ids"])
        elif "ledger_of" in target:
            expected = (await self.db(partial(self.p.ledger.tally, target["ledger_of"]))).sent
            for other in target.get("excluding") or ():
                expected -= (await self.db(partial(self.p.ledger.tally, other))).sent
        else:
            expected = await self.db(partial(self.p.users.count, target.get("filter", {})))
        self.expected = expected
        await self.db(partial(self.p.store.update, self.bid, {"expected_total": expected}))
        self.wake.set()

    async def _snapshot(self, target: dict[str, Any], after: Any | None) -> None:
        if "user_ids" in target:
            await self._snapshot_ids(list(target["user_ids"]), after)
        elif "ledger_of" in target:
            await self._snapshot_ledger(target, after)
        else:
            await self._snapshot_users(target.get("filter", {}), after)
        # Counted again: an insert whose answer was lost (written, then retried) added rows
        # that the retry did not report as new.
        self.total = (await self.db(partial(self.p.ledger.tally, self.bid))).total
        self.total_known = True
        fields = {"snapshot_complete": True, "total_users": self.total}
        await self.db(partial(self.p.store.update, self.bid, fields))

    async def _snapshot_users(self, query: dict[str, Any], after: Any | None) -> None:
        while True:
            values, after = await self.db(partial(self.p.users.page, query, after, self.batch))
            await self._add(values, after)
            if after is None:
                return

    async def _snapshot_ledger(self, target: dict[str, Any], after: Any | None) -> None:
        """An operation's audience: the recipients its original was sent to, by user id."""
        of, excluding = str(target["ledger_of"]), list(target.get("excluding") or ())
        while True:
            ids, after = await self.db(
                partial(self.p.ledger.sent_page, of, after, self.batch, excluding)
            )
            await self._add(ids, after)
            if after is None:
                return

    async def _snapshot_ids(self, values: list[Any], after: Any | None) -> None:
        for start in range(int(after or 0), len(values), self.batch):
            end = start + self.batch
            await self._add(values[start:end], end if end < len(values) else None)

    async def _add(self, values: list[Any], after: Any | None) -> None:
        """Record a page of the audience as pending, offer it, and save the position."""
        ids = sort_out(values, self.skipped)
        if ids:
            now = self.p.wall_clock()
            self.total += await self.db(partial(self.p.ledger.add_pending, self.bid, ids, now))
        fields = {"snapshot_after": after, "skipped": self.skipped.to_document()}
        await self.db(partial(self.p.store.update, self.bid, fields))
        if ids:
            await self._offer(ids)

    async def _offer(self, ids: list[int]) -> None:
        while len(self.candidates) >= 2 * self.batch:
            self._want_more.clear()
            await self._want_more.wait()
        unknown = set(await self._resolved(ids))
        if unknown:
            self.unknown.extend(uid for uid in ids if uid in unknown)
            ids = [uid for uid in ids if uid not in unknown]
        self.candidates.extend(ids)
        self.wake.set()

    async def _resolved(self, ids: list[int]) -> list[int]:
        """Resolve a batch, waiting out FloodWaits and transient failures; returns the unknown.

        After a few failed attempts the batch is offered anyway: each send then
        resolves its own recipient. The peer storage's outages (it may live in
        MongoDB) are waited out by the guard, as every other database read of the run.
        """
        if self.resolve is None:
            return []
        for attempt in range(1, RESOLVE_ATTEMPTS + 1):
            try:
                unknown: list[int] = await self.db(partial(self.resolve, ids))
                return unknown
            except FloodWaitError as flood:
                await self.p.sleep(flood.seconds)
            except SendError as error:
                if error.category is not ErrorCategory.TRANSIENT:
                    return []
                await self.p.sleep(min(10.0, 0.5 * 2**attempt))
        return []
