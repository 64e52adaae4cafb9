"""The admin command parser: every flag, value form and text, and formatting from the app."""

from __future__ import annotations

from typing import Any

import pytest

from bot.admin.commands import (
    BroadcastRequest,
    Markup,
    RescheduleRequest,
    ScheduledRequest,
    SegmentsRequest,
    TimezoneRequest,
    parse_command,
)
from bot.delivery.content import (
    Delivery,
    ParseMode,
    TextContent,
    TextEntity,
    UrlButton,
    utf16_len,
)
from tests.admin.parsing import ID, request

# --- flags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fields"),
    [
        ("", {}),
        ("--segment vip", {"segments": ("vip",)}),
        ("--segment vip --segment lang:de", {"segments": ("vip", "lang:de")}),
        ("--exclude testers", {"excludes": ("testers",)}),
        ("--exclude a --exclude b", {"excludes": ("a", "b")}),
        ("--at tomorrow", {"at": "tomorrow"}),
        ('--every day --until "2026-12-31 23:59"', {"every": "day", "until": "2026-12-31 23:59"}),
        ('--at "friday 18:00" --every week', {"at": "friday 18:00", "every": "week"}),
        ("--preview", {"preview": True}),
        ("--parse html", {"parse_mode": Markup.HTML}),
        ("--parse markdown", {"parse_mode": Markup.MARKDOWN}),
        ("--parse PLAIN", {"parse_mode": Markup.PLAIN}),
        ("--parse Markdown", {"parse_mode": Markup.MARKDOWN}),
        ("--silent", {"silent": True}),
        ("--protect", {"protect": True}),
        ("--forward", {"forward": True}),
        ("--silent --protect --preview", {"silent": True, "protect": True, "preview": True}),
        ("--SEGMENT vip --Silent", {"segments": ("vip",), "silent": True}),
    ],
)
def test_each_flag(args: str, fields: dict[str, Any]) -> None:
    assert request(args) == BroadcastRequest(**fields)


@pytest.mark.parametrize(
    ("args", "value"),
    [
        ("--segment vip", "vip"),
        ('--segment "gold members"', "gold members"),
        ("--segment 'gold members'", "gold members"),
        ("--segment \u201cgold members\u201d", "gold members"),  # “...”
        ("--segment \u201dgold members\u201d", "gold members"),  # ”...” (iOS after "=")
        ("--segment \u2018gold members\u2019", "gold members"),  # ‘...’
        ("--segment \u201egold members\u201c", "gold members"),  # „...“
        ("--segment \u00abgold members\u00bb", "gold members"),  # «...»
        ("--segment 'say \"hi\"'", 'say "hi"'),
        ('--segment "it\'s"', "it's"),
        ("--segment it's", "it's"),
        ('--segment "--odd"', "--odd"),
        ('--segment "  padded  "', "padded"),
        ("--segment=vip", "vip"),
        ('--segment="gold members"', "gold members"),
        ("--segment=\u201dgold members\u201d", "gold members"),
        ("--segment=--odd", "--odd"),
        ("--segment\nvip", "vip"),
        ("--segment \t vip", "vip"),
        ("--segment \u20135", "\u20135"),
        ("--segment ---", "---"),
    ],
)
def test_value_forms(args: str, value: str) -> None:
    assert request(f"{args} Hi").segments == (value,)
    assert request(f"{args} Hi").text == "Hi"


@pytest.mark.parametrize("dash", ["--", "\u2014", "\u2013"])
@pytest.mark.parametrize(
    ("flag", "fields"),
    [
        ("segment vip", {"segments": ("vip",)}),
        ("exclude vip", {"excludes": ("vip",)}),
        ("at noon", {"at": "noon"}),
        ("parse plain", {"parse_mode": Markup.PLAIN}),
        ("silent", {"silent": True}),
        ("protect", {"protect": True}),
        ("preview", {"preview": True}),
        (
            'button "Go | https://example.com"',
            {"buttons": ((UrlButton("Go", "https://example.com"),),)},
        ),
    ],
)
def test_dash_variants(dash: str, flag: str, fields: dict[str, Any]) -> None:
    assert request(f"{dash}{flag} Hello") == BroadcastRequest(text="Hello", **fields)


def test_phone_rewritten_command() -> None:
    typed = (
        "\u2014segment \u201cgold members\u201d \u2013silent \u2014at=\u201dmonday 9am\u201d Hi!"
    )
    assert request(typed) == BroadcastRequest(
        text="Hi!", segments=("gold members",), silent=True, at="monday 9am"
    )


@pytest.mark.parametrize(
    ("args", "buttons"),
    [
        ('"Open | https://example.com"', ((UrlButton("Open", "https://example.com"),),)),
        ("Open|https://example.com", ((UrlButton("Open", "https://example.com"),),)),
        ('"Chat | tg://resolve?domain=x"', ((UrlButton("Chat", "tg://resolve?domain=x"),),)),
        (
            '"A | https://a.example || B | https://b.example"',
            ((UrlButton("A", "https://a.example"), UrlButton("B", "https://b.example")),),
        ),
        (
            '"A | https://a.example" --button "B | https://b.example"',
            ((UrlButton("A", "https://a.example"),), (UrlButton("B", "https://b.example"),)),
        ),
        ('"A | B | https://a.example"', ((UrlButton("A | B", "https://a.example"),),)),
    ],
)
def test_buttons(args: str, buttons: tuple[tuple[UrlButton, ...], ...]) -> None:
    result = request(f"--button {args}")
    assert result.buttons == buttons
    assert result.delivery() == Delivery(buttons=buttons)


def test_delivery_carries_the_options() -> None:
    result = request('--silent --protect --button "Go | https://example.com" Hi')
    assert result.delivery() == Delivery(
        buttons=((UrlButton("Go", "https://example.com"),),), silent=True, protect=True
    )


# --- text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ("Hello", "Hello"),
        ("", None),
        ("   \n  ", None),
        ("--silent", None),
        ("--silent\n", None),
        ("Hello\n\nworld  ", "Hello\n\nworld  "),
        ("--silent\nLine 1\n  Line 2", "Line 1\n  Line 2"),
        (
            "<b>Sale</b> &amp; <a href='https://x.example'>more</a>",
            "<b>Sale</b> &amp; <a href='https://x.example'>more</a>",
        ),
        (
            "*bold* _it_ `code` [link](https://x.example)",
            "*bold* _it_ `code` [link](https://x.example)",
        ),
        ('"Quoted" she said --silent', '"Quoted" she said --silent'),
        ("Hello --silent", "Hello --silent"),
        ("- a list item", "- a list item"),
        ("-- --not-a-flag", "--not-a-flag"),
        ("--", None),
        ("--silent -- -- dashes", "-- dashes"),
        ("\u2014 \u2014weird", "\u2014weird"),  # a lone dash ends the flags before a dash-word
        ("\u2013 --x", "--x"),
        (
            "\u2014 \u041f\u0440\u0438\u0432\u0435\u0442!",
            "\u2014 \u041f\u0440\u0438\u0432\u0435\u0442!",
        ),
        ("\u2014", "\u2014"),
        ("\u20135\u00b0C tonight", "\u20135\u00b0C tonight"),
        ("---- a rule", "---- a rule"),
        ("--=x", "--=x"),
        ("--silent --5 is not a flag", "--5 is not a flag"),
        ("a  b\tc", "a  b\tc"),
        ("Emoji \U0001f389 | pipes || too", "Emoji \U0001f389 | pipes || too"),
    ],
)
def test_text_is_verbatim(args: str, text: str | None) -> None:
    assert request(args).text == text


def test_text_after_a_newline_command() -> None:
    result = parse_command("/broadcast\n<b>Hi</b>\nthere")
    assert result == BroadcastRequest(text="<b>Hi</b>\nthere")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/broadcast_preview Hi", BroadcastRequest(text="Hi", preview=True)),
        ("/broadcast_preview", BroadcastRequest(preview=True)),
        (
            "/broadcast_preview --preview --segment a",
            BroadcastRequest(preview=True, segments=("a",)),
        ),
        (
            "/broadcast_schedule tomorrow 9am | Good morning",
            BroadcastRequest("Good morning", at="tomorrow 9am"),
        ),
        (
            "/broadcast_schedule mon 9:00 | --every week --silent Hi\nall",
            BroadcastRequest("Hi\nall", at="mon 9:00", every="week", silent=True),
        ),
        ("/broadcast_schedule 18:00 |", BroadcastRequest(at="18:00")),
        ("/broadcast_schedule 18:00 | a | b", BroadcastRequest("a | b", at="18:00")),
        (
            "/broadcast_schedule tomorrow 9am\nSale: 10% | 20% off",
            BroadcastRequest("Sale: 10% | 20% off", at="tomorrow 9am"),
        ),
        # the time alone: the handler takes the replied-to message or asks for one
        ("/broadcast_schedule tomorrow 9am", BroadcastRequest(at="tomorrow 9am")),
        (
            "/broadcast_schedule next friday 10:00\n--silent Weekend sale\nstarts now",
            BroadcastRequest("Weekend sale\nstarts now", at="next friday 10:00", silent=True),
        ),
    ],
)
def test_preview_and_schedule(text: str, expected: BroadcastRequest) -> None:
    assert parse_command(text) == expected


# --- formatting from the app --------------------------------------------------------------


def marks(text: str, *parts: tuple[str, str]) -> tuple[TextEntity, ...]:
    """``(kind, part)`` of ``text`` as entities of the whole message, in UTF-16 units."""
    found = []
    for kind, part in parts:
        start = text.index(part)
        found.append(TextEntity(kind, utf16_len(text[:start]), utf16_len(part)))
    return tuple(found)


@pytest.mark.parametrize(
    ("text", "parts", "expected"),
    [
        ("/broadcast Big news", [("bold", "Big")], [("bold", 0, 3)]),
        ("/broadcast\n\nBig news", [("italic", "news")], [("italic", 4, 4)]),
        (
            '/broadcast --segment "🎉 vip" --silent Big news',
            [("bold", "--segment"), ("italic", "--silent Big"), ("underline", "news")],
            [("italic", 0, 3), ("underline", 4, 4)],
        ),
        ("/broadcast 🎉🎉 Big", [("spoiler", "Big")], [("spoiler", 5, 3)]),
        ("/broadcast -- --not a flag", [("code", "--not")], [("code", 0, 5)]),
        ("/broadcast_preview Big", [("bold", "Big")], [("bold", 0, 3)]),
        ("/broadcast_schedule 🎉 9am | Big", [("bold", "9am | Big")], [("bold", 0, 3)]),
        ("/broadcast_schedule  9am\n--silent Big", [("bold", "Big")], [("bold", 0, 3)]),
        ("/broadcast --at '🎉 9am' Big", [("bold", "Big")], [("bold", 0, 3)]),
    ],
)
def test_the_apps_formatting_moves_to_the_text(
    text: str, parts: list[tuple[str, str]], expected: list[tuple[str, int, int]]
) -> None:
    result = parse_command(text, entities=marks(text, *parts))

    assert isinstance(result, BroadcastRequest)
    assert result.entities == tuple(TextEntity(*entity) for entity in expected)


def test_auto_keeps_formatting_or_reads_tags_and_other_modes_force_theirs() -> None:
    def content(text: str, *parts: tuple[str, str]) -> TextContent | None:
        result = parse_command(text, entities=marks(text, *parts))
        assert isinstance(result, BroadcastRequest)
        return result.text_content()

    bold = (TextEntity("bold", 0, 3),)
    assert content("/broadcast <b>Big</b> news") == TextContent("<b>Big</b> news")
    assert content("/broadcast Big <i>news</i>", ("bold", "Big")) == TextContent(
        "Big <i>news</i>", ParseMode.ENTITIES, entities=bold
    )
    assert content("/broadcast <b>Big</b> https://e.org", ("url", "https://e.org")) == (
        TextContent("<b>Big</b> https://e.org")  # a link Telegram found is no formatting
    )
    assert content("/broadcast --parse html <b>Big</b>", ("italic", "Big")) == TextContent(
        "<b>Big</b>"
    )
    assert content("/broadcast --parse plain <b>Big</b>", ("italic", "Big")) == TextContent(
        "<b>Big</b>", ParseMode.PLAIN
    )
    assert content("/broadcast", ("bold", "/broadcast")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/broadcast_segments", SegmentsRequest()),
        ("/broadcast_scheduled", ScheduledRequest()),
        ("/broadcast_timezone", TimezoneRequest()),
        ("/broadcast_timezone Asia/Tashkent", TimezoneRequest("Asia/Tashkent")),
        (
            f"/broadcast_reschedule {ID.upper()} next monday 9:00",
            RescheduleRequest(ID, "next monday 9:00"),
        ),
    ],
)
def test_segment_and_schedule_commands(text: str, expected: object) -> None:
    assert parse_command(text) == expected
