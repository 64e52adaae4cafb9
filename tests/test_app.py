"""The composition root: production clients are built the way the pipeline needs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import broadcast_client, open_database
from bot.storage.mongo import Database
from bot.telegram.session import MongoSessionStorage
from config.settings import ConfigError, Settings


async def test_broadcast_client_never_sleeps_through_flood_waits(
    db: Database, tmp_path: Path
) -> None:
    client = broadcast_client(Settings.for_tests(session_dir=str(tmp_path)), db)
    assert client.sleep_threshold == 0
    assert isinstance(client.storage, MongoSessionStorage)  # safe under concurrent sends


def test_broadcast_client_names_missing_credentials(db: Database) -> None:
    with pytest.raises(ConfigError, match=r"BOT_TOKEN: required.*python -m bot demo"):
        broadcast_client(Settings.for_tests(bot_token=None), db)


async def test_open_database_uses_the_configured_name() -> None:
    settings = Settings.for_tests(mongo_db="bm_app_test")
    async with open_database(settings) as db:
        assert db.name == "bm_app_test"
        assert type(db).__module__.startswith("pymongo")
