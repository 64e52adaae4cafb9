"""The admin command parser: every flag, value form and error, then properties over any input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.admin.commands import (
    ADMIN_HELP,
    USAGE,
    BroadcastRequest,
    CancelRequest,
    HelpRequest,
    HistoryRequest,
    Markup,
    NotACommand,
    NotForUs,
    RequestError,
    RescheduleRequest,
    ScheduledRequest,
    SegmentsRequest,
    TestersRequest,
    TimezoneRequest,
    UnknownCommand,
    UsageError,
    parse_command,
)
from bot.admin.commands.broadcast import FLAGS
from bot.admin.commands.help import EXAMPLES, NOT_IN_PREVIEW
from bot.admin.commands.lexer import DASHES, QUOTES
from bot.delivery.content import (
    Delivery,
    ParseMode,
    TextContent,
    TextEntity,
    UrlButton,
    utf16_len,
)

RESULT_TYPES = (
    BroadcastRequest,
    HistoryRequest,
    CancelRequest,
    RescheduleRequest,
    ScheduledRequest,
    SegmentsRequest,
    TimezoneRequest,
    TestersRequest,
    HelpRequest,
    NotACommand,
    NotForUs,
    UnknownCommand,
    UsageError,
)
ID = "bc_20261129_143000_a1b2"


def request(args: str, command: str = "/broadcast") -> BroadcastRequest:
    result = parse_command(f"{command} {args}", bot_username="MyBot")
    assert isinstance(result, BroadcastRequest), result
    return result


def usage_error(text: str) -> str:
    """The message of the usage error ``text`` gets, checked to end with its usage line."""
    result = parse_command(text, bot_username="MyBot")
    assert isinstance(result, UsageError), result
    command = text.split()[0].lstrip("/").partition("@")[0].lower()
    *problem, usage = result.message.splitlines()
    assert usage == f"Usage: {USAGE[command]}"
    assert 1 <= len(problem) <= 2
    return "\n".join(problem)


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


# --- properties ------------------------------------------------------------------------------

COMMANDS = [*(f"/{c}" for c in USAGE), "/broadcast@MyBot", "/broadcast@Other", "/start", "/"]
FRAGMENTS = [
    *(f"{dash}{name}" for dash in DASHES for name in FLAGS),
    *DASHES,
    "--segmnt",
    "--x=",
    "=",
    "--button=",
    *QUOTES,
    *"\u201d\u2019\u00bb",
    "|",
    "||",
    "https://example.com",
    "https://[",
    "Open | https://x.example",
    "ftp://x",
    "html",
    "XML",
    ID,
    "42",
    "-7",
    " ",
    "  ",
    "\n",
    "\t",
    "\U0001f389",
    "<b>",
]


@settings(max_examples=300, deadline=None)
@given(
    command=st.sampled_from(COMMANDS),
    parts=st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=14),
    separators=st.lists(st.sampled_from(["", " ", "\n"]), min_size=14, max_size=14),
)
def test_any_mix_parses_or_explains(command: str, parts: list[str], separators: list[str]) -> None:
    text = command + " " + "".join(p + s for p, s in zip(parts, separators, strict=False))
    result = parse_command(text, bot_username="MyBot")
    assert isinstance(result, RESULT_TYPES)
    if isinstance(result, UsageError):
        *problem, usage = result.message.splitlines()
        assert usage.startswith("Usage: /")
        assert 1 <= len(problem) <= 2


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_any_text_never_raises(text: str) -> None:
    assert isinstance(parse_command(text, bot_username="MyBot"), RESULT_TYPES)
    assert isinstance(parse_command("/broadcast " + text), RESULT_TYPES)


_VALUE = st.text(alphabet="ab Z9:_-.'\"\u201c\u201d\u2019\u00e4\u2014", min_size=1, max_size=12)
VALUES = _VALUE.map(str.strip).filter(bool)


@st.composite
def rendered(draw: st.DrawFn, name: str, value: str | None) -> str:
    """``--name value`` as an admin might type it: any dash, any case, any fitting quote."""
    dash = draw(st.sampled_from(DASHES))
    flag = dash + draw(st.sampled_from([name, name.upper(), name.capitalize()]))
    if value is None:
        return flag
    inline = draw(st.booleans())
    forms = [f"{o}{value}{QUOTES[o][0]}" for o in QUOTES if not set(QUOTES[o]) & set(value)]
    bare_ok = not any(c.isspace() for c in value) and value[0] not in QUOTES
    if bare_ok and (inline or not value.startswith(DASHES)):
        forms.append(value)
    form = draw(st.sampled_from(forms))
    return f"{flag}={form}" if inline else f"{flag} {form}"


BUTTON_TEXT = st.text(alphabet="Go pen!\u00e4\U0001f389", min_size=1, max_size=10).map(str.strip)
BUTTON = st.builds(
    UrlButton,
    BUTTON_TEXT.filter(bool),
    st.sampled_from(["https://example.com", "http://x.example/a?b=c&d=e", "tg://resolve?domain=x"]),
)
# Any text that does not start with whitespace (which separates it from the flags).
TEXTS = st.builds(
    str.__add__,
    st.characters(exclude_categories=("Zs", "Zl", "Zp", "Cc")),
    st.text(max_size=40),
)
ROWS = st.lists(st.lists(BUTTON, min_size=1, max_size=3).map(tuple), max_size=3)


@st.composite
def valid_commands(draw: st.DrawFn) -> tuple[str, BroadcastRequest]:
    """A valid command in random form, and the request it must parse to."""
    forward = draw(st.booleans())
    preview = draw(st.booleans())
    every = None if preview else draw(st.none() | VALUES)
    pairs: list[tuple[str, str | None]] = [
        *(("segment", v) for v in draw(st.lists(VALUES, max_size=3))),
        *(("exclude", v) for v in draw(st.lists(VALUES, max_size=2))),
        *(("button", " || ".join(f"{b.text} | {b.url}" for b in row)) for row in draw(ROWS)),
    ]
    if forward:
        pairs = [p for p in pairs if p[0] != "button"]
    optional: dict[str, str | None] = {
        "at": None if preview else draw(st.none() | VALUES),
        "every": every,
        "until": draw(st.none() | VALUES) if every else None,
        "parse": draw(st.none() | st.sampled_from(["auto", "html", "MarkDown", "plain"])),
    }
    pairs += [(name, value) for name, value in optional.items() if value is not None]
    switches = draw(st.sets(st.sampled_from(["silent", "protect"])))
    pairs += [(name, None) for name in sorted(switches)]
    pairs += [("forward", None)] if forward else []
    via_flag = preview and draw(st.booleans())
    pairs += [("preview", None)] if via_flag else []
    pairs = draw(st.permutations(pairs))

    text = None if forward else draw(st.none() | TEXTS)
    words = [draw(rendered(name, value)) for name, value in pairs]
    if text is not None:
        words += ["--", text] if text.startswith(DASHES) or draw(st.booleans()) else [text]
    command = "/broadcast_preview" if preview and not via_flag else "/broadcast"
    separator = draw(st.sampled_from([" ", "\n", "  \n\t"]))
    values = {
        n: tuple(v for k, v in pairs if k == n and v) for n in ("segment", "exclude", "button")
    }
    expected = BroadcastRequest(
        text=text,
        preview=preview,
        segments=values["segment"],
        excludes=values["exclude"],
        at=optional["at"],
        every=optional["every"],
        until=optional["until"],
        parse_mode=Markup((optional["parse"] or "auto").lower()),
        silent="silent" in switches,
        protect="protect" in switches,
        forward=forward,
        buttons=tuple(_row(spec) for spec in values["button"]),
    )
    return separator.join([command, *words]), expected


def _row(spec: str) -> tuple[UrlButton, ...]:
    return tuple(UrlButton(*part.split(" | ")) for part in spec.split(" || "))


@settings(max_examples=300, deadline=None)
@given(case=valid_commands())
def test_valid_flag_sets_round_trip(case: tuple[str, BroadcastRequest]) -> None:
    text, expected = case
    assert parse_command(text) == expected


@settings(max_examples=200, deadline=None)
@given(case=valid_commands())
def test_formatting_of_the_whole_message_covers_exactly_the_text(
    case: tuple[str, BroadcastRequest],
) -> None:
    text, expected = case
    whole = TextEntity("bold", 0, utf16_len(text))

    result = parse_command(text, entities=(whole,))

    assert isinstance(result, BroadcastRequest)
    covered = () if expected.text is None else (TextEntity("bold", 0, utf16_len(expected.text)),)
    assert result.entities == covered
