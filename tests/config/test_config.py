"""Tests for config: each variable's parsing and validation, and the Settings object."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config import ENV_VARS, ConfigError, Settings, load_settings
from tests.config.support import HASH, TOKEN, load, problems_for, session_string

SESSION = session_string()
SEGMENTS = Path(__file__).parents[2] / "segments.example.toml"


def test_defaults_with_empty_environ() -> None:
    assert load() == Settings(
        api_id=None,
        api_hash=None,
        bot_token=None,
        session_dir=".",
        session_string=None,
        session_store="file",
        mongo_uri="mongodb://localhost:27017",
        mongo_db="broadcast_manager",
        admin_ids=frozenset(),
        users_collection="users",
        rate_limit=25.0,
        paid_broadcast=False,
        concurrency=16,
        progress_interval=100,
        in_doubt_retry_window_s=3600.0,
        db_outage_limit_s=600.0,
        pause_reminder_s=86400.0,
        test_mode=False,
        test_users=(),
        timezone="UTC",
        metrics_port=None,
        log_level="INFO",
    )


@pytest.mark.parametrize(
    ("variable", "raw", "field", "expected"),
    [
        ("API_ID", "1234567", "api_id", 1234567),
        ("API_ID", " 42 ", "api_id", 42),
        ("API_HASH", HASH, "api_hash", HASH),
        ("BOT_TOKEN", TOKEN, "bot_token", TOKEN),
        ("MONGO_URI", "mongodb+srv://u:p@cluster.example.net/db", "mongo_uri",
         "mongodb+srv://u:p@cluster.example.net/db"),
        ("MONGO_URI", "mongodb://a:27017,b:27017/?replicaSet=rs", "mongo_uri",
         "mongodb://a:27017,b:27017/?replicaSet=rs"),
        ("MONGO_DB", "my_bot-db", "mongo_db", "my_bot-db"),
        ("MONGO_DB", "d" * 63, "mongo_db", "d" * 63),
        ("ADMIN_IDS", "1, 2 3,,4", "admin_ids", frozenset({1, 2, 3, 4})),
        ("ADMIN_IDS", "7", "admin_ids", frozenset({7})),
        ("USERS_COLLECTION", "bot.storage.users", "users_collection", "bot.storage.users"),
        ("BROADCAST_RATE_LIMIT", "0.5", "rate_limit", 0.5),
        ("BROADCAST_RATE_LIMIT", "1000", "rate_limit", 1000.0),
        ("BROADCAST_CONCURRENCY", "1", "concurrency", 1),
        ("BROADCAST_CONCURRENCY", "256", "concurrency", 256),
        ("BROADCAST_PROGRESS_INTERVAL", "1000000", "progress_interval", 1_000_000),
        ("BROADCAST_TEST_USERS", "3,1,3, 2", "test_users", (3, 1, 2)),
        ("TIMEZONE", "Asia/Tehran", "timezone", "Asia/Tehran"),
        ("DATE_LANGUAGES", "EN, de,,ru,de", "date_languages", ("en", "de", "ru")),
        ("DATE_ORDER", "dmy", "date_order", "DMY"),
        ("SCHEDULE_MISFIRE_GRACE", "30m", "misfire_grace_s", 1800.0),
        ("SCHEDULE_MISFIRE_GRACE", "2 h", "misfire_grace_s", 7200.0),
        ("SCHEDULE_MISFIRE_GRACE", "90", "misfire_grace_s", 90.0),
        ("SCHEDULE_MISFIRE_GRACE", "0", "misfire_grace_s", 0.0),
        ("SEGMENTS_FILE", str(SEGMENTS), "segments_file", str(SEGMENTS)),
        ("REQUIRE_TERMS", "yes", "require_terms", True),
        ("TERMS_TEXT", "Accept?", "terms_text", "Accept?"),
        ("BOT_TOKEN", "1:" + "a" * 30, "bot_token", "1:" + "a" * 30),
        ("SESSION_DIR", "/tmp", "session_dir", "/tmp"),
        ("SESSION_STRING", SESSION, "session_string", SESSION),
        ("SESSION_STRING", SESSION + "==", "session_string", SESSION + "=="),
        ("SESSION_STORE", "Mongo", "session_store", "mongo"),
        ("SESSION_STORE", "file", "session_store", "file"),
        ("IN_DOUBT_RETRY_WINDOW", "0", "in_doubt_retry_window_s", 0.0),
        ("IN_DOUBT_RETRY_WINDOW", "7d", "in_doubt_retry_window_s", 7 * 86400.0),
        ("DB_OUTAGE_LIMIT", "10s", "db_outage_limit_s", 10.0),
        ("DB_OUTAGE_LIMIT", "1d", "db_outage_limit_s", 86400.0),
        ("PAUSE_REMINDER", "0", "pause_reminder_s", 0.0),
        ("PAUSE_REMINDER", "30d", "pause_reminder_s", 30 * 86400.0),
        ("METRICS_PORT", "9100", "metrics_port", 9100),
        ("METRICS_PORT", "65535", "metrics_port", 65535),
        ("PAID_BROADCAST", "true", "paid_broadcast", True),
        ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("LOG_LEVEL", "Warning", "log_level", "WARNING"),
    ],
)  # fmt: skip
def test_each_variable_is_parsed(variable: str, raw: str, field: str, expected: object) -> None:
    assert getattr(load(**{variable: raw}), field) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("Yes", True), ("on", True),
     ("false", False), ("0", False), ("NO", False), ("Off", False)],
)  # fmt: skip
def test_boolean_words(raw: str, expected: bool) -> None:
    settings = load(BROADCAST_TEST_MODE=raw, BROADCAST_TEST_USERS="5")
    assert settings.test_mode is expected


@pytest.mark.parametrize("variable", list(ENV_VARS))
@pytest.mark.parametrize("blank", ["", "   "])
def test_empty_value_counts_as_unset(variable: str, blank: str) -> None:
    assert load(**{variable: blank}) == Settings()


BAD_VALUES = [
    ("API_ID", "abc", "the api_id from my.telegram.org, a positive integer"),
    ("API_ID", "0", "a positive integer"),
    ("API_ID", "-5", "a positive integer"),
    ("API_ID", "1_000", "a positive integer"),
    ("MONGO_URI", "localhost:27017", "a URI like mongodb://[user:password@]host[:port]"),
    ("MONGO_DB", "my.db", "a MongoDB database name"),
    ("MONGO_DB", "my db", "a MongoDB database name"),
    ("MONGO_DB", "a/b", "a MongoDB database name"),
    ("MONGO_DB", "price$", "a MongoDB database name"),
    ("MONGO_DB", "d" * 64, "1 to 63 bytes"),
    ("MONGO_DB", "é" * 32, "1 to 63 bytes"),
    ("ADMIN_IDS", "1,two", "positive integers (Telegram user ids) separated by commas or spaces"),
    ("ADMIN_IDS", "1,-2", "positive integers (Telegram user ids)"),
    ("ADMIN_IDS", "0", "positive integers (Telegram user ids)"),
    ("USERS_COLLECTION", "system.users", "not starting with 'system.'"),
    ("USERS_COLLECTION", "us$ers", "no $ or NUL"),
    ("USERS_COLLECTION", "us\0ers", "no $ or NUL"),
    ("BROADCAST_RATE_LIMIT", "abc", "a number of messages per second, 0 < x <= 1000"),
    ("BROADCAST_RATE_LIMIT", "0", "0 < x <= 1000"),
    ("BROADCAST_RATE_LIMIT", "1000.5", "0 < x <= 1000"),
    ("BROADCAST_RATE_LIMIT", "nan", "0 < x <= 1000"),
    ("BROADCAST_RATE_LIMIT", "inf", "0 < x <= 1000"),
    ("BROADCAST_CONCURRENCY", "0", "a number of concurrent senders, 1 <= x <= 256"),
    ("BROADCAST_CONCURRENCY", "257", "1 <= x <= 256"),
    ("BROADCAST_CONCURRENCY", "2.5", "1 <= x <= 256"),
    ("BROADCAST_PROGRESS_INTERVAL", "0", "recipients between progress reports, 1 <= x <= 1000000"),
    ("BROADCAST_PROGRESS_INTERVAL", "1000001", "1 <= x <= 1000000"),
    ("BROADCAST_TEST_MODE", "maybe", "true/false, 1/0, yes/no or on/off"),
    ("BROADCAST_TEST_USERS", "1;2", "positive integers (Telegram user ids)"),
    ("TIMEZONE", "Mars/Olympus", "an IANA time zone name"),
    ("TIMEZONE", "utc", "an IANA time zone name"),
    ("TIMEZONE", "America", "an IANA time zone name"),
    ("TIMEZONE", "../../etc/passwd", "an IANA time zone name"),
    ("DATE_LANGUAGES", "english", "language codes such as en, ru, de"),
    ("DATE_LANGUAGES", "en;ru", "language codes"),
    ("DATE_ORDER", "DDMMYY", "DMY, MDY or YMD"),
    ("SCHEDULE_MISFIRE_GRACE", "1y", "e.g. 30m, 1h"),
    ("SCHEDULE_MISFIRE_GRACE", "8d", "from 0s to 7d"),
    ("SCHEDULE_MISFIRE_GRACE", "-1h", "e.g. 30m, 1h"),
    ("SCHEDULE_MISFIRE_GRACE", "1.5h", "a whole number with s, m, h or d"),
    ("REQUIRE_TERMS", "sure", "true/false"),
    ("SESSION_STORE", "redis", "file (in SESSION_DIR) or mongo (in the database)"),
    ("IN_DOUBT_RETRY_WINDOW", "8d", "the window (0: never retry): a whole number"),
    ("IN_DOUBT_RETRY_WINDOW", "-1", "from 0s to 7d"),
    ("DB_OUTAGE_LIMIT", "9s", "the wait: a whole number with s, m, h or d (e.g. 30m, 1h)"),
    ("DB_OUTAGE_LIMIT", "0", "from 10s to 1d"),
    ("DB_OUTAGE_LIMIT", "25h", "from 10s to 1d"),
    ("PAUSE_REMINDER", "31d", "the delay (0: never): a whole number"),
    ("PAUSE_REMINDER", "soon", "from 0s to 30d"),
    ("METRICS_PORT", "0", "a TCP port, 1 <= x <= 65535"),
    ("METRICS_PORT", "65536", "a TCP port, 1 <= x <= 65535"),
    ("METRICS_PORT", "http", "a TCP port"),
    ("PAID_BROADCAST", "paid", "true/false, 1/0, yes/no or on/off"),
    ("LOG_LEVEL", "TRACE", "DEBUG, INFO, WARNING or ERROR"),
    ("LOG_LEVEL", "critical", "DEBUG, INFO, WARNING or ERROR"),
]


@pytest.mark.parametrize(("variable", "raw", "accepted"), BAD_VALUES)
def test_bad_value_names_variable_value_and_accepted(
    variable: str, raw: str, accepted: str
) -> None:
    (problem,) = problems_for(**{variable: raw})
    assert problem.startswith(f"{variable}={raw!r}: ")
    # A reason may come first ("ADMIN_IDS='0': "0" is not ..."); what is accepted always follows.
    assert accepted in problem.partition("expected ")[2]


@pytest.mark.parametrize(
    ("variable", "raw"),
    [("API_HASH", "abc"), ("API_HASH", "g" * 32), ("BOT_TOKEN", "123456:short"),
     ("BOT_TOKEN", "abc:" + "A" * 35), ("BOT_TOKEN", "123:" + "A" * 34 + "!"),
     ("BOT_TOKEN", "123:" + "A" * 29), ("SESSION_STRING", SESSION[:-1]),
     ("SESSION_STRING", SESSION[:-1] + "+"), ("SESSION_STRING", SESSION + "A")],
)  # fmt: skip
def test_bad_secret_is_reported_without_its_value(variable: str, raw: str) -> None:
    (problem,) = problems_for(**{variable: raw})
    assert problem.startswith(f"{variable}=<hidden, length {len(raw)}>: expected ")
    assert raw not in problem


def test_all_bad_values_are_reported_together() -> None:
    with pytest.raises(ConfigError) as info:
        load(
            API_ID="x",
            BROADCAST_RATE_LIMIT="abc",
            BROADCAST_CONCURRENCY="0",
            TIMEZONE="Nowhere",
            MONGO_DB="a.b",
        )
    variables = [problem.split("=")[0] for problem in info.value.problems]
    order = ["API_ID", "MONGO_DB", "BROADCAST_RATE_LIMIT", "BROADCAST_CONCURRENCY", "TIMEZONE"]
    assert variables == order
    expected = "BROADCAST_RATE_LIMIT='abc': expected a number of messages per second, 0 < x <= 1000"
    assert f"  {expected}" in str(info.value).splitlines()
    assert isinstance(info.value, ValueError)


def test_test_mode_without_test_users_is_refused() -> None:
    (problem,) = problems_for(BROADCAST_TEST_MODE="on")
    assert problem.startswith("BROADCAST_TEST_USERS: expected at least one user id")
    assert "BROADCAST_TEST_MODE" in problem


def test_test_mode_problem_is_listed_with_other_problems() -> None:
    problems = problems_for(BROADCAST_TEST_MODE="yes", BROADCAST_CONCURRENCY="many")
    assert [p.split("=")[0].split(":")[0] for p in problems] == [
        "BROADCAST_CONCURRENCY",
        "BROADCAST_TEST_USERS",
    ]


def test_test_mode_with_test_users() -> None:
    settings = load(BROADCAST_TEST_MODE="true", BROADCAST_TEST_USERS="10,20")
    assert (settings.test_mode, settings.test_users) == (True, (10, 20))


# --- the Settings object -------------------------------------------------------


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.rate_limit = 1.0  # type: ignore[misc]


def test_settings_are_slotted() -> None:
    assert not hasattr(Settings(), "__dict__")


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, ["API_ID", "API_HASH", "BOT_TOKEN"]),
        ({"API_ID": "1"}, ["API_HASH", "BOT_TOKEN"]),
        ({"API_HASH": HASH, "BOT_TOKEN": TOKEN}, ["API_ID"]),
        ({"API_ID": "1", "API_HASH": HASH, "BOT_TOKEN": TOKEN}, []),
    ],
)
def test_missing_credentials(environ: dict[str, str], missing: list[str]) -> None:
    assert load_settings(environ, env_file=None).missing_credentials() == missing


def test_tz() -> None:
    assert load(TIMEZONE="Europe/Berlin").tz == ZoneInfo("Europe/Berlin")


def test_repr_hides_secrets() -> None:
    settings = load(
        API_HASH=HASH, BOT_TOKEN=TOKEN, MONGO_URI="mongodb://u:pw@h", SESSION_STRING=SESSION
    )
    assert HASH not in repr(settings)
    assert TOKEN not in repr(settings)
    assert "pw@" not in repr(settings)
    assert SESSION[:20] not in repr(settings)


def test_for_tests_gives_complete_valid_settings() -> None:
    settings = Settings.for_tests(concurrency=2)
    assert settings.missing_credentials() == []
    assert settings.concurrency == 2
    assert Settings.for_tests(bot_token=None).missing_credentials() == ["BOT_TOKEN"]


@pytest.mark.parametrize(
    ("overrides", "start"),
    [
        ({"rate_limit": 0}, "BROADCAST_RATE_LIMIT=0: expected"),
        ({"test_users": (1, -1)}, 'BROADCAST_TEST_USERS=(1, -1): "-1" is not a positive'),
        ({"admin_ids": frozenset({True})}, 'ADMIN_IDS=frozenset({True}): "True" is not a'),
        ({"log_level": "debug"}, "LOG_LEVEL='debug': expected DEBUG, INFO, WARNING or ERROR"),
        ({"metrics_port": 0}, "METRICS_PORT=0: expected a TCP port"),
        ({"session_string": "x"}, "SESSION_STRING=<hidden, length 1>: expected"),
        ({"bot_token": "bad"}, "BOT_TOKEN=<hidden, length 3>: expected"),
        ({"timezone": "Nowhere"}, "TIMEZONE='Nowhere': expected"),
        ({"test_mode": True}, "BROADCAST_TEST_USERS: expected at least one user id"),
    ],
)
def test_direct_construction_is_validated(overrides: dict[str, Any], start: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.for_tests(**overrides)
    assert info.value.problems[0].startswith(start)


@pytest.mark.parametrize(
    ("rate", "paid", "warned"),
    [("25", "false", False), ("30", "false", False), ("30.5", "false", True),
     ("1000", "false", True), ("1000", "true", False), ("20", "true", False)],
)  # fmt: skip
def test_rate_above_the_free_limit_is_allowed_with_a_warning(
    rate: str, paid: str, warned: bool
) -> None:
    settings = load(BROADCAST_RATE_LIMIT=rate, PAID_BROADCAST=paid)
    assert settings.rate_limit == float(rate)
    assert (settings.rate_warning is not None) is warned
    if settings.rate_warning is not None:
        assert settings.rate_warning.startswith(f"BROADCAST_RATE_LIMIT={rate}: ")
        assert "about 30 messages per second for free" in settings.rate_warning
        assert "PAID_BROADCAST=true" in settings.rate_warning
