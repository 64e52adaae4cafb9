"""What parsing a message gives: a request, a reason to ignore the message, or a usage error."""

from __future__ import annotations

from dataclasses import dataclass

from bot.admin.commands.by_id import (
    CancelRequest,
    DeleteRequest,
    EditRequest,
    ReportRequest,
    RescheduleRequest,
    RetryRequest,
)
from bot.admin.commands.model import (
    BroadcastRequest,
    HelpRequest,
    HistoryRequest,
    ScheduledRequest,
    SegmentsRequest,
    TestersRequest,
    TimezoneRequest,
)


@dataclass(frozen=True, slots=True)
class NotACommand:
    """Not one of our commands (plain text, ``/start``...): the admin bot ignores it."""


@dataclass(frozen=True, slots=True)
class NotForUs:
    """A command addressed to another bot (``/broadcast@OtherBot``): ignore it."""

    bot_username: str


@dataclass(frozen=True, slots=True)
class UnknownCommand:
    """``/broadcast_schedul``: not ours, but looks like it; ``hint`` names the closest one.

    A standalone bot answers it; a host bot may own such a command, so there it
    is ignored like :class:`NotACommand`.
    """

    name: str
    hint: str


@dataclass(frozen=True, slots=True)
class UsageError:
    """The command is ours but malformed: ``message`` says why and ends with its usage line.

    Plain text: send it with parsing disabled (hydrogram's default mode would
    read ``--x--`` as underline and ``||x||`` as a spoiler).
    """

    message: str


Request = (
    BroadcastRequest
    | HistoryRequest
    | CancelRequest
    | RescheduleRequest
    | ScheduledRequest
    | SegmentsRequest
    | TimezoneRequest
    | HelpRequest
    | TestersRequest
    | DeleteRequest
    | EditRequest
    | RetryRequest
    | ReportRequest
)
Ignored = NotACommand | NotForUs | UnknownCommand
Parsed = Request | Ignored | UsageError
