"""Parsing /broadcast_delete, /broadcast_edit, /broadcast_retry and /broadcast_report (pure)."""

from __future__ import annotations

import pytest

from bot.admin.commands import (
    ADMIN_HELP,
    USAGE,
    BroadcastRequest,
    DeleteRequest,
    EditRequest,
    Markup,
    ReportRequest,
    RetryRequest,
    UsageError,
    parse_command,
)
from bot.delivery.content import ParseMode, TextEntity, UrlButton

BID = "bc_20261129_143000_a1b2"


def test_delete_retry_and_report_take_one_id() -> None:
    assert parse_command(f"/broadcast_delete {BID.upper()}") == DeleteRequest(BID)
    assert parse_command(f"/broadcast_retry {BID}") == RetryRequest(BID)
    assert parse_command(f"/broadcast_report  {BID.upper()} ") == ReportRequest(BID)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("/broadcast_delete", "/broadcast_delete takes the id of one broadcast"),
        (f"/broadcast_delete {BID} {BID}", "takes the id of one broadcast"),
        ("/broadcast_retry yesterday", '"yesterday" is not a broadcast id'),
        ("/broadcast_report", "/broadcast_report takes the id of one broadcast"),
        (f"/broadcast_report {BID} csv", "/broadcast_report takes the id of one broadcast"),
        ("/broadcast_report last", '"last" is not a broadcast id'),
        ("/broadcast_edit", "Give the id of the broadcast to edit"),
        ("/broadcast_edit nope Hello", '"nope" is not a broadcast id'),
        (f"/broadcast_edit {BID} --segment premium Hi", "An edit takes only --parse and --button"),
        (f"/broadcast_edit {BID} --silent Hi", "An edit takes only --parse and --button"),
    ],
)
def test_malformed_operations_say_why_with_their_usage(text: str, says: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, UsageError)
    assert says in parsed.message
    name = text.split()[0][1:]
    assert parsed.message.endswith(f"Usage: {USAGE[name]}")


def test_edit_takes_the_new_text_its_formatting_and_buttons() -> None:
    text = f'/broadcast_edit {BID} --parse markdown --button "Open | https://example.com" **New**'
    parsed = parse_command(text)

    assert parsed == EditRequest(
        BID,
        BroadcastRequest(
            text="**New**",
            parse_mode=Markup.MARKDOWN,
            buttons=((UrlButton("Open", "https://example.com"),),),
        ),
    )


def test_edit_keeps_the_apps_formatting_over_the_text_only() -> None:
    text = f"/broadcast_edit {BID} Big news"
    start = text.index("Big")
    bold = TextEntity("bold", start, 3)
    parsed = parse_command(text, entities=[TextEntity("bold", 0, 15), bold])

    assert isinstance(parsed, EditRequest)
    content = parsed.message.text_content()
    assert content is not None
    assert (content.text, content.parse_mode) == ("Big news", ParseMode.ENTITIES)
    assert content.entities == (TextEntity("bold", 0, 3),)


def test_edit_alone_leaves_the_text_to_the_replied_to_message() -> None:
    parsed = parse_command(f"/broadcast_edit {BID}")
    assert parsed == EditRequest(BID, BroadcastRequest())


def test_help_lists_the_commands() -> None:
    for command in (
        "/broadcast_delete ID",
        "/broadcast_edit ID",
        "/broadcast_retry ID",
        "/broadcast_report ID",
    ):
        assert command in ADMIN_HELP
