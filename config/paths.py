"""Kinds of settings that name paths, checked against the disk.

The only part of ``config`` that looks at files besides the ``.env`` reader: a
segments file that is missing, or a session directory with a file in the way,
stops start-up with the variable named, before any connection is made.
Relative paths are relative to the working directory, as the bot opens them.
"""

from __future__ import annotations

import os
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


def check_directory(value: str) -> None:
    """Refuse a path that is neither a directory nor creatable as one, saying why.

    An existing directory is accepted as it is; a missing one must have a
    writable directory as its nearest existing ancestor.

    Raises:
        Invalid: A file is in the way, or the directory cannot be created.
        ValueError: Not a path at all (empty, NUL).
    """
    path = _usable_path(value)
    if path.is_dir():
        return
    if path.exists():
        raise Invalid(f"a file, not a directory{_where(path)}")
    ancestor = next(parent for parent in path.absolute().parents if parent.exists())
    if not ancestor.is_dir():
        raise Invalid(f"cannot be created: {str(ancestor)!r} is a file in the way")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise Invalid(f"cannot be created: {str(ancestor)!r} is not writable")


SEGMENTS_FILE: Kind[str] = Kind(
    "the path of a TOML file of segments (see segments.example.toml)", str, check_existing_file
)
SESSION_DIR: Kind[str] = Kind(
    "a directory, or a path where one can be created", str, check_directory
)
