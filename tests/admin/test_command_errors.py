"""The admin command parser: addressees, other commands, usage errors, hand-built requests, help."""

from __future__ import annotations

from typing import Any

import pytest

from bot.admin.commands import (
    ADMIN_HELP,
    USAGE,
    BroadcastRequest,
    CancelRequest,
    HelpRequest,
    HistoryRequest,
    NotACommand,
    NotForUs,
    RequestError,
    UnknownCommand,
    parse_command,
)
from bot.admin.commands.broadcast import FLAGS
from bot.admin.commands.help import EXAMPLES, NOT_IN_PREVIEW
from bot.delivery.content import (
    UrlButton,
)
from tests.admin.parsing import ID, usage_error

# --- commands and addressees -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "username", "expected"),
    [
        ("/broadcast@MyBot Hi", "MyBot", BroadcastRequest(text="Hi")),
        ("/broadcast@mybot Hi", "MyBot", BroadcastRequest(text="Hi")),
        ("/broadcast@MYBOT Hi", "@mybot", BroadcastRequest(text="Hi")),
        ("/broadcast Hi", None, BroadcastRequest(text="Hi")),
        ("/BROADCAST Hi", None, BroadcastRequest(text="Hi")),
        ("/broadcast@OtherBot Hi", "MyBot", NotForUs("OtherBot")),
        ("/broadcast@MyBot Hi", None, NotForUs("MyBot")),
        ("/help@OtherBot", "MyBot", NotForUs("OtherBot")),
        ("/help@MyBot", "MyBot", HelpRequest()),
        ("/help", None, HelpRequest()),
        ("/help me please", None, HelpRequest()),
        ("/start", "MyBot", NotACommand()),
        ("/start@MyBot", "MyBot", NotACommand()),
        (
            "/broadcasts Hi",
            "MyBot",
            UnknownCommand(
                "broadcasts",
                "Unknown command /broadcasts. Did you mean /broadcast?"
                f"\nUsage: {USAGE['broadcast']}",
            ),
        ),
        (
            "/broadcast_weekly_statistics_report",
            "MyBot",
            UnknownCommand(
                "broadcast_weekly_statistics_report",
                "Unknown command /broadcast_weekly_statistics_report; /help lists the commands."
                "\nUsage: /help",
            ),
        ),
        ("/broadcast-now Hi", "MyBot", NotACommand()),
        ("Hello /broadcast", "MyBot", NotACommand()),
        (" /broadcast Hi", "MyBot", NotACommand()),
        ("", "MyBot", NotACommand()),
        ("/", "MyBot", NotACommand()),
        ("/ broadcast", "MyBot", NotACommand()),
        ("/broadcast@", "MyBot", NotACommand()),
    ],
)
def test_addressing(text: str, username: str | None, expected: object) -> None:
    assert parse_command(text, bot_username=username) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/broadcast_history", HistoryRequest(limit=10)),
        ("/broadcast_history 1", HistoryRequest(limit=1)),
        ("/broadcast_history 50", HistoryRequest(limit=50)),
        ("/broadcast_history  +7 ", HistoryRequest(limit=7)),
        (f"/broadcast_history {ID}", HistoryRequest(broadcast_id=ID)),
        (f"/broadcast_history {ID.upper()}", HistoryRequest(broadcast_id=ID)),
        (f"/broadcast_cancel {ID}", CancelRequest(ID)),
        ("/broadcast_cancel  Bc_20261129_143000_A1B2\n", CancelRequest(ID)),
    ],
)
def test_history_and_cancel(text: str, expected: object) -> None:
    assert parse_command(text) == expected


# --- usage errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "/broadcast --segmnt vip Hi",
            ['Unknown flag "--segmnt"', "Did you mean --segment?", "--exclude"],
        ),
        ("/broadcast \u2014sielnt Hi", ['Unknown flag "\u2014sielnt"', "--silent?"]),
        ("/broadcast --colour=red Hi", ['Unknown flag "--colour"', "Known flags: --segment"]),
        ("/broadcast \u2014Hello all", ['Unknown flag "\u2014Hello"', "goes after --"]),
        ("/broadcast --segment", ["--segment needs a value", "--segment NAME"]),
        ("/broadcast --segment --silent Hi", ["--segment needs a value"]),
        ("/broadcast --segment= Hi", ["--segment needs a value"]),
        ('/broadcast --segment "" Hi', ["--segment needs a value"]),
        ("/broadcast --at\n", ["--at needs a value", "--at WHEN"]),
        ("/broadcast --button", ["--button needs a value", '"Text | https://url"']),
        ("/broadcast --parse xml Hi", ['--parse value "xml"', "html, markdown, plain"]),
        ("/broadcast --silent=yes Hi", ['--silent takes no value, got "--silent=yes"']),
        ("/broadcast --at a --at b", ['--at is given twice ("a" and "b")']),
        ("/broadcast --parse html --parse plain", ["--parse is given twice"]),
        ("/broadcast --silent --silent Hi", ["--silent is given twice"]),
        ('/broadcast --segment "vip Hi', ['Unterminated quote in “"vip Hi”', 'close it with ".']),
        ("/broadcast --segment \u201cvip Hi", ["Unterminated quote", "\u201d"]),
        ("/broadcast --segment 'vip Hi", ["Unterminated quote", "'"]),
        ('/broadcast --segment "vip"s Hi', ["Expected a space after the closing quote", '"vip"s']),
        ("/broadcast --button Open Hi", ['Bad button "Open"', '"Text | https://url"', "quoted"]),
        ('/broadcast --button "Open |"', ['Bad button "Open |"', '"Text | https://url"']),
        ('/broadcast --button "| https://x.example"', ["Bad button", '"Text | https://url"']),
        ('/broadcast --button "A | https://a.example ||"', ["Bad button", "||"]),
        (
            '/broadcast --button "Open | example.com"',
            ['Bad button "Open | example.com"', "http(s)://"],
        ),
        ('/broadcast --button "Open | ftp://x.example"', ["Bad button", "ftp://x.example"]),
        ('/broadcast --button "Open | https://[x"', ["Bad button", "Invalid IPv6 URL"]),
        (
            f'/broadcast --button "{"x" * 65} | https://x.example"',
            ["Bad button", "1-64 characters"],
        ),
        (
            "/broadcast " + " ".join(['--button "A | https://a.example"'] * 9),
            ["Too many buttons", "at most 8 rows"],
        ),
        (
            '/broadcast --button "' + " || ".join(["A | https://a.example"] * 9) + '"',
            ["Too many buttons", "1-8 buttons"],
        ),
        (
            '/broadcast --forward --button "Go | https://x.example"',
            ["--forward cannot be combined with --button"],
        ),
        ("/broadcast --forward Hello", ["--forward", "takes no text", '"Hello"']),
        ("/broadcast --until friday Hi", ['--until "friday" needs --every']),
        ("/broadcast --preview --at noon Hi", ["preview is sent now", '--at "noon"']),
        ("/broadcast --preview --every day Hi", ["preview is sent now", '--every "day"']),
        ("/broadcast_preview --at noon Hi", ["preview is sent now", '--at "noon"']),
        ("/broadcast_schedule", ["needs a time first"]),
        ("/broadcast_schedule | Hi", ["needs a time first", '"| Hi"']),
        ("/broadcast_schedule noon --silent | Hi", ["Flags go after the time", '"noon --silent"']),
        ("/broadcast_schedule --silent noon\nHi", ["Flags go after the time"]),
        ("/broadcast_reschedule", ["Give the id and the new time"]),
        ("/broadcast_reschedule 42 noon", ['"42" is not a broadcast id']),
        (f"/broadcast_reschedule {ID}", ["Give the new time after the id"]),
        ("/broadcast_timezone Europe/Berlin x", ["one IANA time zone name"]),
        ("/broadcast_segments all", ["takes no arguments", '"all"']),
        ("/broadcast_scheduled 5", ["takes no arguments"]),
        ("/broadcast_schedule noon | --at 9am Hi", ['--at is given twice ("noon" and "9am")']),
        ("/broadcast_history 0", ["must be 1-50, got 0"]),
        ("/broadcast_history 51", ["must be 1-50, got 51"]),
        ("/broadcast_history -3", ["must be 1-50, got -3"]),
        ("/broadcast_history " + "9" * 5000, ["must be 1-50"]),
        ("/broadcast_history lots", ["Expected a number (1-50) or a broadcast id", '"lots"']),
        ("/broadcast_history 5 10", ['"5 10"']),
        ("/broadcast_history bc_2026_x", ['"bc_2026_x"']),
        ("/broadcast_cancel", ["Give the id of one broadcast", ID]),
        ("/broadcast_cancel 42", ['"42" is not a broadcast id', ID]),
        ("/broadcast_cancel bc_20261129_143000_zzzz", ["is not a broadcast id"]),
        (f"/broadcast_cancel {ID} {ID}", ["Give the id of one broadcast", "got"]),
        ("/broadcast@MyBot --segmnt x", ['Unknown flag "--segmnt"']),
    ],
)
def test_usage_errors(text: str, fragments: list[str]) -> None:
    message = usage_error(text)
    for fragment in fragments:
        assert fragment in message


def test_long_input_is_shortened_in_messages() -> None:
    message = usage_error("/broadcast --forward " + "x" * 5000)
    assert len(message) < 200
    assert "…" in message


# --- requests built by hand ----------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"forward": True, "buttons": ((UrlButton("A", "https://a.example"),),)},
        {"forward": True, "text": "Hi"},
        {"until": "friday"},
        {"preview": True, "at": "noon"},
        {"buttons": ((UrlButton("A", "https://a.example"),),) * 9},
    ],
)
def test_broadcast_request_checks_itself(fields: dict[str, Any]) -> None:
    with pytest.raises(RequestError):
        BroadcastRequest(**fields)


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (HistoryRequest, {"limit": 0}),
        (HistoryRequest, {"broadcast_id": "nope"}),
        (CancelRequest, {"broadcast_id": ID.upper()}),
    ],
)
def test_other_requests_check_themselves(cls: type[object], fields: dict[str, Any]) -> None:
    with pytest.raises(RequestError):
        cls(**fields)


# --- help ------------------------------------------------------------------------------------


def test_help_fits_one_message_and_names_everything() -> None:
    assert len(ADMIN_HELP) <= 4096
    for command in USAGE:
        assert f"/{command}" in ADMIN_HELP
    for name in FLAGS:
        assert f"--{name}" in ADMIN_HELP


@pytest.mark.parametrize(("what", "command"), EXAMPLES)
def test_help_examples_parse(what: str, command: str) -> None:
    assert f"{what}\n{command}" in ADMIN_HELP
    assert isinstance(parse_command(command), BroadcastRequest | HistoryRequest)


def test_usage_lines_name_every_flag() -> None:
    for name, spec in FLAGS.items():
        assert f"[--{name}" in USAGE["broadcast"]
        assert (f"[--{name}" in USAGE["broadcast_preview"]) is not (
            spec.schedules or name in NOT_IN_PREVIEW
        )
