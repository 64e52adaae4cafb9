"""The log format: one line per record, fields first, secrets masked everywhere."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.events import event
from bot.ops.logs import EventFormatter, Redactor, configure_logging, plain, quoted, secrets_of
from config.settings import Settings

TOKEN = "7123456789:AAF9vQ_secret-part-of-the-bot-token-xyz"
API_HASH = "0123456789abcdef0123456789abcdef"
SESSION = ("BQBr4xYAAAAA" + "session_string-" * 30)[:362]
PASSWORD = "p%40ss%3Aw0rd"  # as written in the URI: "p@ss:w0rd" percent-encoded
URI = f"mongodb://bm_user:{PASSWORD}@db1.example.net:27017/?replicaSet=rs0"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR) \S+ ")


@pytest.fixture
def settings() -> Settings:
    return Settings.for_tests(bot_token=TOKEN, session_string=SESSION, mongo_uri=URI)


@pytest.fixture
def logged(settings: Settings) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of our own whose records go through the formatter into a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(EventFormatter(Redactor(secrets_of(settings))))
    logger = logging.getLogger("tests.ops.format")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_an_event_is_one_line_with_the_broadcast_and_event_first(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = logged
    log.info(
        "run finished: %s",
        "completed",
        extra=event(
            "run.finished",
            "bc_20261207_101500_ab12",
            total=3000,
            errors={"blocked": 90, "deactivated": 30},
            duration_s=121.5,
            resumed=False,
            reason=None,
        ),
    )

    [line] = lines(out)
    assert LINE.match(line), line
    assert line.split(" ", 3)[1:3] == ["INFO", "tests.ops.format"]
    assert line.split(" ", 3)[3] == (
        "broadcast=bc_20261207_101500_ab12 event=run.finished total=3000"
        " errors=blocked:90,deactivated:30 duration_s=121.5 resumed=false reason=none"
        ' msg="run finished: completed"'
    )


def test_an_event_without_a_broadcast_names_only_the_event(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = logged
    log.warning("leadership lost", extra=event("leadership.lost", holder="host:42:ab12cd"))

    [line] = lines(out)
    assert line.split(" ", 1)[1] == (
        'WARNING tests.ops.format event=leadership.lost holder=host:42:ab12cd msg="leadership lost"'
    )
    assert "broadcast=" not in line


def test_a_plain_record_still_makes_a_line(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, out = logged
    log.debug("status of %s: edit failed", "bc_1")

    [line] = lines(out)
    assert LINE.match(line)
    assert line.endswith(' DEBUG tests.ops.format msg="status of bc_1: edit failed"')


def test_the_time_is_utc_with_milliseconds(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, out = logged
    before = datetime.now(UTC)
    log.info("now")

    stamp = datetime.fromisoformat(lines(out)[0].split(" ")[0])
    assert stamp.tzinfo is not None
    assert abs(stamp - before) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "none"),
        (True, "true"),
        (3, "3"),
        (0.25, "0.25"),
        (2.0, "2"),
        (1 / 3, "0.333"),
        ({}, "none"),
        ([1, 2], "1,2"),
        (datetime(2026, 12, 7, 13, 15, tzinfo=UTC), "2026-12-07T13:15:00Z"),
        (timedelta(minutes=2), "120"),
    ],
)
def test_values_are_shown_plainly(value: object, shown: str) -> None:
    assert plain(value) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("bc_20261207_101500_ab12", "bc_20261207_101500_ab12"),
        ("two words", '"two words"'),
        ("", '""'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a=b", '"a=b"'),
        ("line\nbreak\r\tend", '"line\\nbreak\\r\\tend"'),
        ("back\\slash", '"back\\\\slash"'),
        ("sep\u2028arator\x85\x1e", '"sep\\u2028arator\\u0085\\u001e"'),
        ("Привет", "Привет"),
    ],
)
def test_text_is_quoted_and_escaped_onto_one_line(text: str, shown: str) -> None:
    assert quoted(text) == shown
    assert len(shown.splitlines()) == 1


def test_field_values_with_newlines_stay_on_the_line(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = logged
    log.warning("stopped", extra=event("run.stopping", "bc_1", reason="one\ntwo words"))

    [line] = lines(out)
    assert 'reason="one\\ntwo words"' in line


def test_secrets_are_masked_in_messages_fields_and_tracebacks(
    settings: Settings, logged: tuple[logging.Logger, io.StringIO]
) -> None:
    log, out = logged

    def connect() -> None:
        raise ConnectionError(f"auth failed for {URI} (password 'p@ss:w0rd')\nsession {SESSION}")

    log.info("starting with token %s and hash %s", TOKEN, API_HASH)
    log.warning("config", extra=event("config.seen", uri=URI, token=TOKEN))
    try:
        connect()
    except ConnectionError:
        log.exception("the database failed", extra=event("db.failed", "bc_1"))

    text = out.getvalue()
    assert len(lines(out)) == 3, "a traceback must stay on its line"
    for secret in secrets_of(settings):
        assert secret not in text
    assert "p@ss:w0rd" not in text  # the password decoded, as an error may quote it
    assert "secret-part-of-the-bot-token" not in text
    assert "mongodb://***@db1.example.net:27017" in text  # the host stays: it helps
    traceback = lines(out)[2]
    assert 'traceback="Traceback (most recent call last):\\n' in traceback
    assert "ConnectionError: auth failed for mongodb://***@" in traceback
    assert ", in connect\\n" in traceback  # still a useful traceback


def test_credentials_and_tokens_nobody_configured_are_masked_by_their_shape() -> None:
    redact = Redactor()

    host_bot_uri = "mongodb+srv://host:Sup3r@cluster0.example.net/app"
    assert redact(f"cannot reach {host_bot_uri}") == (
        "cannot reach mongodb+srv://***@cluster0.example.net/app"
    )
    assert redact(f"token {TOKEN} rejected") == "token *** rejected"
    assert redact("bc_20261207_101500_ab12 sent=3000 at 10:15:00") == (
        "bc_20261207_101500_ab12 sent=3000 at 10:15:00"
    )


def test_very_short_secrets_are_not_masked_in_every_word() -> None:
    redact = Redactor(["abc", "", None])

    assert redact("abcdef") == "abcdef"
    assert redact("mongodb://u:abc@h/") == "mongodb://***@h/"


def test_secrets_of_the_settings() -> None:
    settings = Settings.for_tests(bot_token=TOKEN, session_string=SESSION, mongo_uri=URI)

    assert set(secrets_of(settings)) == {
        TOKEN,
        TOKEN.partition(":")[2],
        API_HASH,
        SESSION,
        PASSWORD,
        "p@ss:w0rd",
    }
    assert secrets_of(Settings.for_tests(api_hash=None, bot_token=None)) == []


def test_configure_logging_sets_the_level_and_replaces_its_own_handler(
    root_logging: logging.Logger,
) -> None:
    first, out = io.StringIO(), io.StringIO()
    configure_logging("DEBUG", stream=first)
    configure_logging("WARNING", [TOKEN], stream=out)

    logging.getLogger("bot.delivery.run").info("not shown at WARNING")
    logging.getLogger("bot.delivery.run").warning("token %s", TOKEN, extra=event("x", "bc_1"))

    assert first.getvalue() == ""
    [line] = lines(out)
    assert line.endswith(' WARNING bot.delivery.run broadcast=bc_1 event=x msg="token ***"')
    ours = [h for h in root_logging.handlers if isinstance(h.formatter, EventFormatter)]
    assert len(ours) == 1


def test_at_debug_the_libraries_stay_at_info(root_logging: logging.Logger) -> None:
    out = io.StringIO()
    configure_logging("DEBUG", stream=out)

    logging.getLogger("bot.delivery.dispatch").debug("ours")
    logging.getLogger("pymongo.command").debug("every command")
    logging.getLogger("hydrogram.session").info("connected")

    assert [line.rsplit(" ", 1)[-1] for line in lines(out)] == ["msg=ours", "msg=connected"]
