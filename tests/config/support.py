"""Helpers of the config tests: loading from a given environment only, and well-formed secrets."""

from __future__ import annotations

import base64
import struct

import pytest
from hydrogram.storage.base import BaseStorage

from config import ConfigError, Settings, load_settings

HASH = "0123456789abcdef0123456789ABCDEF"
TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz_0123"


def session_string(dc_id: int = 2, api_id: int = 12345, user_id: int = 777) -> str:
    """A session string as hydrogram 0.2.0's ``export_session_string`` writes it."""
    packed = struct.pack(
        BaseStorage.SESSION_STRING_FORMAT, dc_id, api_id, False, bytes(range(256)), user_id, True
    )
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def load(**environ: str) -> Settings:
    """Load from ``environ`` only, never from the process or a .env file."""
    return load_settings(environ, env_file=None)


def problems_for(**environ: str) -> tuple[str, ...]:
    """The problems ``load(**environ)`` reports."""
    with pytest.raises(ConfigError) as info:
        load(**environ)
    return info.value.problems
