"""Tests of :mod:`bot.storage`."""
