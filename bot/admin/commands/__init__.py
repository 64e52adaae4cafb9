"""The admin bot's command parser: a message's text in, a typed request or a usage error out.

Pure: no I/O, no clock, no hydrogram. :func:`parse_command` never raises.
Times (``--at``, ``--every``, ``--until``) and segment names stay as the admin
typed them; the scheduler and the segment compiler resolve them.

Usage errors and :data:`ADMIN_HELP` are plain text: send them with parsing
disabled, since hydrogram's default mode reads ``--x--`` as underline and
``||x||`` as a spoiler.

May import: :mod:`bot.delivery` (content values and errors); no I/O.
"""

from __future__ import annotations

from bot.admin.commands.by_id import (
    CancelRequest,
    DeleteRequest,
    EditRequest,
    ReportRequest,
    RescheduleRequest,
    RetryRequest,
)
from bot.admin.commands.help import ADMIN_HELP, USAGE
from bot.admin.commands.model import (
    BroadcastRequest,
    HelpRequest,
    HistoryRequest,
    Markup,
    RequestError,
    ScheduledRequest,
    SegmentsRequest,
    TestersRequest,
    TimezoneRequest,
)
from bot.admin.commands.parsed import (
    Ignored,
    NotACommand,
    NotForUs,
    Parsed,
    Request,
    UnknownCommand,
    UsageError,
)
from bot.admin.commands.parser import parse_command

__all__ = [
    "ADMIN_HELP",
    "USAGE",
    "BroadcastRequest",
    "CancelRequest",
    "DeleteRequest",
    "EditRequest",
    "HelpRequest",
    "HistoryRequest",
    "Ignored",
    "Markup",
    "NotACommand",
    "NotForUs",
    "Parsed",
    "ReportRequest",
    "Request",
    "RequestError",
    "RescheduleRequest",
    "RetryRequest",
    "ScheduledRequest",
    "SegmentsRequest",
    "TestersRequest",
    "TimezoneRequest",
    "UnknownCommand",
    "UsageError",
    "parse_command",
]
