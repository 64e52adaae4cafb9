"""Tests of :mod:`bot.delivery`."""
