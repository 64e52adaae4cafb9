"""Pure text parsing of ``.env`` files: ``KEY=VALUE`` lines, quotes and comments.

Malformed lines are reported by number, never with their value, which may be
a secret. (python-dotenv, which pydantic-settings uses, skips them with a log
warning instead; that is one reason this reader stays.)
"""

from __future__ import annotations

import re

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
