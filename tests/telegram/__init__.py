"""Tests of :mod:`bot.telegram`."""
