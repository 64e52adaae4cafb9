"""Tests of :mod:`config`."""
