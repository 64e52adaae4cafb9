"""Tests for config: parsing, validation, .env files and .env.example."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config import ENV_VARS, ConfigError, Settings, load_settings
from config.parsers import parse_env_line

EXAMPLE = Path(__file__).parents[2] / ".env.example"
HASH = "0123456789abcdef0123456789ABCDEF"
TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz_0123"


def load(**environ: str) -> Settings:
    """Load from ``environ`` only, never from the process or a .env file."""
    return load_settings(environ, env_file=None)


def problems_for(**environ: str) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        load(**environ)
    return info.value.problems


def test_defaults_with_empty_environ() -> None:
    assert load() == Settings(
        api_id=None,
        api_hash=None,
        bot_token=None,
        mongo_uri="mongodb://localhost:27017",
        mongo_db="broadcast_manager",
        admin_ids=frozenset(),
        users_collection="users",
        rate_limit=25.0,
        concurrency=16,
        progress_interval=100,
        test_mode=False,
        test_users=(),
        timezone="UTC",
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
        ("SEGMENTS_FILE", "conf/segments.toml", "segments_file", "conf/segments.toml"),
        ("REQUIRE_TERMS", "yes", "require_terms", True),
        ("TERMS_TEXT", "Accept?", "terms_text", "Accept?"),
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
    ("MONGO_URI", "localhost:27017", "a URI starting with mongodb:// or mongodb+srv://"),
    ("MONGO_URI", "mongodb://", "mongodb://"),
    ("MONGO_DB", "my.db", "a MongoDB database name"),
    ("MONGO_DB", "my db", "a MongoDB database name"),
    ("MONGO_DB", "a/b", "a MongoDB database name"),
    ("MONGO_DB", "price$", "a MongoDB database name"),
    ("MONGO_DB", "d" * 64, "1 to 63 bytes"),
    ("MONGO_DB", "é" * 32, "1 to 63 bytes"),
    ("ADMIN_IDS", "1,two", "positive Telegram user ids separated by commas or spaces"),
    ("ADMIN_IDS", "1,-2", "positive Telegram user ids"),
    ("ADMIN_IDS", "0", "positive Telegram user ids"),
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
    ("BROADCAST_TEST_USERS", "1;2", "positive Telegram user ids"),
    ("TIMEZONE", "Mars/Olympus", "an IANA time zone name"),
    ("TIMEZONE", "utc", "an IANA time zone name"),
    ("TIMEZONE", "America", "an IANA time zone name"),
    ("TIMEZONE", "../../etc/passwd", "an IANA time zone name"),
    ("DATE_LANGUAGES", "english", "language codes such as en, ru, de"),
    ("DATE_LANGUAGES", "en;ru", "language codes"),
    ("DATE_ORDER", "DDMMYY", "DMY, MDY or YMD"),
    ("SCHEDULE_MISFIRE_GRACE", "1y", "e.g. 30m, 1h"),
    ("SCHEDULE_MISFIRE_GRACE", "8d", "0 s to 604800 s"),
    ("SCHEDULE_MISFIRE_GRACE", "-1h", "e.g. 30m, 1h"),
    ("REQUIRE_TERMS", "sure", "true/false"),
]


@pytest.mark.parametrize(("variable", "raw", "accepted"), BAD_VALUES)
def test_bad_value_names_variable_value_and_accepted(
    variable: str, raw: str, accepted: str
) -> None:
    (problem,) = problems_for(**{variable: raw})
    assert problem.startswith(f"{variable}={raw!r}: expected ")
    assert accepted in problem


@pytest.mark.parametrize(
    ("variable", "raw"),
    [("API_HASH", "abc"), ("API_HASH", "g" * 32), ("BOT_TOKEN", "123456:short"),
     ("BOT_TOKEN", "abc:" + "A" * 35), ("BOT_TOKEN", "123:" + "A" * 34 + "!")],
)  # fmt: skip
def test_bad_secret_is_reported_without_its_value(variable: str, raw: str) -> None:
    (problem,) = problems_for(**{variable: raw})
    assert problem.startswith(f"{variable}=<hidden, length {len(raw)}>: expected ")
    assert raw not in problem


def test_bad_mongo_uri_hides_password() -> None:
    (problem,) = problems_for(MONGO_URI="mongo://admin:s3cret@db.example.net")
    assert "MONGO_URI='mongo://admin:***@db.example.net': expected" in problem
    assert "s3cret" not in problem


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


# --- .env files --------------------------------------------------------------

ENV_FILE = """\
# a comment
   # an indented comment

export API_ID=111
API_HASH = '0123456789abcdef0123456789abcdef'  # single quotes, then a comment
BOT_TOKEN="123456789:AAH-abcdefghijklmnopqrstuvwxyz_0123"
MONGO_DB=from_file # a trailing comment
ADMIN_IDS="1, 2"
TIMEZONE='Europe/Berlin'
USERS_COLLECTION=people#not-a-comment
BROADCAST_CONCURRENCY=
"""


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "settings.env"
    path.write_text(content, encoding="utf-8")
    return path


def test_env_file_is_parsed(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=write(tmp_path, ENV_FILE))
    assert settings.api_id == 111
    assert settings.api_hash == HASH.lower()
    assert settings.bot_token == TOKEN
    assert settings.mongo_db == "from_file"
    assert settings.admin_ids == frozenset({1, 2})
    assert settings.timezone == "Europe/Berlin"
    assert settings.users_collection == "people#not-a-comment"
    assert settings.concurrency == 16


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('MONGO_DB="a\\"b"', 'a"b'),
        ("MONGO_DB='a\\nb'", "a\\nb"),
        ('MONGO_DB="a\\\\b"', "a\\b"),
        ("MONGO_DB='  padded  '", "  padded  "),
        ('MONGO_DB="#hash"', "#hash"),
        ("export   MONGO_DB=x", "x"),
        ("MONGO_DB=bare  # comment", "bare"),
    ],
)
def test_env_file_quoting(line: str, expected: str) -> None:
    assert parse_env_line(line) == ("MONGO_DB", expected)


def test_environment_wins_over_file(tmp_path: Path) -> None:
    path = write(tmp_path, "MONGO_DB=from_file\nBROADCAST_CONCURRENCY=4\n")
    settings = load_settings({"MONGO_DB": "from_env", "BROADCAST_CONCURRENCY": ""}, path)
    # An empty environment variable counts as unset, so the file's value applies.
    assert (settings.mongo_db, settings.concurrency) == ("from_env", 4)


def test_later_line_wins(tmp_path: Path) -> None:
    settings = load_settings({}, write(tmp_path, "MONGO_DB=first\nMONGO_DB=second\n"))
    assert settings.mongo_db == "second"


def test_bad_value_in_file_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "BROADCAST_RATE_LIMIT=fast\n")
    with pytest.raises(ConfigError, match=r"BROADCAST_RATE_LIMIT='fast': expected"):
        load_settings({}, path)


def test_malformed_lines_are_reported_by_number(tmp_path: Path) -> None:
    path = write(tmp_path, "JUST A LINE\nBOT_TOKEN='unterminated\nAPI_ID=x\n")
    with pytest.raises(ConfigError) as info:
        load_settings({}, path)
    problems = info.value.problems
    assert problems[0] == f"{path} line 1: expected KEY=VALUE"
    assert problems[1].startswith(f"{path} line 2: unterminated quote")
    assert "unterminated'" not in str(info.value)
    assert problems[2].startswith("API_ID='x'")


def test_missing_explicit_env_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.env"
    with pytest.raises(ConfigError, match="not found"):
        load_settings({}, missing)


def test_missing_default_env_file_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings({}) == Settings()


def test_default_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("MONGO_DB=dotenv\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings({}).mongo_db == "dotenv"


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
    settings = load(API_HASH=HASH, BOT_TOKEN=TOKEN, MONGO_URI="mongodb://u:pw@h")
    assert HASH not in repr(settings)
    assert TOKEN not in repr(settings)
    assert "pw@" not in repr(settings)


def test_for_tests_gives_complete_valid_settings() -> None:
    settings = Settings.for_tests(concurrency=2)
    assert settings.missing_credentials() == []
    assert settings.concurrency == 2
    assert Settings.for_tests(bot_token=None).missing_credentials() == ["BOT_TOKEN"]


@pytest.mark.parametrize(
    ("overrides", "start"),
    [
        ({"rate_limit": 0}, "BROADCAST_RATE_LIMIT=0: expected"),
        ({"test_users": (1, -1)}, "BROADCAST_TEST_USERS=(1, -1): expected"),
        ({"bot_token": "bad"}, "BOT_TOKEN=<hidden, length 3>: expected"),
        ({"timezone": "Nowhere"}, "TIMEZONE='Nowhere': expected"),
        ({"test_mode": True}, "BROADCAST_TEST_USERS: expected at least one user id"),
    ],
)
def test_direct_construction_is_validated(overrides: dict[str, Any], start: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.for_tests(**overrides)
    assert info.value.problems[0].startswith(start)


# --- .env.example --------------------------------------------------------------


class RecordingEnviron(Mapping[str, str]):
    """An empty environment that records every variable looked up."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def example_variables() -> set[str]:
    text = EXAMPLE.read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?(?:export )?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_every_variable_read_is_in_env_example() -> None:
    environ = RecordingEnviron()
    load_settings(environ, env_file=None)
    assert environ.read == set(ENV_VARS)
    assert environ.read <= example_variables()


def test_every_settings_field_has_a_variable() -> None:
    assert sorted(ENV_VARS.values()) == sorted(f.name for f in dataclasses.fields(Settings))


def test_env_example_with_everything_uncommented_is_valid(tmp_path: Path) -> None:
    uncommented = re.sub(
        r"^# ([A-Z][A-Z0-9_]*=)",
        r"\1",
        EXAMPLE.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    settings = load_settings({}, write(tmp_path, uncommented))
    assert settings.missing_credentials() == []
    assert settings.test_mode is False


def test_env_example_as_shipped_gives_the_defaults() -> None:
    assert load_settings({}, EXAMPLE) == Settings()
