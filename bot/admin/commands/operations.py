"""``/broadcast_delete``, ``/broadcast_edit``, ``/broadcast_retry``, ``/broadcast_report``:
arguments in, a request out."""

from __future__ import annotations

from bot.admin.commands.broadcast import Formatting, parse_broadcast
from bot.admin.commands.by_id import (
    DeleteRequest,
    EditRequest,
    ReportRequest,
    RetryRequest,
)
from bot.admin.commands.model import (
    BROADCAST_ID_EXAMPLE,
    BroadcastRequest,
    RequestError,
)
from bot.admin.commands.parsed import (
    Request,
)
from bot.delivery.errors import quote

#: What an edit changes besides the text: how it is read, and the buttons.
EDIT_FLAGS = ("parse", "button")


def parse_delete(args: str) -> Request:
    """``ID``."""
    return DeleteRequest(_one_id(args, "/broadcast_delete"))


def parse_retry(args: str) -> Request:
    """``ID``."""
    return RetryRequest(_one_id(args, "/broadcast_retry"))


def parse_report(args: str) -> Request:
    """``ID``."""
    return ReportRequest(_one_id(args, "/broadcast_report"))


def parse_edit(args: str, formatting: Formatting) -> Request:
    """``ID [--parse MODE] [--button "Text | url"]... [TEXT]``; the text keeps its formatting.

    Without TEXT the handler takes the text of the message the command replies to.
    """
    stripped = args.lstrip()
    if not stripped:
        raise RequestError(f"Give the id of the broadcast to edit, e.g. {BROADCAST_ID_EXAMPLE}.")
    word = stripped.split(maxsplit=1)[0]
    start = len(args) - len(stripped) + len(word)
    message = parse_broadcast(args[start:], formatting=formatting.after(args, start))
    kept = BroadcastRequest(
        text=message.text,
        parse_mode=message.parse_mode,
        buttons=message.buttons,
        entities=message.entities,
    )
    if message != kept:
        flags = " and ".join(f"--{name}" for name in EDIT_FLAGS)
        raise RequestError(
            f"An edit takes only {flags}: who got the broadcast and how it was sent stay as"
            " they were."
        )
    return EditRequest(word.lower(), message)


def _one_id(args: str, command: str) -> str:
    words = args.split()
    if len(words) != 1:
        got = f", got {quote(args.strip())}" if words else ""
        raise RequestError(
            f"{command} takes the id of one broadcast, e.g. {BROADCAST_ID_EXAMPLE}{got}."
        )
    return words[0].lower()
