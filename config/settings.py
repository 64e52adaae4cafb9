"""Frozen, validated settings read from the environment and a ``.env`` file.

Every variable is one row of ``config.variables.VARIABLES`` (name, field,
kind); the kind parses the text and says what it accepts, and the field's
default in :class:`Settings` applies when the variable is unset or empty. A bad
value is reported as ``NAME='value': [reason; ]expected ...``, all bad values
at once, secrets masked.

pydantic-settings was tried in place of this reader and was not adopted: its
own parsing is laxer than these kinds ("1_000" and "2.0" as integers), so every
field still needed one; python-dotenv skips a malformed ``.env`` line with only
a log warning; a consistency rule is not run once a field has failed; and
``Settings()`` would read the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from config.envfile import parse_env_text
from config.parsers import Invalid
from config.variables import ENV_VARS, VARIABLES, ConfigError

__all__ = ["DEFAULT_ENV_FILE", "ENV_VARS", "ConfigError", "Settings", "load_settings"]

DEFAULT_ENV_FILE: Final = ".env"
DEFAULT_TERMS: Final = (
    "This bot sends announcements to its users. Tap Accept to receive them;"
    " you can block the bot at any time to stop them."
)
FREE_RATE_LIMIT: Final = 30.0
"""About what Telegram lets a bot send per second without paid broadcasts."""

_CREDENTIALS: Final = ("API_ID", "API_HASH", "BOT_TOKEN")
_MINUTE, _HOUR = 60.0, 3600.0


@dataclass(frozen=True, slots=True)
class Settings:
    """The bot's configuration; see ``.env.example`` for each variable.

    Values are checked on construction, so an instance is always valid.
    Secrets (``api_hash``, ``bot_token``, ``session_string``, ``mongo_uri``)
    are left out of repr.

    Attributes:
        api_id: ``API_ID``; None when unset (the demo needs no credentials).
        api_hash: ``API_HASH``; None when unset.
        bot_token: ``BOT_TOKEN``; None when unset.
        session_dir: ``SESSION_DIR``, where the standalone bot keeps hydrogram
            session files; an existing directory or one that can be created.
        session_string: ``SESSION_STRING``, a hydrogram session string, for
            containers without a disk; None when unset.
        session_store: ``SESSION_STORE``, ``file`` (in ``session_dir``) or
            ``mongo``: where the bot's auth key lives.
        mongo_uri: ``MONGO_URI``.
        mongo_db: ``MONGO_DB``, the database name.
        admin_ids: ``ADMIN_IDS``, users allowed to run admin commands.
        users_collection: ``USERS_COLLECTION``, where the bot's users live.
        rate_limit: ``BROADCAST_RATE_LIMIT``, messages per second, all workers together.
        paid_broadcast: ``PAID_BROADCAST``, opts in to Telegram's paid broadcasts
            (up to 1000 msg/s, Stars per message over the free limit).
        concurrency: ``BROADCAST_CONCURRENCY``, concurrent send workers.
        progress_interval: ``BROADCAST_PROGRESS_INTERVAL``, recipients between reports.
        in_doubt_retry_window_s: ``IN_DOUBT_RETRY_WINDOW``: recipients whose send
            was in flight when the bot stopped are sent again (same random_id)
            while their first claim is younger than this; 0 is strict at-most-once.
        db_outage_limit_s: ``DB_OUTAGE_LIMIT``, how long a broadcast waits out an
            unreachable database before it stops (to be resumed).
        pause_reminder_s: ``PAUSE_REMINDER``, when to remind the admin of a paused
            broadcast; 0 never.
        test_mode: ``BROADCAST_TEST_MODE``; broadcasts go only to ``test_users``.
        test_users: ``BROADCAST_TEST_USERS``, required when ``test_mode`` is on.
        timezone: ``TIMEZONE``, an IANA name; see :attr:`tz`.
        date_languages: ``DATE_LANGUAGES``, languages admins type dates in.
        date_order: ``DATE_ORDER``, how 01/02/2027 is read; None refuses such dates.
        misfire_grace_s: ``SCHEDULE_MISFIRE_GRACE``, how late a scheduled broadcast
            may still start after downtime; later ones are marked ``missed``.
        segments_file: ``SEGMENTS_FILE``, custom segments and the field mapping.
        require_terms: ``REQUIRE_TERMS``, /start asks users to accept ``terms_text``
            and only those who did receive broadcasts.
        terms_text: ``TERMS_TEXT``, what users accept.
        metrics_port: ``METRICS_PORT``, where metrics are served; None is off.
        log_level: ``LOG_LEVEL``: DEBUG, INFO, WARNING or ERROR.

    Raises:
        ConfigError: On construction, listing every invalid field.
    """

    api_id: int | None = None
    api_hash: str | None = field(default=None, repr=False)
    bot_token: str | None = field(default=None, repr=False)
    session_dir: str = "."
    session_string: str | None = field(default=None, repr=False)
    session_store: str = "file"
    mongo_uri: str = field(default="mongodb://localhost:27017", repr=False)
    mongo_db: str = "broadcast_manager"
    admin_ids: frozenset[int] = frozenset()
    users_collection: str = "users"
    rate_limit: float = 25.0
    paid_broadcast: bool = False
    concurrency: int = 16
    progress_interval: int = 100
    in_doubt_retry_window_s: float = _HOUR
    db_outage_limit_s: float = 10 * _MINUTE
    pause_reminder_s: float = 24 * _HOUR
    test_mode: bool = False
    test_users: tuple[int, ...] = ()
    timezone: str = "UTC"
    date_languages: tuple[str, ...] = ("en", "ru")
    date_order: str | None = None
    misfire_grace_s: float = _HOUR
    segments_file: str | None = None
    require_terms: bool = False
    terms_text: str = DEFAULT_TERMS
    metrics_port: int | None = None
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        problems = [*self._field_problems(), *self._consistency_problems()]
        if problems:
            raise ConfigError(*problems)

    def _field_problems(self) -> list[str]:
        problems = []
        for var in VARIABLES:
            value = getattr(self, var.field)
            reason = None if value is None else var.kind.refusal(value)
            if reason is not None:
                shown = var.kind.show(value) if isinstance(value, str) else repr(value)
                problems.append(var.problem(shown, reason))
        return problems

    def _consistency_problems(self) -> list[str]:
        if self.test_mode and not self.test_users:
            return [
                "BROADCAST_TEST_USERS: expected at least one user id while "
                "BROADCAST_TEST_MODE is on (test broadcasts go only to these users)"
            ]
        return []

    @classmethod
    def for_tests(cls, **overrides: Any) -> Settings:
        """Valid settings for tests, with no environment involved.

        Credentials are filled with well-formed fakes and the database is
        ``broadcast_manager_test``; pass ``api_id=None`` etc. to unset them.

        Args:
            **overrides: Field values to use instead.

        Raises:
            ConfigError: An override is invalid.
        """
        fakes: dict[str, Any] = {
            "api_id": 12345,
            "api_hash": "0123456789abcdef0123456789abcdef",
            "bot_token": "123456:" + "T" * 35,
            "mongo_db": "broadcast_manager_test",
        }
        return cls(**(fakes | overrides))

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def rate_warning(self) -> str | None:
        """A warning to log at start when the rate is above Telegram's free limit, else None."""
        if self.rate_limit <= FREE_RATE_LIMIT or self.paid_broadcast:
            return None
        return (
            f"BROADCAST_RATE_LIMIT={self.rate_limit:g}: Telegram allows a bot about"
            f" {FREE_RATE_LIMIT:g} messages per second for free; expect FloodWaits"
            " (every sender pauses), or set PAID_BROADCAST=true for paid broadcasts"
            " (up to 1000 msg/s, Stars per message over the free limit)"
        )

    def missing_credentials(self) -> list[str]:
        """Names of the unset credential variables, in .env.example order."""
        values = (self.api_id, self.api_hash, self.bot_token)
        return [name for name, value in zip(_CREDENTIALS, values, strict=True) if value is None]


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: str | Path | None = DEFAULT_ENV_FILE,
) -> Settings:
    """Read settings from the environment, falling back to a ``.env`` file.

    A variable set to an empty string counts as unset, so the file's value or
    the default applies.

    Args:
        environ: Variables to read; ``os.environ`` when None.
        env_file: A ``.env`` file; None reads none. The default ``.env`` may
            be missing; any other path must exist.

    Returns:
        The validated settings.

    Raises:
        ConfigError: Listing every bad variable, malformed ``.env`` line,
            or a missing ``env_file``.
    """
    env = os.environ if environ is None else environ
    file_values, problems = _read_env_file(env_file)
    values: dict[str, Any] = {}
    for var in VARIABLES:
        raw = (env.get(var.env) or "").strip() or file_values.get(var.env, "").strip()
        if not raw:
            continue
        try:
            values[var.field] = var.kind.parse(raw)
        except Invalid as exc:
            problems.append(var.problem(var.kind.show(raw), str(exc)))
    return _build(values, problems)


def _build(values: dict[str, Any], problems: list[str]) -> Settings:
    # Build even when some values failed, so consistency problems are listed too.
    try:
        settings = Settings(**values)
    except ConfigError as exc:
        raise ConfigError(*problems, *exc.problems) from None
    if problems:
        raise ConfigError(*problems)
    return settings


def _read_env_file(env_file: str | Path | None) -> tuple[dict[str, str], list[str]]:
    if env_file is None:
        return {}, []
    path = Path(env_file)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        if path == Path(DEFAULT_ENV_FILE):
            return {}, []
        return {}, [f"env file {str(path)!r}: not found"]
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"env file {str(path)!r}: cannot be read ({exc})"]
    return parse_env_text(content, str(path))
