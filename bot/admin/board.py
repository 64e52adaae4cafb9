"""What admins see of the queue: one status message per broadcast, from queued to summary.

- A broadcast that starts always has a status message: the one recorded when it was
  confirmed or fired, or a new one in its admin's chat (claimed once, so two
  instances never show two).
- While it waits, its status message says its place and what is ahead ("after
  bc_…, sending, 40%"), updated as the queue moves and every ``refresh_s`` (the
  queue is read again then: one confirmed on another instance is shown too).
- At the end it becomes the summary; a run stopped by trouble (the database down
  longer than a run waits, an unexpected error) says so under its last progress and
  in a reply to it, in words (the error itself goes to the log), and that it is
  retried by itself.
- A broadcast paused for ``remind_after_s`` reminds the admin who paused it, once,
  with Resume and Cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import hydrogram
from hydrogram.enums import ParseMode

from bot.admin.status import StatusMessage, control_buttons
from bot.app import Core
from bot.delivery.events import event
from bot.delivery.model import BroadcastStatus, as_utc
from bot.delivery.report import Summary, percent, person
from bot.delivery.tasks import stop_task

log = logging.getLogger(__name__)

ZoneOf = Callable[[int], Awaitable[ZoneInfo]]
Reread = Callable[[], Awaitable[None]]


class StatusBoard:
    """The status messages of the broadcasts this instance runs or queues.

    Args:
        client: The bot's client.
        core: The broadcast machinery.
        zone_of: An admin's time zone.
        remind_after_s: Remind of a broadcast paused this long (0: never).
        refresh_s: How often waiting broadcasts' messages are refreshed.
    """

    def __init__(
        self,
        client: hydrogram.Client,
        core: Core,
        zone_of: ZoneOf,
        *,
        remind_after_s: float = 86_400.0,
        refresh_s: float = 30.0,
    ) -> None:
        self.client, self.core, self.zone_of = client, core, zone_of
        self.remind_after_s, self.refresh_s = remind_after_s, refresh_s
        self.statuses: dict[str, StatusMessage] = {}
        self._shown: dict[str, str] = {}  # waiting broadcast -> the text its message shows
        self._waiting: list[str] = []
        self._current: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def status_for(self, doc: dict[str, Any]) -> StatusMessage:
        """The status message of a broadcast about to run (made now if it has none)."""
        status = await self.ensure_status(doc)
        self.statuses[status.broadcast_id] = status
        self._shown.pop(status.broadcast_id, None)
        return status

    async def ensure_status(self, doc: dict[str, Any]) -> StatusMessage:
        """The broadcast's status message; a new one in its admin's chat if it has none."""
        status = StatusMessage.from_document(self.client, doc)
        return status if status is not None else await self._new_status(doc)

    async def _new_status(self, doc: dict[str, Any]) -> StatusMessage:
        bid, admin = str(doc["_id"]), int(doc["admin_id"])
        sent = await self.client.send_message(
            admin,
            f"📢 Broadcast {bid}\n⏳ Starting…",
            parse_mode=ParseMode.DISABLED,
            reply_markup=control_buttons(bid, paused=False),
        )
        where = await self.core.store.claim_progress_message(bid, admin, sent.id)
        if where is not None and where.get("message_id") != sent.id:  # another instance's
            with contextlib.suppress(Exception):
                await self.client.delete_messages(admin, sent.id)
            return StatusMessage(self.client, int(where["chat_id"]), int(where["message_id"]), bid)
        return StatusMessage(self.client, admin, sent.id, bid)

    async def finished(self, summary: Summary) -> None:
        """The run ended the broadcast: its status message becomes the summary."""
        doc = await self.core.store.get(summary.broadcast_id)
        status = self.statuses.pop(summary.broadcast_id, None) or await self.status_for(doc)
        zone = await self.zone_of(int(doc["admin_id"]))
        note = run_note(doc)
        await status.finish(summary, by=finished_by(doc, summary), zone=zone, note=note)
        self.statuses.pop(summary.broadcast_id, None)

    async def trouble(self, broadcast_id: str, what: str) -> None:
        """A run stopped without finishing; the queue retries it by itself."""
        status = self.statuses.get(broadcast_id)
        if status is None:
            log.warning(
                "broadcast %s stopped (%s); no status message to tell",
                broadcast_id,
                what,
                extra=event("status.untold", broadcast_id),
            )
            return
        text = (
            f"⚠️ Broadcast {broadcast_id} stopped: {what}\n"
            "Nothing is lost: it continues by itself, where it stood, once this clears."
        )
        await status.add_line(f"⚠️ Stopped: {what}. It goes on by itself once this clears.")
        await self.client.send_message(
            status.chat_id,
            text,
            parse_mode=ParseMode.DISABLED,
            reply_to_message_id=status.message_id,
        )

    async def moved(self, waiting: list[str], current: str | None) -> None:
        """The queue changed: show each waiting broadcast its new place."""
        self._waiting, self._current = list(waiting), current
        await self.refresh()

    async def refresh(self) -> None:
        """Edit the status message of every waiting broadcast whose place or lead changed."""
        if not self._waiting:
            return
        ahead = await self._current_text()
        for place, bid in enumerate(self._waiting):
            doc = await self.core.store.get(bid)
            where = doc.get("progress_message")
            if not where or bid == self._current or not _waits(doc["status"], ahead):
                continue
            if self._current is None and place == 0:
                continue  # first in line with nothing sending: it starts now, not waits
            before = self._waiting[:place]
            text = waiting_text(bid, place + (self._current is not None), ahead, before)
            if doc["status"] == BroadcastStatus.RUNNING:  # resumed: next in line
                text = f"📢 Broadcast {bid}\n▶️ Resumed: it continues as soon as {ahead} finishes."
            if self._shown.get(bid) == text:
                continue
            self._shown[bid] = text
            with contextlib.suppress(Exception):  # cosmetic: the next move shows it again
                await self.client.edit_message_text(
                    int(where["chat_id"]),
                    int(where["message_id"]),
                    text,
                    parse_mode=ParseMode.DISABLED,
                    reply_markup=control_buttons(bid, paused=False, queued=True),
                )

    async def _current_text(self) -> str | None:
        if self._current is None:
            return None
        doc = await self.core.store.get(self._current)
        done = int(doc.get("sent_count") or 0) + int(doc.get("failed_count") or 0)
        final = doc.get("snapshot_complete")
        total = int((doc.get("total_users") if final else doc.get("expected_total")) or 0)
        share = percent(done, total) if total else f"{done:,} sent"
        return f"{self._current}, sending, {share}"

    async def remind(self, now: datetime) -> None:
        """Remind, once, of broadcasts paused for longer than ``remind_after_s``."""
        if self.remind_after_s <= 0:
            return
        cutoff = now - timedelta(seconds=self.remind_after_s)
        for doc in await self.core.store.with_status([BroadcastStatus.PAUSED]):
            paused_at = as_utc(doc.get("paused_at"))
            if paused_at is None or paused_at > cutoff or doc.get("pause_reminded_at"):
                continue
            if await self.core.store.mark_reminded(str(doc["_id"]), now):
                await self._send_reminder(doc, paused_at, now)

    async def _send_reminder(self, doc: dict[str, Any], paused_at: datetime, now: datetime) -> None:
        bid = str(doc["_id"])
        admin = int(doc.get("paused_by") or doc["admin_id"])
        zone = await self.zone_of(admin)
        hours = (now - paused_at).total_seconds() / 3600
        text = (
            f"⏸ Broadcast {bid} has been paused for {hours:.0f} h "
            f"(since {paused_at.astimezone(zone):%a %d %b %H:%M} {zone.key}).\n"
            f"{_sent_line(doc)}\nResume it, or cancel it for good."
        )
        sent = await self.client.send_message(
            admin,
            text,
            parse_mode=ParseMode.DISABLED,
            reply_markup=control_buttons(bid, paused=True),
        )
        await self.core.store.update(
            bid, {"reminder_message": {"chat_id": admin, "message_id": sent.id}}
        )

    async def run_periodic(
        self, wall_clock: Callable[[], datetime], reread: Reread | None = None
    ) -> None:
        """Every ``refresh_s`` until cancelled: read the queue again (``reread``: a broadcast
        confirmed on another instance while one sends is shown its place), refresh waiting
        messages, send reminders."""
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                if reread is not None:
                    await reread()  # tells moved() when the order changed
                await self.refresh()
                await self.remind(wall_clock())
            except Exception:
                log.warning("status board: periodic update failed", exc_info=True)

    def start(self, wall_clock: Callable[[], datetime], reread: Reread | None = None) -> None:
        """Start :meth:`run_periodic` (no-op if it runs)."""
        if self._task is None or self._task.done():
            periodic = self.run_periodic(wall_clock, reread)
            self._task = asyncio.create_task(periodic, name="status-board")

    async def stop(self) -> None:
        """Stop the periodic updates."""
        task, self._task = self._task, None
        await stop_task(task)


def _waits(status: str, ahead: str | None) -> bool:
    """Queued; or resumed (running) while another one sends."""
    return status == BroadcastStatus.QUEUED or (status == BroadcastStatus.RUNNING and bool(ahead))


def waiting_text(bid: str, ahead_count: int, current: str | None, before: list[str]) -> str:
    """A queued broadcast's status: its place and what runs before it."""
    lines = [f"📢 Broadcast {bid}", f"🕒 Queued: {ahead_count} ahead of it."]
    if current is not None:
        lines.append(f"▶️ Now: {current}")
    if before:
        shown = ", ".join(before[:3]) + (f" and {len(before) - 3} more" if len(before) > 3 else "")
        lines.append(f"⏭ Before it: {shown}")
    lines.append("It starts by itself when they finish.")
    return "\n".join(lines)


def _sent_line(doc: dict[str, Any]) -> str:
    sent, total = int(doc.get("sent_count") or 0), int(doc.get("total_users") or 0)
    return f"Sent so far: {sent:,}" + (f" of {total:,}." if total else ".")


def finished_by(doc: dict[str, Any], summary: Summary) -> str:
    """Who the summary names: whoever cancelled it, else whoever created it; the creator
    by the name the history gives them, anyone else as ``Admin (<id>)``."""
    creator = doc.get("admin_id")
    if summary.status == "cancelled":
        cancels = [e for e in doc.get("audit") or [] if e.get("action") == "cancelled"]
        by = cancels[-1].get("by") if cancels else None
        if by is not None and by != creator:
            return person(None, by)
    return person(doc.get("admin_username"), creator)


def run_note(doc: dict[str, Any]) -> str | None:
    """A retried broadcast's summary says what its last run did (the counts are the
    broadcast's, over every run)."""
    runs = doc.get("runs") or []
    if len(runs) < 2:
        return None
    run = runs[-1]
    return (
        f"🔁 Run {run.get('run')} (a retry): {int(run.get('sent') or 0):,} sent, "
        f"{int(run.get('failed') or 0):,} failed of {int(run.get('recipients') or 0):,}"
    )
