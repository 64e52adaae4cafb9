"""Tests for config: .env files, and .env.example against the settings."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from config import ENV_VARS, ConfigError, Settings, load_settings
from config.envfile import parse_env_line
from tests.config.support import HASH, TOKEN

EXAMPLE = Path(__file__).parents[2] / ".env.example"


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


def commented_variables() -> set[str]:
    text = EXAMPLE.read_text(encoding="utf-8")
    return set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_every_variable_read_is_in_env_example() -> None:
    environ = RecordingEnviron()
    load_settings(environ, env_file=None)
    assert environ.read == set(ENV_VARS)
    assert environ.read <= example_variables()


def test_every_settings_field_has_a_variable() -> None:
    assert sorted(ENV_VARS.values()) == sorted(f.name for f in dataclasses.fields(Settings))


def test_env_example_with_everything_uncommented_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths in the example are looked up here
    (tmp_path / "segments.toml").write_text("", encoding="utf-8")
    uncommented = re.sub(
        r"^# ([A-Z][A-Z0-9_]*=)",
        r"\1",
        EXAMPLE.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    settings = load_settings({}, write(tmp_path, uncommented))
    assert settings.missing_credentials() == []
    assert settings.test_mode is False
    shipped = load_settings({}, EXAMPLE)
    for name in commented_variables():  # each commented example is read, not defaulted
        field = ENV_VARS[name]
        assert getattr(settings, field) != getattr(shipped, field), name


def test_env_example_as_shipped_gives_the_defaults() -> None:
    assert load_settings({}, EXAMPLE) == Settings()
