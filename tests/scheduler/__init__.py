"""Tests of :mod:`scheduler`."""
