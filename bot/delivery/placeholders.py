"""Personal greetings: placeholders in a message's text, filled for each recipient.

``{first_name}``, ``{username}`` and ``{language_code}`` take the recipient's value
from the users collection; a fallback after a bar stands in when the value is
missing or blank (``{first_name|there}``; without one, nothing does). ``{{`` writes
a literal ``{``. A word in braces that is not a known name (``{firstname}``) is
refused, so a typo never reaches recipients as it was typed; other braces
(``{"a": 1}``, ``{ }``) are text.

A :class:`Template` is read from the text recipients see (markup already parsed),
so a value is inserted literally, whatever the parse mode, and formatting keeps
to the characters it was put on: :meth:`Filled.span` moves an entity's offset and
length, in UTF-16 code units as Telegram counts them, to where its characters
went. Pure: no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

from bot.delivery.content import utf16_len
from bot.delivery.errors import ContentError

#: The placeholders recipients' values fill, in the order the help names them.
FIELDS = ("first_name", "username", "language_code")
KNOWN = ", ".join(f"{{{name}}}" for name in FIELDS)
ESCAPE = "{{"
_TOKEN = re.compile(r"\{\{|\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^{}\n]*))?\}")

#: One recipient's values by field name, as stored (anything but a non-blank string is missing).
Values = Mapping[str, object]


class PlaceholderError(ContentError):
    """A placeholder names no known field; the message names the known ones."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """``{field|fallback}``: the recipient's ``field``, else ``fallback``."""

    field: str
    fallback: str = ""

    def value(self, values: Values) -> str:
        """What stands in its place for a recipient with ``values``."""
        found = values.get(self.field)
        return found if isinstance(found, str) and found.strip() else self.fallback


@dataclass(frozen=True, slots=True)
class _Piece:
    """A stretch of the template: text (``linear``: copied unit for unit) or an atom (an
    escape or a placeholder, replaced whole); ``start``/``end`` in UTF-16 units."""

    start: int
    end: int
    text: str
    placeholder: Placeholder | None = None
    linear: bool = False


class Template:
    """A text with placeholders, read once, filled for each recipient.

    Raises:
        PlaceholderError: On construction, for a placeholder of an unknown name.
    """

    __slots__ = ("_bounds", "_pieces", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._pieces = tuple(_read(text))
        self._bounds = ([p.start for p in self._pieces], [p.end for p in self._pieces])

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        """Its placeholders, in order."""
        return tuple(p.placeholder for p in self._pieces if p.placeholder is not None)

    @property
    def personal(self) -> bool:
        """Whether it has placeholders (else one text serves every recipient)."""
        return bool(self.placeholders)

    @property
    def fields(self) -> frozenset[str]:
        """The fields its placeholders read."""
        return frozenset(p.field for p in self.placeholders)

    @property
    def shortest(self) -> int:
        """Its length in characters without any value or fallback: its text alone."""
        return sum(len(p.text) for p in self._pieces if p.placeholder is None)

    def longest(self, longest: Mapping[str, int]) -> int:
        """Its length in characters when each field's value is ``longest[field]`` long
        (or its fallback, if longer): the most a recipient can get."""
        size = 0
        for piece in self._pieces:
            if piece.placeholder is None:
                size += len(piece.text)
            else:
                size += max(
                    longest.get(piece.placeholder.field, 0), len(piece.placeholder.fallback)
                )
        return size

    def fill(self, values: Values) -> Filled:
        """The text for a recipient with ``values``."""
        texts = [
            p.text if p.placeholder is None else p.placeholder.value(values) for p in self._pieces
        ]
        return Filled(self._pieces, self._bounds, texts)


class Filled:
    """A filled template: its text, and where the template's positions went."""

    __slots__ = ("_ends", "_out", "_pieces", "_starts", "_total", "text")

    def __init__(
        self,
        pieces: tuple[_Piece, ...],
        bounds: tuple[list[int], list[int]],
        texts: list[str],
    ) -> None:
        self._pieces = pieces
        self._starts, self._ends = bounds
        self._total = self._ends[-1] if pieces else 0
        out, at = [], 0
        for text in texts:
            out.append(at)
            at += utf16_len(text)
        self._out = [*out, at]
        self.text = "".join(texts)

    def span(self, offset: int, length: int) -> tuple[int, int]:
        """An entity's ``(offset, length)`` in the filled text (UTF-16 units); an entity
        that begins or ends inside a placeholder or an escape covers all of its value.
        The length is 0 when nothing it covered is left (an empty value)."""
        start, end = self._start(offset), self._end(offset + length)
        return start, max(0, end - start)

    def _start(self, position: int) -> int:
        if position >= self._total:
            return self._out[-1]
        index = max(0, bisect_right(self._starts, position) - 1)
        piece = self._pieces[index]
        return self._out[index] + (position - piece.start if piece.linear else 0)

    def _end(self, position: int) -> int:
        if position <= 0 or not self._pieces:
            return 0
        if position > self._total:
            return self._out[-1]
        index = bisect_left(self._ends, position)
        piece = self._pieces[index]
        if piece.linear:
            return self._out[index] + position - piece.start
        return self._out[index + 1]


def _read(text: str) -> list[_Piece]:
    """The pieces of ``text``: text between tokens, escapes, placeholders."""
    pieces: list[_Piece] = []
    at = unit = 0

    def add(chunk: str, size: int, placeholder: Placeholder | None = None) -> None:
        nonlocal unit
        if size:
            linear = placeholder is None and size == utf16_len(chunk)
            pieces.append(_Piece(unit, unit + size, chunk, placeholder, linear))
            unit += size

    for match in _TOKEN.finditer(text):
        before = text[at : match.start()]
        add(before, utf16_len(before))
        token, name, fallback = match.group(0), match.group(1), match.group(2)
        if name is None:
            add("{", 2)
        elif name in FIELDS:
            add(token, utf16_len(token), Placeholder(name, fallback or ""))
        else:
            raise PlaceholderError(
                f"unknown placeholder {{{name}}}: the known ones are {KNOWN},"
                " with a fallback after a bar ({first_name|there}); {{ writes a literal {"
            )
        at = match.end()
    rest = text[at:]
    add(rest, utf16_len(rest))
    return pieces
