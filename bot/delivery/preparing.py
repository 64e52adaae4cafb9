"""Before a run sends: the message to broadcast, read and prepared once.

Reading it may wait: Telegram's FloodWaits (a new session looks the message's chat
up first), transient failures, the peer storage's outages (waited out by the run's
outage guard). A cancel or a pause acts while it waits, within ``control_poll_s``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.delivery.dispatch import CANCELLED, Dispatch
from bot.delivery.errors import ContentError, FloodWaitError, SendError, failure_kind
from bot.delivery.events import event
from bot.delivery.model import BroadcastStatus

if TYPE_CHECKING:
    from bot.delivery.ports import PreparedMessage

log = logging.getLogger(__name__)


class Preparing(Dispatch):
    """A run's first step: :meth:`_prepare` (see :class:`~bot.delivery.run.BroadcastRun`)."""

    async def _prepare(self, doc: dict[str, Any]) -> PreparedMessage | None:
        """The prepared message; transient failures and FloodWaits are waited out."""
        from bot.delivery.operations import stored_from_document

        attempt = 0
        while True:
            attempt += 1
            try:
                content = stored_from_document(doc["content"])
                # Through the guard: reading the source may read the peer storage (MongoDB).
                return await self.db(partial(self.p.sender.prepare, content, self.bid))
            except ContentError as error:  # the content cannot go out: stop before any send
                self.stop_reason = f"content rejected before sending: {error}"
                return None
            except FloodWaitError as flood:
                wait = flood.seconds
            except SendError as error:
                delay = self.cfg.retry.delay_before(attempt, error.category)
                if delay is None and attempt < self.cfg.retry.max_attempts * 4:
                    delay = self.cfg.retry.max_delay_s  # keep trying: the source is fine
                if delay is None:
                    kind = failure_kind(error)
                    self.stop_reason = f"the message to broadcast could not be read: {kind}"
                    unread = event("run.prepare_failed", self.bid, error=str(error))
                    log.warning("%s: %s (%s)", self.bid, self.stop_reason, error, extra=unread)
                    return None
                wait = delay
            retry = event("run.prepare_retry", self.bid, wait_s=wait)
            log.warning(
                "%s: reading the message failed, again in %.1f s", self.bid, wait, extra=retry
            )
            stopped = await self._wait_while_running(wait)
            if stopped == BroadcastStatus.PAUSED:
                self._yield()  # the next broadcast goes ahead; Resume reads the message again
                return None
            if stopped is not None:
                self._stop(CANCELLED)  # cancelled meanwhile: never started
                return None

    async def _wait_while_running(self, seconds: float) -> str | None:
        """Wait ``seconds`` (a FloodWait may last minutes), reading the status as the watcher
        does; the status as soon as it is no longer running (a pause or cancel acts at once)."""
        end = self.p.clock() + seconds
        while True:
            await self.p.sleep(max(0.0, min(end - self.p.clock(), self.cfg.control_poll_s)))
            status = await self.db(partial(self.p.store.status, self.bid))
            if status != BroadcastStatus.RUNNING:
                return str(status)
            if self.p.clock() >= end:
                return None
