"""Placeholders filled per recipient: values, fallbacks, escapes, and entities that move."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.content import utf16_len
from bot.delivery.placeholders import PlaceholderError, Template


def covered(text: str, span: tuple[int, int]) -> str:
    """What an entity at ``span`` (UTF-16 offset, length) covers in ``text``."""
    units = text.encode("utf-16-le")
    offset, length = span
    return units[2 * offset : 2 * (offset + length)].decode("utf-16-le")


def span_of(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return utf16_len(text[:start]), utf16_len(part)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"first_name": "Zoë 👩‍💻"}, "Hi Zoë 👩‍💻, welcome"),
        ({"first_name": "مريم"}, "Hi مريم, welcome"),
        ({"first_name": None}, "Hi there, welcome"),
        ({"first_name": "   "}, "Hi there, welcome"),
        ({"first_name": 42}, "Hi there, welcome"),
        ({}, "Hi there, welcome"),
        ({"first_name": "<b>&amp;"}, "Hi <b>&amp;, welcome"),
    ],
)
def test_a_value_goes_in_literally_and_a_missing_one_takes_the_fallback(
    values: dict[str, object], expected: str
) -> None:
    assert Template("Hi {first_name|there}, welcome").fill(values).text == expected


def test_every_known_field_and_no_fallback() -> None:
    template = Template("{first_name} @{username} ({language_code})")
    filled = template.fill({"first_name": "Ann", "username": "ann", "language_code": "de"})

    assert filled.text == "Ann @ann (de)"
    assert template.fill({}).text == " @ ()"
    assert template.fields == {"first_name", "username", "language_code"}


def test_double_brace_writes_a_brace_and_other_braces_are_text() -> None:
    template = Template('{{first_name} is literal, {"a": 1} and { x } too')

    assert not template.personal
    assert (
        template.fill({"first_name": "Ann"}).text
        == '{first_name} is literal, {"a": 1} and { x } too'
    )


@pytest.mark.parametrize("text", ["Hi {firstname}", "{First_Name}", "{name|there}"])
def test_an_unknown_name_is_refused_with_the_known_ones(text: str) -> None:
    with pytest.raises(PlaceholderError) as raised:
        Template(text)
    assert "{first_name}, {username}, {language_code}" in str(raised.value)
    assert "{{" in str(raised.value)


def test_entities_after_a_placeholder_keep_to_their_characters() -> None:
    text = "Hi {first_name|there}, 👍 welcome {{home}"
    template = Template(text)
    bold, thumb = span_of(text, "welcome"), span_of(text, "👍")

    for name in ("Zoë 👩‍💻", "مريم", "", "A" * 70):
        filled = template.fill({"first_name": name})
        assert covered(filled.text, filled.span(*bold)) == "welcome"
        assert covered(filled.text, filled.span(*thumb)) == "👍"
    filled = template.fill({})
    assert filled.text == "Hi there, 👍 welcome {home}"
    assert covered(filled.text, filled.span(*span_of(text, "welcome {{home}"))) == "welcome {home}"


def test_an_entity_on_a_placeholder_covers_the_value() -> None:
    text = "Dear {first_name}!"
    template = Template(text)

    on_it = template.fill({"first_name": "Zoë 👩‍💻"})
    assert covered(on_it.text, on_it.span(*span_of(text, "{first_name}"))) == "Zoë 👩‍💻"
    # ... also when it starts or ends inside the placeholder, as markup may put it.
    assert covered(on_it.text, on_it.span(*span_of(text, "first_name}!"))) == "Zoë 👩‍💻!"
    assert covered(on_it.text, on_it.span(*span_of(text, "Dear {first"))) == "Dear Zoë 👩‍💻"
    empty = template.fill({})
    assert empty.span(*span_of(text, "{first_name}"))[1] == 0  # nothing left to format


def test_longest_counts_the_longest_value_or_the_fallback() -> None:
    template = Template("Hi {first_name|there} ({language_code})")

    assert template.shortest == len("Hi  ()")
    assert template.longest({"first_name": 64, "language_code": 5}) == len("Hi  ()") + 69
    assert template.longest({"first_name": 2}) == len("Hi  ()") + len("there")


NAMES = st.text(alphabet=st.sampled_from("aZ ë👩‍💻مر\u200f<&"), max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    before=NAMES,
    between=NAMES,
    after=NAMES.filter(bool),
    name=st.one_of(st.none(), NAMES),
)
def test_any_entity_outside_the_placeholders_covers_the_same_text(
    before: str, between: str, after: str, name: str | None
) -> None:
    text = f"{before}{{first_name|x}}{between}{{{{{after}"
    template = Template(text)
    filled = template.fill({"first_name": name})

    target = f"{between}{{{{{after}"
    got = covered(filled.text, filled.span(*span_of(text, target)))
    assert got == f"{between}{{{after}"
