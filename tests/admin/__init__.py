"""Tests of :mod:`bot.admin`."""
