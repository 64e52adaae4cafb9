"""Tests for config: problems that say what is wrong, not only what is accepted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymongo.errors import ConfigurationError, InvalidURI
from pymongo.uri_parser import parse_uri

from config import ConfigError, Settings
from tests.config.support import load, problems_for

URI_ACCEPTS = "expected a URI like mongodb://[user:password@]host[:port]"


# --- MONGO_URI -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "shown", "reason"),
    [
        ("mongodb://", "'mongodb://'", "the host is missing after 'mongodb://'"),
        ("mongodb+srv://", "'mongodb+srv://'", "the host is missing after 'mongodb+srv://'"),
        ("mongodb:///db", "'mongodb:///db'", "the host is missing"),
        ("mongodb://admin:s3cret@", "'mongodb://admin:***@'", "the host is missing"),
        ("mongodb://host:99999", "'mongodb://host:99999'", "a port outside 1-65535"),
        ("mongodb://host:0/db", "'mongodb://host:0/db'", "a port outside 1-65535"),
        ("mongodb://a:1,b:70000", "'mongodb://a:1,b:70000'", "a port outside 1-65535"),
        ("mongodb://[::1]:99999", "'mongodb://[::1]:99999'", "a port outside 1-65535"),
        ("mongodb://host:abc", "'mongodb://host:abc'", "a port that is not a number"),
        ("mongodb://host:", "'mongodb://host:'", "a port that is not a number"),
        ("mongodb://admin:s3cret@host:99999/db", "'mongodb://admin:***@host:99999/db'",
         "a port outside 1-65535"),
        ("mongodb://:27017", "'mongodb://:27017'", "the host is missing before ':port'"),
        ("mongodb://a,,b", "'mongodb://a,,b'", "an empty host in the host list"),
        ("mongodb://[::1", "'mongodb://[::1'", "an IPv6 address without its closing ']'"),
        ("mongodb://[::1]x", "'mongodb://[::1]x'", "text after the ']' of an IPv6 address"),
        ("mongodb://::1", "'mongodb://::1'", "more than one ':' in a host"),
        ("mongodb+srv://cluster.example.net:27017", "'mongodb+srv://cluster.example.net:27017'",
         "mongodb+srv:// takes no port"),
        ("mongodb+srv://a.example.net,b.example.net", "'mongodb+srv://a.example.net,b.example.net'",
         "mongodb+srv:// takes one host name, not a list"),
        ("mongodb://:s3cret@host", "'mongodb://:***@host'", "the user name before '@' is empty"),
        ("mongodb://admin:s3c@ret@host", "'mongodb://admin:***@host'",
         "percent-encode ':', '/', '?', '#', '[', ']' and '@' in the user name and password"),
        ("mongodb://admin:s3c:ret@host", "'mongodb://admin:***@host'", "percent-encode"),
        ("mongodb://admin:s3c/ret@host", "'mongodb://admin:***@host'",
         "an '@' after the first '/': percent-encode"),
        ("mongodb://host:27017 /db", "'mongodb://host:27017 /db'", "whitespace inside it"),
    ],
)  # fmt: skip
def test_bad_mongo_uri_says_what_is_missing_or_wrong(uri: str, shown: str, reason: str) -> None:
    (problem,) = problems_for(MONGO_URI=uri)
    assert problem.startswith(f"MONGO_URI={shown}: ")
    assert reason in problem.partition("; expected")[0]
    assert URI_ACCEPTS in problem
    assert "s3c" not in problem


def test_not_a_mongo_uri_at_all_says_what_is_accepted() -> None:
    (problem,) = problems_for(MONGO_URI="mongo://admin:s3cret@db.example.net")
    assert problem.startswith(f"MONGO_URI='mongo://admin:***@db.example.net': {URI_ACCEPTS}")
    assert "s3cret" not in problem


PLAIN_URIS = [
    "mongodb://localhost",
    "mongodb://localhost:27017/broadcast?replicaSet=rs&w=majority",
    "mongodb://a:27017,b:27018,c/?replicaSet=rs",
    "mongodb://admin:s%40cr%2Ft@db.example.net:27017/admin",
    "mongodb://admin@db.example.net/?authMechanism=MONGODB-X509",
    "mongodb://[::1]:27017",
    "mongodb://[::1]",
    "mongodb://%2Ftmp%2Fmongodb-27017.sock",
    "mongodb://",
    "mongodb://host:99999",
    "mongodb://host:0",
    "mongodb://host:abc",
    "mongodb://a,,b",
    "mongodb://::1",
    "mongodb://[::1",
    "mongodb://:pw@host",
    "mongodb://u:p@ss@host",
    "mongodb://u:p:ss@host",
    "mongodb://u:pa/ss@host",
    "mongodb://u:pa?ss@host",
    "mongodb://host:27017 ",
]


def problems_of(uri: str) -> str:
    """What constructing settings with ``uri`` reports; empty when it is accepted."""
    try:
        Settings(mongo_uri=uri)
    except ConfigError as error:
        return str(error)
    return ""


def pymongo_accepts(uri: str) -> bool:
    try:
        parse_uri(uri)
    except (InvalidURI, ConfigurationError, ValueError):
        return False
    return True


@pytest.mark.parametrize("uri", PLAIN_URIS)
def test_mongo_uri_rules_agree_with_pymongo(uri: str) -> None:
    assert (problems_of(uri) == "") is pymongo_accepts(uri)


RESERVED = ":/?#[]@%, \t"


@given(
    password=st.text(alphabet=st.sampled_from("abcXYZ019" + RESERVED), max_size=12),
    hosts=st.sampled_from(["db", "db:27017", "db:99999", "", "a,,b", "[::1", "db:x"]),
    scheme=st.sampled_from(["mongodb://", "mongodb+srv://", "mongo://", ""]),
    tail=st.sampled_from(["", "/app", "/?w=1", "?appName=x@y"]),
)
def test_no_mongo_uri_problem_shows_the_password(
    password: str, hosts: str, scheme: str, tail: str
) -> None:
    uri = f"{scheme}admin:Pw{password}@{hosts}{tail}"
    assert f"Pw{password}" not in problems_of(uri)


# --- user ids ------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["ADMIN_IDS", "BROADCAST_TEST_USERS"])
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12,abc,-5", '"abc" and "-5" are not positive Telegram user ids'),
        ("12 0", '"0" is not a positive Telegram user id'),
        ("1;2", '"1;2" is not a positive Telegram user id'),
        ("a,b,c,d,e,f,7", '"a", "b", "c", "d" and 2 more are not positive Telegram user ids'),
    ],
)
def test_bad_user_ids_are_named(variable: str, raw: str, reason: str) -> None:
    (problem,) = problems_for(**{variable: raw})
    assert problem.startswith(f"{variable}={raw!r}: {reason}; expected positive integers")


# --- paths -----------------------------------------------------------------------


def test_missing_segments_file_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (problem,) = problems_for(SEGMENTS_FILE="segs.toml")
    assert problem.startswith(f"SEGMENTS_FILE='segs.toml': no such file (relative to {tmp_path});")
    (problem,) = problems_for(SEGMENTS_FILE=str(tmp_path / "segs.toml"))
    assert problem.startswith(f"SEGMENTS_FILE='{tmp_path / 'segs.toml'}': no such file; expected")


def test_segments_file_that_is_a_directory(tmp_path: Path) -> None:
    (problem,) = problems_for(SEGMENTS_FILE=str(tmp_path))
    assert problem.startswith(f"SEGMENTS_FILE={str(tmp_path)!r}: a directory, not a file;")


def test_existing_segments_file_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "segs.toml").write_text("", encoding="utf-8")
    assert load(SEGMENTS_FILE="segs.toml").segments_file == "segs.toml"


def test_session_dir_may_exist_or_be_creatable(tmp_path: Path) -> None:
    assert load(SESSION_DIR=str(tmp_path)).session_dir == str(tmp_path)
    later = tmp_path / "sessions" / "bot"
    assert load(SESSION_DIR=str(later)).session_dir == str(later)
    assert not later.parent.exists()  # checking does not create it


def test_session_dir_reports_a_file_in_the_way(tmp_path: Path) -> None:
    blocker = tmp_path / "sessions"
    blocker.write_text("", encoding="utf-8")
    (problem,) = problems_for(SESSION_DIR=str(blocker))
    assert problem.startswith(f"SESSION_DIR={str(blocker)!r}: a file, not a directory;")
    (problem,) = problems_for(SESSION_DIR=str(blocker / "bot" / "x"))
    assert f"cannot be created: {str(blocker)!r} is a file in the way; expected a directory" in (
        problem
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_session_dir_under_a_read_only_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    (problem,) = problems_for(SESSION_DIR=str(locked / "sessions"))
    assert f"cannot be created: {str(locked)!r} is not writable" in problem
