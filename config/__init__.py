"""Configuration: frozen, validated settings from the environment and ``.env``.

May import: nothing else of ours.
"""

from __future__ import annotations

from config.settings import ENV_VARS, ConfigError, Settings, load_settings

__all__ = ["ENV_VARS", "ConfigError", "Settings", "load_settings"]
