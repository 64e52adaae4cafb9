"""Requests about one broadcast, named by its id: cancel, delete, edit, retry, report,
reschedule. Each checks the id on construction, as :class:`ForBroadcast` does."""

from __future__ import annotations

from dataclasses import dataclass

from bot.admin.commands.model import BroadcastRequest, RequestError, is_broadcast_id, not_an_id


@dataclass(frozen=True, slots=True)
class ForBroadcast:
    """A request about the broadcast ``broadcast_id``.

    Raises:
        RequestError: On construction, if ``broadcast_id`` is not an id.
    """

    broadcast_id: str

    def __post_init__(self) -> None:
        if not is_broadcast_id(self.broadcast_id):
            raise RequestError(not_an_id(self.broadcast_id))


@dataclass(frozen=True, slots=True)
class CancelRequest(ForBroadcast):
    """``/broadcast_cancel``: cancel the broadcast with ``broadcast_id``."""


@dataclass(frozen=True, slots=True)
class DeleteRequest(ForBroadcast):
    """``/broadcast_delete``: delete every copy the broadcast ``broadcast_id`` sent."""


@dataclass(frozen=True, slots=True)
class EditRequest(ForBroadcast):
    """``/broadcast_edit``: the new text (``message.text``; None: the replied-to message's),
    its formatting and buttons (``message``: a plain :class:`BroadcastRequest`)."""

    message: BroadcastRequest


@dataclass(frozen=True, slots=True)
class RetryRequest(ForBroadcast):
    """``/broadcast_retry``: send the broadcast ``broadcast_id`` again to those who did not
    get it and still may."""


@dataclass(frozen=True, slots=True)
class ReportRequest(ForBroadcast):
    """``/broadcast_report``: the chart and the CSV of the broadcast ``broadcast_id``."""


@dataclass(frozen=True, slots=True)
class RescheduleRequest(ForBroadcast):
    """``/broadcast_reschedule``: move the scheduled broadcast ``broadcast_id`` to ``when``.

    Raises:
        RequestError: On construction, if ``broadcast_id`` is not an id or ``when`` is empty.
    """

    when: str

    def __post_init__(self) -> None:
        ForBroadcast.__post_init__(self)
        if not self.when.strip():
            raise RequestError(f"Give the new time after the id, e.g. {self.broadcast_id} 18:00.")
