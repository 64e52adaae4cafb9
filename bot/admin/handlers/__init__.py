"""Thin handlers of the admin bot, one module per feature.

:mod:`~bot.admin.handlers.router` holds the two hydrogram handlers; the commands and
buttons are served by :mod:`~bot.admin.handlers.compose` (``/broadcast``, previews,
asking for the content), :mod:`~bot.admin.handlers.confirm` (the draft's
confirmation), :mod:`~bot.admin.handlers.enqueue` (the Yes that queues a broadcast,
a delete or an edit), :mod:`~bot.admin.handlers.controls` (pause, resume, cancel on
the status message), :mod:`~bot.admin.handlers.history` (history and cancel by id),
:mod:`~bot.admin.handlers.reactions` (anyone's presses on a reaction row),
:mod:`~bot.admin.handlers.testers` (``/broadcast_testers``, ``--test``),
:mod:`~bot.admin.handlers.personal` (placeholders measured at the confirmation),
:mod:`~bot.admin.handlers.operations` (deleting and editing a sent broadcast's copies)
:mod:`~bot.admin.handlers.retry` (sending a finished one again) and
:mod:`~bot.admin.handlers.report` (its chart and ledger, as two files).
Install them with :func:`bot.admin.install.install`.

May import: as :mod:`bot.admin`.
"""

from __future__ import annotations

from bot.admin.handlers.context import BotContext, Timing

__all__ = ["BotContext", "Timing"]
