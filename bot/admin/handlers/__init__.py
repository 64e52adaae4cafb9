"""Thin handlers of the admin bot, one module per feature.

:mod:`~bot.handlers.router` holds the two hydrogram handlers; the commands and
buttons are served by :mod:`~bot.handlers.compose` (``/broadcast``, previews,
asking for the content), :mod:`~bot.handlers.confirm` (the draft's
confirmation), :mod:`~bot.handlers.controls` (pause, resume, cancel on the
status message) and :mod:`~bot.handlers.history` (history and cancel by id).
Install them with :func:`bot.install.install`.
"""

from __future__ import annotations

from bot.handlers.context import BotContext, Timing

__all__ = ["BotContext", "Timing"]
