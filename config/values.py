"""The kinds of single settings: credentials, names, languages, levels.

Pure text rules, except :data:`TIMEZONE`, which asks ``zoneinfo`` whether the
zone exists.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from config.parsers import SEPARATORS, Kind, accept_if, hidden, matches, one_of, text

# hydrogram 0.2.0 packs (dc_id, api_id, test_mode, auth_key, user_id, is_bot) as
# ">BI?256sQ?" (271 bytes) and exports it as URL-safe base64 without padding.
_SESSION_STRING_CHARS = 362
_LANGUAGE = re.compile(r"[a-z]{2,3}")

API_HASH: Kind[str] = text(
    "the api_hash from my.telegram.org, 32 hexadecimal characters",
    matches(r"[0-9a-fA-F]{32}"),
    hidden,
)
# Telegram documents no length for the secret part; today's tokens have 35 characters.
BOT_TOKEN: Kind[str] = text(
    "a token from @BotFather: digits, ':', then 30 or more of A-Z a-z 0-9 _ -",
    matches(r"[0-9]+:[A-Za-z0-9_-]{30,}"),
    hidden,
)
SESSION_STRING: Kind[str] = text(
    f"a session string from hydrogram's Client.export_session_string():"
    f" {_SESSION_STRING_CHARS} characters of A-Z a-z 0-9 _ -",
    matches(rf"[A-Za-z0-9_-]{{{_SESSION_STRING_CHARS}}}(==)?"),
    hidden,
)


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


DATABASE_NAME: Kind[str] = text(
    'a MongoDB database name: 1 to 63 bytes, none of / \\ . " $ space or NUL', is_database_name
)
COLLECTION_NAME: Kind[str] = text(
    "a MongoDB collection name: not empty, no $ or NUL, not starting with 'system.'",
    is_collection_name,
)
TIMEZONE: Kind[str] = text("an IANA time zone name such as UTC or Europe/Berlin", is_timezone)
TERMS_TEXT: Kind[str] = text("any text", lambda value: bool(value.strip()))


def _languages(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code.lower() for code in SEPARATORS.split(raw) if code))


def _valid_languages(codes: tuple[str, ...]) -> bool:
    return bool(codes) and all(_LANGUAGE.fullmatch(code) for code in codes)


LANGUAGES: Kind[tuple[str, ...]] = Kind(
    "language codes such as en, ru, de separated by commas",
    _languages,
    accept_if(_valid_languages),
)
DATE_ORDER: Kind[str] = one_of(
    "DMY, MDY or YMD (how 01/02/2027 is read)", ("DMY", "MDY", "YMD"), str.upper
)
LOG_LEVEL: Kind[str] = one_of(
    "DEBUG, INFO, WARNING or ERROR", ("DEBUG", "INFO", "WARNING", "ERROR"), str.upper
)
SESSION_STORE: Kind[str] = one_of(
    "file (in SESSION_DIR) or mongo (in the database)", ("file", "mongo"), str.lower
)
