"""The admin's requests: ``/broadcast`` and the commands that name no broadcast, their
errors and the form of a broadcast id (requests about one broadcast are in
:mod:`bot.admin.commands.by_id`; what parsing gives, in :mod:`bot.admin.commands.parsed`).

Requests are frozen values that check their own invariants, so a request built
by a handler (say, with the text the admin sent after being asked) is as sound
as one the parser built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.delivery.content import Delivery, ParseMode, TextContent, TextEntity, UrlButton
from bot.delivery.errors import BroadcastError, ContentError, quote
from bot.delivery.placeholders import PlaceholderError, Template

HISTORY_DEFAULT, HISTORY_MAX = 10, 50
TESTER_ACTIONS = ("add", "remove")
#: The largest user id (hydrogram's ``utils.MAX_USER_ID``).
MAX_USER_ID = 999_999_999_999
BROADCAST_ID_EXAMPLE = "bc_20261129_143000_a1b2"
_BROADCAST_ID = re.compile(r"bc_[0-9]{8}_[0-9]{6}_[0-9a-f]{4}")


class RequestError(BroadcastError, ValueError):
    """A command's arguments are malformed or contradict each other.

    The message is one or two plain-text lines that quote the offending input;
    :func:`bot.admin.commands.parse_command` returns it as a :class:`UsageError`.
    """


def is_broadcast_id(value: str) -> bool:
    """Whether ``value`` has the form of :func:`bot.storage.store.new_broadcast_id`'s ids."""
    return _BROADCAST_ID.fullmatch(value) is not None


class Markup(StrEnum):
    """``--parse``: how the command's text is read.

    ``AUTO`` keeps the formatting the chat app sent as entities (bold, links,
    spoilers...) when there is any, and reads HTML tags otherwise. The other
    modes read the text's markup and ignore the app's formatting; ``PLAIN``
    reads none.
    """

    AUTO = "auto"
    HTML = "html"
    MARKDOWN = "markdown"
    PLAIN = "plain"


@dataclass(frozen=True, slots=True)
class BroadcastRequest:
    """``/broadcast``: what to send, to whom, when, and how.

    ``text`` None means the handler takes the replied-to message, or asks for
    one. ``entities`` are the app's formatting of ``text`` (offsets from its
    start, in UTF-16 code units). ``at``, ``every`` and ``until`` are the admin's
    words, resolved to times by the scheduler. ``forward`` forwards the
    replied-to message instead of copying it. ``reactions`` label a row of
    buttons whose presses are counted; ``test`` sends to the testers only.

    Raises:
        RequestError: On construction, if the fields contradict each other
            (buttons on a forward, ``until`` without ``every``, a scheduled
            preview...), the buttons do not fit Telegram's keyboard, or the text
            has a placeholder of an unknown name.
    """

    text: str | None = None
    preview: bool = False
    segments: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    at: str | None = None
    every: str | None = None
    until: str | None = None
    parse_mode: Markup = Markup.AUTO
    silent: bool = False
    protect: bool = False
    forward: bool = False
    buttons: tuple[tuple[UrlButton, ...], ...] = ()
    entities: tuple[TextEntity, ...] = ()
    reactions: tuple[str, ...] = ()
    test: bool = False

    def __post_init__(self) -> None:
        problem = self._conflict() or self._test_conflict()
        if problem is not None:
            raise RequestError(problem)
        try:
            self.delivery()
        except ContentError as error:
            raise RequestError(f"Too many buttons: {error}.") from error
        try:
            Template(self.text or "")
        except PlaceholderError as error:
            message = str(error)
            raise RequestError(f"{message[:1].upper()}{message[1:]}.") from error

    def _conflict(self) -> str | None:
        if self.forward and self.buttons:
            return (
                "--forward cannot be combined with --button: Telegram cannot add buttons"
                " to a forward; drop --forward to send a copy with buttons."
            )
        if self.forward and self.text is not None:
            return (
                "--forward forwards the message you reply to, so it takes no text;"
                f" got {quote(self.text)}."
            )
        if self.forward and self.reactions:
            return (
                "--forward cannot be combined with --react: Telegram cannot add buttons"
                " to a forward; drop --forward to send a copy with reactions."
            )
        if self.until is not None and self.every is None:
            return f"--until {quote(self.until)} needs --every: it ends a repeating broadcast."
        if self.preview and (self.at is not None or self.every is not None):
            flag, value = ("--at", self.at) if self.at is not None else ("--every", self.every)
            return f"A preview is sent now, so it cannot be scheduled: {flag} {quote(value or '')}."
        return None

    def _test_conflict(self) -> str | None:
        if self.test and self.preview:
            return "--test sends to the testers and --preview to you alone: choose one."
        if self.test and (self.at is not None or self.every is not None):
            flag, value = ("--at", self.at) if self.at is not None else ("--every", self.every)
            return (
                "--test sends now, to the testers: it cannot be scheduled"
                f" ({flag} {quote(value or '')})."
            )
        return None

    def delivery(self) -> Delivery:
        """The buttons and notification options, as the send pipeline takes them."""
        return Delivery(
            buttons=self.buttons,
            silent=self.silent,
            protect=self.protect,
            reactions=self.reactions,
        )

    def text_content(self) -> TextContent | None:
        """The text as content (None without one): with ``--parse auto`` the app's
        formatting if the text has any, else the markup of the ``--parse`` mode.

        Raises:
            ContentError: The text is blank, or an entity lies outside it.
        """
        if self.text is None:
            return None
        if self.parse_mode is Markup.AUTO and any(e.formats for e in self.entities):
            return TextContent(self.text, ParseMode.ENTITIES, self.delivery(), self.entities)
        mode = ParseMode.HTML if self.parse_mode is Markup.AUTO else ParseMode(self.parse_mode)
        return TextContent(self.text, mode, self.delivery())


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """``/broadcast_history``: the last ``limit`` broadcasts, or the one with ``broadcast_id``.

    Raises:
        RequestError: On construction, if ``limit`` is outside 1-50 or
            ``broadcast_id`` is not an id.
    """

    limit: int = HISTORY_DEFAULT
    broadcast_id: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= HISTORY_MAX:
            limit = f"The number of broadcasts must be 1-{HISTORY_MAX}, got {self.limit}."
            raise RequestError(limit)
        if self.broadcast_id is not None and not is_broadcast_id(self.broadcast_id):
            raise RequestError(not_an_id(self.broadcast_id))


@dataclass(frozen=True, slots=True)
class ScheduledRequest:
    """``/broadcast_scheduled``: the upcoming scheduled and repeating broadcasts."""


@dataclass(frozen=True, slots=True)
class TestersRequest:
    """``/broadcast_testers``: list the testers (``action`` None), or ``add`` or ``remove``
    the users ``user_ids``.

    Raises:
        RequestError: On construction, for another action, an action without ids,
            ids without an action, or an id that cannot be a user's.
    """

    __test__ = False  # not a pytest test class, despite the name

    action: str | None = None
    user_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.action is None:
            if self.user_ids:
                raise RequestError("Say what to do with the ids: add or remove.")
            return
        if self.action not in TESTER_ACTIONS:
            raise RequestError(f"Expected add or remove, got {quote(self.action)}.")
        if not self.user_ids:
            raise RequestError(
                f"Give the user ids to {self.action},"
                f" e.g. /broadcast_testers {self.action} 123456789."
            )
        wrong = next((i for i in self.user_ids if not 0 < i <= MAX_USER_ID), None)
        if wrong is not None:
            raise RequestError(f"{wrong} cannot be a user id (1-{MAX_USER_ID}).")


@dataclass(frozen=True, slots=True)
class SegmentsRequest:
    """``/broadcast_segments``: every segment with its description and live count."""


@dataclass(frozen=True, slots=True)
class TimezoneRequest:
    """``/broadcast_timezone``: show the admin's time zone, or set it to ``name``."""

    name: str | None = None


@dataclass(frozen=True, slots=True)
class HelpRequest:
    """``/help``: show :data:`bot.admin.commands.ADMIN_HELP`."""


def not_an_id(value: str) -> str:
    """The usage error for ``value`` where a broadcast id belongs."""
    return f"{quote(value)} is not a broadcast id; ids look like {BROADCAST_ID_EXAMPLE}."
