"""The admin command parser: properties over any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.admin.commands import (
    USAGE,
    BroadcastRequest,
    Markup,
    UsageError,
    parse_command,
)
from bot.admin.commands.broadcast import FLAGS
from bot.admin.commands.lexer import DASHES, QUOTES
from bot.delivery.content import (
    TextEntity,
    UrlButton,
    utf16_len,
)
from tests.admin.parsing import ID, RESULT_TYPES

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
