"""Pure text parsing for settings: value kinds and ``.env`` lines.

Each :class:`Kind` turns the text of one environment variable into a typed
value and says, in words, what it accepts. ``config.settings`` maps variables
to kinds in a table, so a new variable is one line there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")

_INT = re.compile(r"[+-]?[0-9]+")
_ID_SEPARATORS = re.compile(r"[,\s]+")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _always(_value: Any) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Kind(Generic[T]):
    """How one kind of setting is read from text and checked.

    Attributes:
        accepts: What the setting accepts, in words; completes "expected ...".
        convert: Text to value; raises ``ValueError`` on malformed text.
        valid: Whether a typed value is acceptable (range, name rules). Also
            used on values given directly to ``Settings``.
        show: How a rejected raw value is quoted in error messages; secrets
            override the default ``repr`` so they never reach a log.
    """

    accepts: str
    convert: Callable[[str], T]
    valid: Callable[[T], bool] = _always
    show: Callable[[str], str] = repr

    def parse(self, raw: str) -> T:
        """Convert and check ``raw``.

        Raises:
            ValueError: ``raw`` is malformed or out of range.
        """
        value = self.convert(raw)
        if not self.valid(value):
            raise ValueError(raw)
        return value


def _strict_int(raw: str) -> int:
    # int() alone would also take "1_000" and non-ASCII digits.
    if not _INT.fullmatch(raw):
        raise ValueError(raw)
    return int(raw)


def _ids(raw: str) -> list[int]:
    return [_strict_int(item) for item in _ID_SEPARATORS.split(raw) if item]


def _all_positive(values: Iterable[int]) -> bool:
    return all(isinstance(value, int) and value > 0 for value in values)


def positive_int(what: str) -> Kind[int]:
    """An integer greater than zero, described as ``what``."""
    return Kind(f"{what}, a positive integer", _strict_int, lambda x: x > 0)


def bounded_int(what: str, low: int, high: int) -> Kind[int]:
    """An integer with ``low <= x <= high``."""
    return Kind(f"{what}, {low} <= x <= {high}", _strict_int, lambda x: low <= x <= high)


def bounded_float(what: str, low: float, high: float) -> Kind[float]:
    """A number with ``low < x <= high`` (NaN is refused by the comparison)."""
    return Kind(f"{what}, {low:g} < x <= {high:g}", float, lambda x: low < x <= high)


def _to_bool(raw: str) -> bool:
    word = raw.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(raw)


BOOLEAN: Kind[bool] = Kind("a boolean: true/false, 1/0, yes/no or on/off", _to_bool)


def id_set(what: str) -> Kind[frozenset[int]]:
    """Positive integers separated by commas and/or spaces, as a set."""
    return Kind(what, lambda raw: frozenset(_ids(raw)), _all_positive)


def id_tuple(what: str) -> Kind[tuple[int, ...]]:
    """Positive integers separated by commas and/or spaces, in order, without repeats."""
    return Kind(what, lambda raw: tuple(dict.fromkeys(_ids(raw))), _all_positive)


def text(
    accepts: str, valid: Callable[[str], bool], show: Callable[[str], str] = repr
) -> Kind[str]:
    """A string checked by ``valid``."""
    return Kind(accepts, str, valid, show)


def matches(pattern: str) -> Callable[[str], bool]:
    """A validator: the whole string matches ``pattern``."""
    compiled = re.compile(pattern)
    return lambda value: compiled.fullmatch(value) is not None


def hidden(raw: str) -> str:
    """Describe a secret without showing it."""
    return f"<hidden, length {len(raw)}>"


def without_password(uri: str) -> str:
    """Quote a URI with the password of its user info masked."""
    return repr(re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", uri))


def is_database_name(name: str) -> bool:
    """MongoDB's rules for database names."""
    return 0 < len(name.encode()) < 64 and not any(char in name for char in '/\\. "$\0')


def is_collection_name(name: str) -> bool:
    """MongoDB's rules for collection names."""
    return bool(name) and "$" not in name and "\0" not in name and not name.startswith("system.")


def is_timezone(name: str) -> bool:
    """Whether ``name`` is a time zone that ``zoneinfo`` can load."""
    try:
        ZoneInfo(name)
    except (ValueError, LookupError, OSError):  # bad key, unknown zone, a directory
        return False
    return True


API_HASH: Kind[str] = text(
    "the api_hash from my.telegram.org, 32 hexadecimal characters",
    matches(r"[0-9a-fA-F]{32}"),
    hidden,
)
BOT_TOKEN: Kind[str] = text(
    "a token from @BotFather: digits, ':', then 35 or more of A-Z a-z 0-9 _ -",
    matches(r"[0-9]+:[A-Za-z0-9_-]{35,}"),
    hidden,
)
MONGO_URI: Kind[str] = text(
    "a URI starting with mongodb:// or mongodb+srv://",
    matches(r"mongodb(\+srv)?://\S+"),
    without_password,
)
DATABASE_NAME: Kind[str] = text(
    'a MongoDB database name: 1 to 63 bytes, none of / \\ . " $ space or NUL', is_database_name
)
COLLECTION_NAME: Kind[str] = text(
    "a MongoDB collection name: not empty, no $ or NUL, not starting with 'system.'",
    is_collection_name,
)
TIMEZONE: Kind[str] = text("an IANA time zone name such as UTC or Europe/Berlin", is_timezone)

_DURATION = re.compile(r"([0-9]+)\s*([smhd]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_LANGUAGE = re.compile(r"[a-z]{2,3}")


def _seconds(raw: str) -> float:
    match = _DURATION.fullmatch(raw.strip().lower())
    if match is None:
        raise ValueError(raw)
    return float(int(match[1]) * _SECONDS[match[2]])


def duration(what: str, low_s: float, high_s: float) -> Kind[float]:
    """A duration in seconds, written ``90``, ``90s``, ``30m``, ``1h`` or ``2d``."""
    accepts = f"{what}: a number with s, m, h or d (e.g. 30m, 1h), {low_s:g} s to {high_s:g} s"
    return Kind(accepts, _seconds, lambda x: low_s <= x <= high_s)


def _languages(raw: str) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(c.lower() for c in _ID_SEPARATORS.split(raw) if c))
    if not codes or not all(_LANGUAGE.fullmatch(code) for code in codes):
        raise ValueError(raw)
    return codes


def _valid_languages(codes: tuple[str, ...]) -> bool:
    return bool(codes) and all(_LANGUAGE.fullmatch(code) for code in codes)


LANGUAGES: Kind[tuple[str, ...]] = Kind(
    "language codes such as en, ru, de separated by commas", _languages, _valid_languages
)
DATE_ORDER: Kind[str] = Kind(
    "DMY, MDY or YMD (how 01/02/2027 is read)",
    lambda raw: raw.strip().upper(),
    lambda value: value in ("DMY", "MDY", "YMD"),
)
FILE_PATH: Kind[str] = text("a file path", lambda value: bool(value.strip()) and "\0" not in value)


# --- .env files --------------------------------------------------------------

_ENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")
_DOUBLE_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"\s*(?:#.*)?')
_SINGLE_QUOTED = re.compile(r"'([^']*)'\s*(?:#.*)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), value)


def _env_value(key: str, rest: str) -> str:
    if rest[:1] not in ("'", '"'):
        # An unquoted value ends at a "#" that starts it or follows whitespace.
        return re.split(r"(?:^|\s)#", rest, maxsplit=1)[0].strip()
    pattern = _DOUBLE_QUOTED if rest[0] == '"' else _SINGLE_QUOTED
    match = pattern.fullmatch(rest)
    if match is None:
        raise ValueError(f"unterminated quote or text after the closing quote in {key}")
    return _unescape(match[1]) if rest[0] == '"' else match[1]


def parse_env_line(line: str) -> tuple[str, str] | None:
    """Parse one ``.env`` line.

    Args:
        line: ``KEY=VALUE``, optionally after ``export``; the value may be
            single-quoted (literal), double-quoted (``\\n``, ``\\"``, ``\\\\``
            escapes) or bare (a `` #`` starts a comment).

    Returns:
        ``(key, value)``, or None for a blank or comment line.

    Raises:
        ValueError: The line is malformed. The message never quotes the value.
    """
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    match = _ENV_LINE.fullmatch(stripped)
    if match is None:
        raise ValueError("expected KEY=VALUE")
    return match[1], _env_value(match[1], match[2])


def parse_env_text(text: str, source: str) -> tuple[dict[str, str], list[str]]:
    """Parse the text of a ``.env`` file; later lines win.

    Args:
        text: The file's content.
        source: The file's name, for problem messages.

    Returns:
        The values, and one problem message per malformed line.
    """
    values: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            entry = parse_env_line(line)
        except ValueError as exc:
            problems.append(f"{source} line {number}: {exc}")
            continue
        if entry is not None:
            values[entry[0]] = entry[1]
    return values, problems
