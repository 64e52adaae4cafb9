"""Pure text parsing for settings: generic value kinds.

Each :class:`Kind` turns the text of one environment variable into a typed
value and says, in words, what it accepts. ``config.variables`` maps variables
to kinds in a table, so a new variable is one line there. Kinds specific to one
setting live in ``config.values`` (and ``config.paths`` for those that look at
the disk).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_INT = re.compile(r"[+-]?[0-9]+")
SEPARATORS = re.compile(r"[,\s]+")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_MOST_NAMED = 5


class Invalid(ValueError):
    """A refused value, with a reason worth telling (never quoting a secret).

    Any other ``ValueError`` from a kind means only "not what is accepted".
    """


def _accept_all(_value: Any) -> None:
    return None


def accept_if(predicate: Callable[[T], bool]) -> Callable[[T], None]:
    """A check that refuses, without a reason, the values ``predicate`` rejects."""

    def check(value: T) -> None:
        if not predicate(value):
            raise ValueError("refused")

    return check


@dataclass(frozen=True, slots=True)
class Kind(Generic[T]):
    """How one kind of setting is read from text and checked.

    Attributes:
        accepts: What the setting accepts, in words; completes "expected ...".
        convert: Text to value; raises ``ValueError`` (or :class:`Invalid`
            with a reason) on malformed text.
        check: Raises ``ValueError`` (or :class:`Invalid`) for an unacceptable
            typed value (range, name rules). Also used on values given
            directly to ``Settings``.
        show: How a rejected raw value is quoted in error messages; secrets
            override the default ``repr`` so they never reach a log.
    """

    accepts: str
    convert: Callable[[str], T]
    check: Callable[[T], None] = _accept_all
    show: Callable[[str], str] = repr

    def parse(self, raw: str) -> T:
        """Convert and check ``raw``.

        Raises:
            Invalid: ``raw`` is malformed or out of range; the message is the
                reason, or empty.
        """
        try:
            value = self.convert(raw)
            self.check(value)
        except Invalid:
            raise
        except ValueError:  # its message may quote the raw value: never shown
            raise Invalid("") from None
        return value

    def refusal(self, value: object) -> str | None:
        """None if ``value`` is acceptable, else the reason ("" when there is none to tell)."""
        try:
            self.check(value)  # type: ignore[arg-type]  # a value given directly may be any type
        except Invalid as exc:
            return str(exc)
        except (ValueError, TypeError):
            return ""
        return None


def strict_int(raw: str) -> int:
    """``int(raw)`` for plain ASCII digits with an optional sign.

    Raises:
        ValueError: Anything else (``int()`` alone would take "1_000" and
            non-ASCII digits).
    """
    if not _INT.fullmatch(raw):
        raise ValueError("not an integer")
    return int(raw)


def positive_int(what: str) -> Kind[int]:
    """An integer greater than zero, described as ``what``."""
    return Kind(f"{what}, a positive integer", strict_int, accept_if(lambda x: x > 0))


def bounded_int(what: str, low: int, high: int) -> Kind[int]:
    """An integer with ``low <= x <= high``."""
    return Kind(f"{what}, {low} <= x <= {high}", strict_int, accept_if(lambda x: low <= x <= high))


def bounded_float(what: str, low: float, high: float) -> Kind[float]:
    """A number with ``low < x <= high`` (NaN is refused by the comparison)."""
    return Kind(f"{what}, {low:g} < x <= {high:g}", float, accept_if(lambda x: low < x <= high))


def _to_bool(raw: str) -> bool:
    word = raw.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("not a boolean")


BOOLEAN: Kind[bool] = Kind("a boolean: true/false, 1/0, yes/no or on/off", _to_bool)


def one_of(accepts: str, words: tuple[str, ...], normalize: Callable[[str], str]) -> Kind[str]:
    """One of ``words``, after ``normalize`` (e.g. ``str.upper`` for any case)."""
    return Kind(accepts, normalize, accept_if(lambda value: value in words))


def text(
    accepts: str, valid: Callable[[str], bool], show: Callable[[str], str] = repr
) -> Kind[str]:
    """A string checked by ``valid``."""
    return Kind(accepts, str, accept_if(valid), show)


def matches(pattern: str) -> Callable[[str], bool]:
    """A validator: the whole string matches ``pattern``."""
    compiled = re.compile(pattern)
    return lambda value: compiled.fullmatch(value) is not None


def hidden(raw: str) -> str:
    """Describe a secret without showing it."""
    return f"<hidden, length {len(raw)}>"


def quoted_list(items: Iterable[str]) -> str:
    """``"a"``, ``"a" and "b"``, ``"a", "b" and "c"``; past five, ``... and N more``."""
    named = [f'"{item}"' for item in items]
    if len(named) > _MOST_NAMED:
        rest = len(named) - _MOST_NAMED + 1
        named = [*named[: _MOST_NAMED - 1], f"{rest} more"]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"


# --- user ids ------------------------------------------------------------------


def _not_user_ids(entries: list[str]) -> Invalid:
    if len(entries) == 1:
        return Invalid(f'"{entries[0]}" is not a positive Telegram user id')
    return Invalid(f"{quoted_list(entries)} are not positive Telegram user ids")


def _is_user_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _ids(raw: str) -> list[int]:
    entries = [item for item in SEPARATORS.split(raw) if item]
    bad = [item for item in entries if not (_INT.fullmatch(item) and int(item) > 0)]
    if bad:
        raise _not_user_ids(bad)
    return [int(item) for item in entries]


def _check_ids(values: Iterable[object]) -> None:
    bad = [str(value) for value in values if not _is_user_id(value)]
    if bad:
        raise _not_user_ids(bad)


_ID_LIST = "positive integers (Telegram user ids) separated by commas or spaces"


def id_set() -> Kind[frozenset[int]]:
    """Telegram user ids separated by commas and/or spaces, as a set."""
    return Kind(_ID_LIST, lambda raw: frozenset(_ids(raw)), _check_ids)


def id_tuple() -> Kind[tuple[int, ...]]:
    """Telegram user ids separated by commas and/or spaces, in order, without repeats."""
    return Kind(_ID_LIST, lambda raw: tuple(dict.fromkeys(_ids(raw))), _check_ids)


# --- durations -------------------------------------------------------------------

_DURATION = re.compile(r"([0-9]+)\s*([smhd]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(raw: str) -> float:
    match = _DURATION.fullmatch(raw.strip().lower())
    if match is None:
        raise ValueError("not a duration")
    return float(int(match[1]) * _SECONDS[match[2]])


def duration_text(seconds: float) -> str:
    """``seconds`` as typed in a duration setting: 0s, 90s, 10m, 1h, 7d."""
    for unit in ("d", "h", "m"):
        if seconds and seconds % _SECONDS[unit] == 0:
            return f"{seconds / _SECONDS[unit]:g}{unit}"
    return f"{seconds:g}s"


def duration(what: str, low_s: float, high_s: float) -> Kind[float]:
    """A duration in seconds, written ``90``, ``90s``, ``30m``, ``1h`` or ``2d``."""
    span = f"from {duration_text(low_s)} to {duration_text(high_s)}"
    accepts = f"{what}: a whole number with s, m, h or d (e.g. 30m, 1h), {span}"
    return Kind(accepts, _seconds, accept_if(lambda x: low_s <= x <= high_s))
