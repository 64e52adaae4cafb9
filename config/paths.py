"""Kinds of settings that name paths, checked against the disk.

The only part of ``config`` that looks at files besides the ``.env`` reader: a
segments file that is missing stops start-up with the variable named, before
any connection is made.
Relative paths are relative to the working directory, as the bot opens them.
"""

from __future__ import annotations

from pathlib import Path

from config.parsers import Invalid, Kind


def _where(path: Path) -> str:
    return "" if path.is_absolute() else f" (relative to {Path.cwd()})"


def _usable_path(value: str) -> Path:
    if not value.strip() or "\0" in value:
        raise ValueError("not a path")
    return Path(value)


def check_existing_file(value: str) -> None:
    """Refuse a path that is not an existing file, saying why.

    Raises:
        Invalid: No such file, or a directory.
        ValueError: Not a path at all (empty, NUL).
    """
    path = _usable_path(value)
    if path.is_dir():
        raise Invalid(f"a directory, not a file{_where(path)}")
    if not path.is_file():
        raise Invalid(f"no such file{_where(path)}")


SEGMENTS_FILE: Kind[str] = Kind(
    "the path of a TOML file of segments (see segments.example.toml)", str, check_existing_file
)
