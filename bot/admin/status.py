"""The admin's live status message of a broadcast and its Pause/Resume/Cancel buttons.

Callback data is ``bc:<action>:<broadcast_id>``; :func:`parse_callback` is the only
place that reads it, so a handler never splits strings itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from zoneinfo import ZoneInfo

import hydrogram
from hydrogram.enums import ParseMode
from hydrogram.errors import FloodWait, MessageNotModified
from hydrogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.delivery.events import event
from bot.delivery.operations import BROADCAST_WORDING, wording_of
from bot.delivery.policy import ProgressSnapshot
from bot.delivery.report import UTC_ZONE, Summary, progress_text, summary_text

log = logging.getLogger(__name__)

CALLBACK_PREFIX = "bc"
#: What Telegram accepts as a button's callback data.
MAX_CALLBACK_BYTES = 64
#: For ``filters.regex``: every callback query whose data this module produced.
CALLBACK_PATTERN = rf"^{CALLBACK_PREFIX}:"
PAUSE, RESUME, CANCEL = "pause", "resume", "cancel"
#: The answers to "Cancel it?", which Cancel asks before anything is cancelled.
CANCEL_YES, CANCEL_NO = "cancel_yes", "cancel_no"

_ACTION = re.compile(r"[a-z][a-z_]*")
_BROADCAST_ID = re.compile(r"[A-Za-z0-9_-]+")


def callback_data(action: str, broadcast_id: str) -> str:
    """``bc:<action>:<broadcast_id>``.

    Raises:
        ValueError: The action or id has characters the format cannot carry, or the
            result exceeds Telegram's 64 bytes.
    """
    if not _ACTION.fullmatch(action) or not _BROADCAST_ID.fullmatch(broadcast_id):
        raise ValueError(f"cannot encode action {action!r} for broadcast {broadcast_id!r}")
    data = f"{CALLBACK_PREFIX}:{action}:{broadcast_id}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data {data!r} exceeds {MAX_CALLBACK_BYTES} bytes")
    return data


def parse_callback(data: str | bytes) -> tuple[str, str] | None:
    """``(action, broadcast_id)`` of data made by :func:`callback_data`, else None.

    The action is not checked against :data:`PAUSE`, :data:`RESUME` and :data:`CANCEL`:
    the handler decides what it understands.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode()
        except UnicodeDecodeError:
            return None
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    prefix, _, rest = data.partition(":")
    action, _, broadcast_id = rest.partition(":")
    if (
        prefix != CALLBACK_PREFIX
        or not _ACTION.fullmatch(action)
        or not _BROADCAST_ID.fullmatch(broadcast_id)
    ):
        return None
    return action, broadcast_id


def control_buttons(
    broadcast_id: str, *, paused: bool, queued: bool = False
) -> InlineKeyboardMarkup:
    """One row: Pause (or Resume when paused) and Cancel; Cancel alone while queued.

    Cancel asks first: :func:`cancel_question` takes the row's place.
    """
    cancel = InlineKeyboardButton("🛑 Cancel", callback_data=callback_data(CANCEL, broadcast_id))
    if queued:
        return InlineKeyboardMarkup([[cancel]])
    toggle = (
        InlineKeyboardButton("▶️ Resume", callback_data=callback_data(RESUME, broadcast_id))
        if paused
        else InlineKeyboardButton("⏸ Pause", callback_data=callback_data(PAUSE, broadcast_id))
    )
    return InlineKeyboardMarkup([[toggle, cancel]])


def cancel_question(broadcast_id: str) -> InlineKeyboardMarkup:
    """ "Cancel it?": Yes cancels, No gives the message its buttons back."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "🛑 Yes, cancel it", callback_data=callback_data(CANCEL_YES, broadcast_id)
                ),
                InlineKeyboardButton("↩️ No", callback_data=callback_data(CANCEL_NO, broadcast_id)),
            ]
        ]
    )


class StatusMessage:
    """The admin's one status message for a broadcast, edited as it progresses.

    An instance is a :data:`bot.delivery.pipeline.ProgressCallback`. A failed edit never
    raises: the broadcast matters more than its progress display. After a
    FloodWait, edits are skipped until the wait is over.

    Args:
        client: The bot's hydrogram client.
        chat_id: The admin's chat holding the message.
        message_id: The status message.
        broadcast_id: The broadcast it shows (for the buttons).
        flood_wait_cap_s: :meth:`finish` sleeps through a FloodWait up to this long
            before retrying once; a longer one falls back to a new message.
    """

    def __init__(
        self,
        client: hydrogram.Client,
        chat_id: int,
        message_id: int,
        broadcast_id: str,
        *,
        flood_wait_cap_s: float = 30.0,
    ) -> None:
        self.client, self.chat_id, self.message_id = client, chat_id, message_id
        self.broadcast_id = broadcast_id
        self.flood_wait_cap_s = flood_wait_cap_s
        #: How it names what the run does (a broadcast, a delete, an edit).
        self.wording = BROADCAST_WORDING
        self.finished = False
        #: Cancel was pressed: progress keeps Yes / No under it until one is pressed.
        self.asking_cancel = False
        #: The text it shows, as last edited by this process (None: not edited yet).
        self.shown: str | None = None
        self._quiet_until = float("-inf")

    @classmethod
    def from_document(cls, client: hydrogram.Client, doc: dict[str, Any]) -> StatusMessage | None:
        """The status message recorded on a broadcast document, if any.

        :meth:`bot.storage.store.MongoBroadcastStore.set_progress_message` records it, so a
        restarted bot keeps editing the same message.
        """
        where = doc.get("progress_message")
        if not where:
            return None
        status = cls(client, int(where["chat_id"]), int(where["message_id"]), str(doc["_id"]))
        status.wording = wording_of(doc)
        return status

    async def __call__(self, snap: ProgressSnapshot) -> None:
        """Show ``snap`` with the control buttons; never raises."""
        now = asyncio.get_running_loop().time()
        if self.finished or now < self._quiet_until:
            return
        markup = (
            cancel_question(self.broadcast_id)
            if self.asking_cancel
            else control_buttons(self.broadcast_id, paused=snap.paused)
        )
        try:
            await self._edit(progress_text(snap, self.wording), markup)
        except MessageNotModified:
            pass
        except FloodWait as flood:
            self._quiet_until = now + _seconds(flood)
            log.warning(
                "status of %s: FloodWait %ss, skipping edits",
                self.broadcast_id,
                flood.value,
                extra=event("status.flood_wait", self.broadcast_id, seconds=flood.value),
            )
        except Exception:
            failed = event("status.edit_failed", self.broadcast_id)
            log.warning("status of %s: edit failed", self.broadcast_id, exc_info=True, extra=failed)

    async def finish(
        self,
        summary: Summary,
        by: str | None = None,
        zone: ZoneInfo = UTC_ZONE,
        note: str | None = None,
    ) -> None:
        """Replace the status with the summary (and ``note``) and no buttons; never raises.

        When the message cannot be edited (deleted, too old...) the summary is
        sent to ``chat_id`` as a new message, which becomes this status message.
        """
        self.finished = True
        text = summary_text(summary, by, zone, self.wording, note)
        for attempt in (1, 2):
            try:
                await self._edit(text, None)
            except MessageNotModified:
                return
            except FloodWait as flood:
                wait = _seconds(flood)
                if attempt == 2 or wait > self.flood_wait_cap_s:
                    break
                await asyncio.sleep(wait)
            except Exception:
                failed = event("summary.edit_failed", self.broadcast_id)
                log.warning(
                    "summary of %s: edit failed", self.broadcast_id, exc_info=True, extra=failed
                )
                break
            else:
                return
        try:
            message = await self.client.send_message(
                self.chat_id, text, parse_mode=ParseMode.DISABLED
            )
        except Exception:
            log.exception(
                "summary of %s could not be sent to %s",
                self.broadcast_id,
                self.chat_id,
                extra=event("summary.send_failed", self.broadcast_id),
            )
            return
        self.message_id = message.id

    async def add_line(self, line: str) -> None:
        """Show ``line`` under the progress last shown (until the next report); never raises.

        For what happened to the run between reports: it stopped, and why.
        """
        if self.finished:
            return
        text = (
            f"{self.shown}\n\n{line}" if self.shown else f"📢 Broadcast {self.broadcast_id}\n{line}"
        )
        try:
            # Not remembered as shown: a second trouble replaces this line, never piles up.
            await self._edit(text, control_buttons(self.broadcast_id, paused=False), shown=False)
        except Exception:
            failed = event("status.edit_failed", self.broadcast_id)
            log.warning("status of %s: edit failed", self.broadcast_id, exc_info=True, extra=failed)

    async def _edit(
        self, text: str, markup: InlineKeyboardMarkup | None, *, shown: bool = True
    ) -> None:
        """Edit the text; without ``markup`` the buttons go away (hydrogram omits it).
        ``shown``: the progress the next :meth:`add_line` writes under."""
        options: dict[str, Any] = {"parse_mode": ParseMode.DISABLED}
        if markup is not None:
            options["reply_markup"] = markup
        await self.client.edit_message_text(self.chat_id, self.message_id, text, **options)
        if shown:
            self.shown = text


def _seconds(flood: FloodWait) -> float:
    return float(flood.value) if isinstance(flood.value, int) else 1.0
