"""Tests of :mod:`bot.demo`."""
