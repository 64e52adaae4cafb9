"""Every environment variable: its name, its ``Settings`` field and its kind.

A new setting is one row of :data:`VARIABLES`, a field of ``Settings`` with its
default, and an entry in ``.env.example`` (the tests check all three agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from config.mongo_uri import MONGO_URI
from config.parsers import (
    BOOLEAN,
    Kind,
    bounded_float,
    bounded_int,
    duration,
    id_set,
    id_tuple,
    positive_int,
)
from config.paths import SEGMENTS_FILE, SESSION_DIR
from config.values import (
    API_HASH,
    BOT_TOKEN,
    COLLECTION_NAME,
    DATABASE_NAME,
    DATE_ORDER,
    LANGUAGES,
    LOG_LEVEL,
    SESSION_STORE,
    SESSION_STRING,
    TERMS_TEXT,
    TIMEZONE,
)

_DAY = 86400.0


class ConfigError(ValueError):
    """The configuration is invalid; ``problems`` holds one line per bad variable."""

    def __init__(self, *problems: str) -> None:
        super().__init__(*problems)
        self.problems: tuple[str, ...] = problems

    def __str__(self) -> str:
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        return f"invalid configuration ({len(self.problems)} problem(s)):\n{lines}"


@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable: ``env`` is read into the field ``field`` by ``kind``."""

    env: str
    field: str
    kind: Kind[Any]

    def problem(self, shown: str, reason: str) -> str:
        """``ENV=shown: [reason; ]expected ...``, one line of :class:`ConfigError`."""
        said = f"{reason}; " if reason else ""
        return f"{self.env}={shown}: {said}expected {self.kind.accepts}"


_RATE = "a number of messages per second"
_WORKERS = "a number of concurrent senders"
_EVERY = "a number of recipients between progress reports"

VARIABLES: Final[tuple[Variable, ...]] = (
    Variable("API_ID", "api_id", positive_int("the api_id from my.telegram.org")),
    Variable("API_HASH", "api_hash", API_HASH),
    Variable("BOT_TOKEN", "bot_token", BOT_TOKEN),
    Variable("SESSION_DIR", "session_dir", SESSION_DIR),
    Variable("SESSION_STRING", "session_string", SESSION_STRING),
    Variable("SESSION_STORE", "session_store", SESSION_STORE),
    Variable("MONGO_URI", "mongo_uri", MONGO_URI),
    Variable("MONGO_DB", "mongo_db", DATABASE_NAME),
    Variable("ADMIN_IDS", "admin_ids", id_set()),
    Variable("USERS_COLLECTION", "users_collection", COLLECTION_NAME),
    Variable("BROADCAST_RATE_LIMIT", "rate_limit", bounded_float(_RATE, 0, 1000)),
    Variable("PAID_BROADCAST", "paid_broadcast", BOOLEAN),
    Variable("BROADCAST_CONCURRENCY", "concurrency", bounded_int(_WORKERS, 1, 256)),
    Variable("BROADCAST_PROGRESS_INTERVAL", "progress_interval", bounded_int(_EVERY, 1, 10**6)),
    Variable(
        "IN_DOUBT_RETRY_WINDOW",
        "in_doubt_retry_window_s",
        duration("the window (0: never retry)", 0, 7 * _DAY),
    ),
    Variable("DB_OUTAGE_LIMIT", "db_outage_limit_s", duration("the wait", 10, _DAY)),
    Variable("PAUSE_REMINDER", "pause_reminder_s", duration("the delay (0: never)", 0, 30 * _DAY)),
    Variable("BROADCAST_TEST_MODE", "test_mode", BOOLEAN),
    Variable("BROADCAST_TEST_USERS", "test_users", id_tuple()),
    Variable("TIMEZONE", "timezone", TIMEZONE),
    Variable("DATE_LANGUAGES", "date_languages", LANGUAGES),
    Variable("DATE_ORDER", "date_order", DATE_ORDER),
    Variable("SCHEDULE_MISFIRE_GRACE", "misfire_grace_s", duration("the grace", 0, 7 * _DAY)),
    Variable("SEGMENTS_FILE", "segments_file", SEGMENTS_FILE),
    Variable("REQUIRE_TERMS", "require_terms", BOOLEAN),
    Variable("TERMS_TEXT", "terms_text", TERMS_TEXT),
    Variable("METRICS_PORT", "metrics_port", bounded_int("a TCP port", 1, 65535)),
    Variable("LOG_LEVEL", "log_level", LOG_LEVEL),
)

ENV_VARS: Final[Mapping[str, str]] = MappingProxyType({var.env: var.field for var in VARIABLES})
"""Every environment variable read by ``load_settings`` -> its ``Settings`` field."""
