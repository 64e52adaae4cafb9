"""``/broadcast`` and its flags: arguments in, a :class:`BroadcastRequest` out."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.admin.commands.lexer import Cursor, FlagToken
from bot.admin.commands.model import BroadcastRequest, Markup, RequestError
from bot.delivery.content import (
    TextEntity,
    UrlButton,
    check_reactions,
    entities_within,
    utf16_len,
)
from bot.delivery.errors import ContentError, quote

BUTTON_FORM = '"Text | https://url"'
REACT_FORM = '"A,B"'


@dataclass(frozen=True, slots=True)
class FlagSpec:
    """One ``/broadcast`` flag: ``metavar`` None for a switch."""

    name: str
    metavar: str | None
    help: str
    repeatable: bool = False
    schedules: bool = False

    @property
    def usage(self) -> str:
        """``[--segment NAME]...`` as a usage line shows it."""
        value = f" {self.metavar}" if self.metavar else ""
        return f"[--{self.name}{value}]" + ("..." if self.repeatable else "")


FLAGS: dict[str, FlagSpec] = {
    spec.name: spec
    for spec in (
        FlagSpec("segment", "NAME", "only users in this segment", repeatable=True),
        FlagSpec("exclude", "NAME", "leave out users in this segment", repeatable=True),
        FlagSpec("at", "WHEN", 'send later, e.g. --at "tomorrow 9am"', schedules=True),
        FlagSpec("every", "SPEC", "repeat, e.g. --every day (from --at on)", schedules=True),
        FlagSpec("until", "WHEN", "stop repeating after WHEN (needs --every)", schedules=True),
        FlagSpec(
            "parse",
            "auto|html|markdown|plain",
            "auto (the default) keeps your app's formatting, else reads HTML tags",
        ),
        FlagSpec("silent", None, "deliver without a notification sound"),
        FlagSpec("protect", None, "recipients cannot forward or save it"),
        FlagSpec(
            "button",
            BUTTON_FORM,
            'add a row with a link button; "A | url || B | url" puts two in the row',
            repeatable=True,
        ),
        FlagSpec("forward", None, "forward the replied-to message instead of copying it"),
        FlagSpec(
            "react",
            REACT_FORM,
            'a row of 2-8 buttons whose presses are counted, e.g. --react "👍,👎"',
        ),
        FlagSpec("preview", None, "send it to you only, now (same as /broadcast_preview)"),
        FlagSpec("test", None, "send it now to the testers only (see /broadcast_testers)"),
    )
}


@dataclass(frozen=True, slots=True)
class Formatting:
    """The entities of the admin's message, for a part of it that starts ``offset``
    UTF-16 code units into the message."""

    entities: tuple[TextEntity, ...] = ()
    offset: int = 0

    def after(self, part: str, start: int) -> Formatting:
        """The formatting of ``part[start:]``, when this is the formatting of ``part``."""
        return Formatting(self.entities, self.offset + utf16_len(part[:start]))

    def of(self, text: str) -> tuple[TextEntity, ...]:
        """The entities over ``text`` (which starts here), clipped to it, from its start."""
        return entities_within(self.entities, self.offset, self.offset + utf16_len(text))


UNFORMATTED = Formatting()


def parse_broadcast(
    args: str,
    *,
    preview: bool = False,
    at: str | None = None,
    formatting: Formatting = UNFORMATTED,
) -> BroadcastRequest:
    """Read ``[flags] [--] [text]``; the text is kept verbatim, None when empty.

    The entities of ``formatting`` over the flags are dropped, those over the
    text are kept, from the start of the text.

    Raises:
        RequestError: Naming the flag or value at fault.
    """
    cursor = Cursor(args)
    given: dict[str, list[str]] = {"at": [at]} if at is not None else {}
    while True:
        cursor.skip_space()
        token = cursor.flag()
        if token is None:
            break
        spec = _spec(token)
        value = _value(cursor, token, spec)
        values = given.setdefault(spec.name, [])
        if values and not spec.repeatable:
            raise RequestError(_twice(spec, values[0], value))
        values.append(value)
    cursor.skip_space()  # after a lone "--"
    text = cursor.rest()
    return BroadcastRequest(
        text=text or None,
        preview=preview or "preview" in given,
        segments=tuple(given.get("segment", ())),
        excludes=tuple(given.get("exclude", ())),
        at=_single(given, "at"),
        every=_single(given, "every"),
        until=_single(given, "until"),
        parse_mode=_parse_mode(_single(given, "parse")),
        silent="silent" in given,
        protect="protect" in given,
        forward="forward" in given,
        buttons=tuple(button_row(spec) for spec in given.get("button", ())),
        entities=formatting.after(args, cursor.pos).of(text),
        reactions=reactions(_single(given, "react")),
        test="test" in given,
    )


def reactions(spec: str | None) -> tuple[str, ...]:
    """``--react "👍,👎"``: the options, in order (() without the flag).

    Raises:
        RequestError: Quoting ``spec``, for fewer than 2 or more than 8 options, an empty,
            repeated or too long one.
    """
    if spec is None:
        return ()
    options = tuple(option.strip() for option in spec.split(","))
    try:
        check_reactions(options)
    except ContentError as error:
        raise RequestError(f'Bad --react {quote(spec)}: {error}; e.g. --react "👍,👎".') from None
    return options


def button_row(spec: str) -> tuple[UrlButton, ...]:
    """``"Text | https://url"``, or several joined by ``||``, as one keyboard row.

    Raises:
        RequestError: Quoting ``spec``, for a missing part or a bad URL.
    """
    return tuple(_button(part, spec) for part in spec.split("||"))


def _button(part: str, spec: str) -> UrlButton:
    text, bar, url = part.rpartition("|")
    if not bar or not text.strip() or not url.strip():
        raise RequestError(
            f"Bad button {quote(spec)}: expected {BUTTON_FORM}, quoted;"
            " || separates two buttons of one row."
        )
    try:
        return UrlButton(text.strip(), url.strip())
    except ValueError as error:  # ContentError; urlsplit's own ValueError for "https://[x"
        raise RequestError(f"Bad button {quote(spec)}: {error}.") from error


def _spec(token: FlagToken) -> FlagSpec:
    spec = FLAGS.get(token.name.lower())
    if spec is not None:
        return spec
    raw = token.raw.partition("=")[0]
    close = difflib.get_close_matches(token.name.lower(), FLAGS, n=1)
    hint = f" Did you mean --{close[0]}?" if close else ""
    known = ", ".join(f"--{name}" for name in FLAGS)
    raise RequestError(
        f"Unknown flag {quote(raw)}.{hint}\n"
        f"Known flags: {known}. A text starting with a dash goes after --."
    )


def _value(cursor: Cursor, token: FlagToken, spec: FlagSpec) -> str:
    if spec.metavar is None:
        if token.inline is not None:
            raise RequestError(f"--{spec.name} takes no value, got {quote(token.raw)}.")
        return ""
    value = token.inline if token.inline is not None else cursor.value()
    if value is None or not value.strip():
        raise RequestError(f"--{spec.name} needs a value: --{spec.name} {spec.metavar}.")
    return value.strip()


def _twice(spec: FlagSpec, first: str, second: str) -> str:
    if spec.metavar is None:
        return f"--{spec.name} is given twice; give it once."
    return f"--{spec.name} is given twice ({quote(first)} and {quote(second)}); give it once."


def _single(given: dict[str, list[str]], name: str) -> str | None:
    values = given.get(name)
    return values[0] if values else None


def _parse_mode(value: str | None) -> Markup:
    if value is None:
        return Markup.AUTO
    try:
        return Markup(value.lower())
    except ValueError:
        accepted = ", ".join(mode.value for mode in Markup)
        message = f"Unknown --parse value {quote(value)}; use one of {accepted}."
        raise RequestError(message) from None
