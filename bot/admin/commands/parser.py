"""The entry point: an admin's message text (and its entities) in, a request, a reason to
ignore it, or a usage error out."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable

from bot.admin.commands.broadcast import Formatting, parse_broadcast
from bot.admin.commands.by_id import (
    CancelRequest,
    RescheduleRequest,
)
from bot.admin.commands.help import USAGE
from bot.admin.commands.lexer import FLAG_WORD
from bot.admin.commands.model import (
    BROADCAST_ID_EXAMPLE,
    HISTORY_MAX,
    TESTER_ACTIONS,
    HelpRequest,
    HistoryRequest,
    RequestError,
    ScheduledRequest,
    SegmentsRequest,
    TestersRequest,
    TimezoneRequest,
    is_broadcast_id,
)
from bot.admin.commands.operations import parse_delete, parse_edit, parse_report, parse_retry
from bot.admin.commands.parsed import (
    NotACommand,
    NotForUs,
    Parsed,
    Request,
    UnknownCommand,
    UsageError,
)
from bot.delivery.content import TextEntity, utf16_len
from bot.delivery.errors import quote

_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?")
_NUMBER = re.compile(r"[+-]?[0-9]+")


def parse_command(
    text: str, *, bot_username: str | None = None, entities: Iterable[TextEntity] = ()
) -> Parsed:
    """Parse an admin's message; never raises.

    Commands are matched case-insensitively. ``/cmd@Name`` is ours only when
    ``Name`` is ``bot_username`` (case-insensitive, with or without ``@``);
    with ``bot_username`` None, every addressed command is :class:`NotForUs`.
    ``entities`` are the message's formatting (offsets in UTF-16 code units from
    the start of ``text``); a broadcast's text keeps those over it.

    Returns:
        A request; :class:`NotACommand` for anything that is not one of our
        commands; :class:`NotForUs` for another bot's command; or a
        :class:`UsageError` whose message ends with the command's usage line.
    """
    head, args = _split_head(text)
    match = _COMMAND.fullmatch(head)
    if match is None:
        return NotACommand()
    name, addressee = match.group(1).lower(), match.group(2)
    if addressee is not None and addressee.lower() != (bot_username or "").lstrip("@").lower():
        return NotForUs(addressee)
    parse = _PARSERS.get(name)
    if parse is None:
        return _unknown(name) if name.startswith("broadcast") else NotACommand()
    try:
        return parse(args, Formatting(tuple(entities), utf16_len(head)))
    except RequestError as error:
        return UsageError(f"{error}\nUsage: {USAGE[name]}")


def _unknown(name: str) -> Parsed:
    """A ``/broadcast...`` command that is not ours: perhaps a typo of one (or the host's)."""
    close = difflib.get_close_matches(name, _PARSERS, n=1, cutoff=0.75)
    if close:
        hint = f"Unknown command /{name}. Did you mean /{close[0]}?\nUsage: {USAGE[close[0]]}"
    else:
        hint = f"Unknown command /{name}; /help lists the commands.\nUsage: /help"
    return UnknownCommand(name, hint)


def _split_head(text: str) -> tuple[str, str]:
    end = next((i for i, char in enumerate(text) if char.isspace()), len(text))
    return text[:end], text[end:]


def _schedule(args: str, formatting: Formatting) -> Request:
    """``WHEN | [flags] [text]``, or WHEN on the first line and the rest below it.

    WHEN alone is fine: the handler takes the replied-to message or asks for one.
    """
    first_line, _, below = args.strip().partition("\n")
    if "|" in first_line:
        when, _, rest = args.partition("|")
        start = len(when) + 1
    else:
        when, rest = first_line, below
        start = len(args) - len(args.lstrip()) + len(first_line) + 1
    when = when.strip()
    if not when:
        raise RequestError(
            f"/broadcast_schedule needs a time first, got {quote(args.strip())};"
            ' e.g. "tomorrow 9am | Good morning".'
        )
    if any(FLAG_WORD.match(word) for word in when.split()):
        raise RequestError(
            f"Flags go after the time (after | or on the next line), not in it: {quote(when)}."
        )
    return parse_broadcast(rest, at=when, formatting=formatting.after(args, start))


def _reschedule(args: str) -> Request:
    words = args.split(maxsplit=1)
    if not words:
        raise RequestError(f"Give the id and the new time, e.g. {BROADCAST_ID_EXAMPLE} 18:00.")
    return RescheduleRequest(words[0].lower(), words[1].strip() if len(words) > 1 else "")


def _timezone(args: str) -> Request:
    words = args.split()
    if len(words) > 1:
        raise RequestError(
            f"Give one IANA time zone name such as Europe/Berlin, got {quote(args.strip())}."
        )
    return TimezoneRequest(words[0] if words else None)


def _no_arguments(name: str, request: Request) -> Callable[[str], Request]:
    def parse(args: str) -> Request:
        if args.strip():
            raise RequestError(f"/{name} takes no arguments, got {quote(args.strip())}.")
        return request

    return parse


def _history(args: str) -> Request:
    words = args.split()
    if not words:
        return HistoryRequest()
    if len(words) == 1 and _NUMBER.fullmatch(words[0]):
        if len(words[0]) >= 5:  # int() of a huge number raises; this long is out of range
            raise RequestError(
                f"The number of broadcasts must be 1-{HISTORY_MAX}, got {quote(words[0])}."
            )
        return HistoryRequest(limit=int(words[0]))
    if len(words) == 1 and is_broadcast_id(words[0].lower()):
        return HistoryRequest(broadcast_id=words[0].lower())
    raise RequestError(
        f"Expected a number (1-{HISTORY_MAX}) or a broadcast id like {BROADCAST_ID_EXAMPLE},"
        f" got {quote(args.strip())}."
    )


def _testers(args: str) -> Request:
    words = args.split()
    if not words:
        return TestersRequest()
    action, ids = words[0].lower(), words[1:]
    if action not in TESTER_ACTIONS:
        raise RequestError(
            "Expected add or remove and user ids, or nothing to list them;"
            f" got {quote(args.strip())}."
        )
    for word in ids:
        if not _NUMBER.fullmatch(word) or len(word) > 13:
            raise RequestError(f"{quote(word)} is not a user id; ids are numbers like 123456789.")
    return TestersRequest(action, tuple(int(word) for word in ids))


def _cancel(args: str) -> Request:
    words = args.split()
    if len(words) != 1:
        got = f", got {quote(args.strip())}" if words else ""
        raise RequestError(f"Give the id of one broadcast, e.g. {BROADCAST_ID_EXAMPLE}{got}.")
    return CancelRequest(words[0].lower())


Parse = Callable[[str, Formatting], Request]


def _unformatted(parse: Callable[[str], Request]) -> Parse:
    """A command whose arguments are words, not a message: formatting does not matter."""
    return lambda args, _: parse(args)


_PARSERS: dict[str, Parse] = {
    "broadcast": lambda args, formatting: parse_broadcast(args, formatting=formatting),
    "broadcast_preview": lambda args, formatting: parse_broadcast(
        args, preview=True, formatting=formatting
    ),
    "broadcast_schedule": _schedule,
    "broadcast_history": _unformatted(_history),
    "broadcast_cancel": _unformatted(_cancel),
    "broadcast_reschedule": _unformatted(_reschedule),
    "broadcast_scheduled": _unformatted(_no_arguments("broadcast_scheduled", ScheduledRequest())),
    "broadcast_segments": _unformatted(_no_arguments("broadcast_segments", SegmentsRequest())),
    "broadcast_timezone": _unformatted(_timezone),
    "broadcast_testers": _unformatted(_testers),
    "broadcast_delete": _unformatted(parse_delete),
    "broadcast_edit": parse_edit,
    "broadcast_retry": _unformatted(parse_retry),
    "broadcast_report": _unformatted(parse_report),
    "help": lambda args, _: HelpRequest(),
}
