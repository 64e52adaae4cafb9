"""Helpers of the config tests: loading from a given environment only, and well-formed secrets."""

from __future__ import annotations

import pytest

from config import ConfigError, Settings, load_settings

HASH = "0123456789abcdef0123456789ABCDEF"
TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz_0123"


def load(**environ: str) -> Settings:
    """Load from ``environ`` only, never from the process or a .env file."""
    return load_settings(environ, env_file=None)


def problems_for(**environ: str) -> tuple[str, ...]:
    """The problems ``load(**environ)`` reports."""
    with pytest.raises(ConfigError) as info:
        load(**environ)
    return info.value.problems
