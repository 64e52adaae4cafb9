"""The hydrogram adapter: the only code that sends broadcast messages.

Implements :class:`bot.delivery.ports.Sender`; hydrogram's exceptions are
mapped to ours here and never leave this package.

A change here: how a message reaches Telegram (requests, errors, peers, sessions).

May import: :mod:`bot.delivery`, :mod:`bot.storage`, hydrogram; not APScheduler,
nor the admin bot.
"""
