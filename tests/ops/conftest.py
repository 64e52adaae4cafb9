"""Fixtures of the operations tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.ops.logs import CHATTY_LIBRARIES


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """The root logger for a test that configures logging; restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in CHATTY_LIBRARIES}
    yield root
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, old in chatty.items():
        logging.getLogger(name).setLevel(old)
