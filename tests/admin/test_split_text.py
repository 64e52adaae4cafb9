"""Long replies are cut into Telegram-sized messages between entries, never inside one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.admin.handlers.context import split_text


def test_short_text_is_one_message() -> None:
    assert split_text("a\n\nb", limit=10) == ["a\n\nb"]


def test_cuts_between_blocks() -> None:
    blocks = ["x" * 6, "y" * 6, "z" * 6]

    assert split_text("\n\n".join(blocks), limit=14) == ["x" * 6 + "\n\n" + "y" * 6, "z" * 6]


def test_a_block_longer_than_the_limit_is_cut_between_lines_then_inside_a_line() -> None:
    parts = split_text("a" * 5 + "\n" + "b" * 12, limit=6)

    assert parts == ["aaaaa", "bbbbbb", "bbbbbb"]


@given(st.lists(st.text(alphabet="ab\n ", max_size=30), max_size=20), st.integers(8, 40))
def test_every_part_fits_and_nothing_is_lost(blocks: list[str], limit: int) -> None:
    text = "\n\n".join(blocks)

    parts = split_text(text, limit)

    assert all(len(part) <= limit for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
