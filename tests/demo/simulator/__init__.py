"""Tests of the Telegram simulator, driven through hydrogram's own high-level API."""
