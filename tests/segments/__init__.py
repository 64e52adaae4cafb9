"""Tests of :mod:`segments`."""
