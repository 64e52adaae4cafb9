"""Reading flags and their values off the front of a command's arguments.

Phone keyboards rewrite what admins type: ``--`` becomes an em dash (—) or an
en dash (–), straight quotes become curly ones, and iOS picks the curly quote
by the character before it (so ``--button=”...”`` opens with a closing quote).
The cursor accepts all of these. It only ever reads the flags: what follows
them is the message text, which it hands back verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.admin.commands.model import RequestError
from bot.delivery.errors import quote

DASHES = ("--", "\u2014", "\u2013")
# Each opening quote and the characters that may close it.
QUOTES = {
    '"': '"',
    "'": "'",
    "\u201c": "\u201d\u201c",  # “...” (and “...“)
    "\u201d": "\u201d\u201c",  # ”...” as iOS types it after a letter or "="
    "\u2018": "\u2019\u2018",  # ‘...’
    "\u2019": "\u2019\u2018",
    "\u201e": "\u201c\u201d",  # „...“ (German)
    "\u00ab": "\u00bb",  # «...»
}
_DASH = r"(--|\u2014|\u2013)"
# A flag's name starts with a letter, so "–5°C" or "---" begin a text, not a flag.
FLAG_WORD = re.compile(_DASH + r"[A-Za-z]")
_FLAG_OR_LONE_DASH = re.compile(_DASH + r"([A-Za-z]|\s|$)")
_FLAG = re.compile(_DASH + r"([A-Za-z][^\s=]*)?(=?)")


@dataclass(frozen=True, slots=True)
class FlagToken:
    """A flag as typed: ``raw`` (``—segment``), its ``name`` (``segment``), and the
    value given with ``=``, if any (``""`` for ``--segment=``)."""

    raw: str
    name: str
    inline: str | None


class Cursor:
    """A position in a command's arguments, moving left to right over flags."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        """Move past whitespace, newlines included."""
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_flag(self) -> bool:
        """Whether a flag, or a lone dash, starts here."""
        return _FLAG_OR_LONE_DASH.match(self.text, self.pos) is not None

    def flag(self) -> FlagToken | None:
        """The flag at the cursor, or None once the flags are over.

        A word that starts with a dash and a letter is a flag; any other word
        starts the text. A lone ``--`` ends the flags and is consumed. A lone dash (— or –)
        does the same only when another dash-prefixed word follows it, so that
        a text starting with a dialogue dash ("— Hi!") keeps it.
        """
        match = _FLAG.match(self.text, self.pos)
        if match is None or not self.at_flag():
            return None
        prefix, name, equals = match.groups()
        if name:
            self.pos = match.end()
            inline = self._word() if equals else None
            return FlagToken(self.text[match.start() : self.pos], name, inline)
        after = Cursor(self.text)
        after.pos = match.end()
        after.skip_space()
        if prefix == "--" or after.at_flag():
            self.pos = match.end()
        return None

    def value(self) -> str | None:
        """The word or quoted value after whitespace; None at the end or at another flag."""
        self.skip_space()
        if self.pos >= len(self.text) or self.at_flag():
            return None
        return self._word()

    def rest(self) -> str:
        """Everything after the cursor, verbatim."""
        return self.text[self.pos :]

    def _word(self) -> str:
        start = self.pos
        closers = QUOTES.get(self.text[start : start + 1])
        if closers is None:
            while self.pos < len(self.text) and not self.text[self.pos].isspace():
                self.pos += 1
            return self.text[start : self.pos]
        end = next((i for i in range(start + 1, len(self.text)) if self.text[i] in closers), -1)
        if end < 0:
            raise RequestError(
                f"Unterminated quote in {quote(self.text[start:])}: close it with {closers[0]}."
            )
        self.pos = end + 1
        if self.pos < len(self.text) and not self.text[self.pos].isspace():
            raise RequestError(
                f"Expected a space after the closing quote in {quote(self.text[start:])}."
            )
        return self.text[start + 1 : end]
