"""Broadcast Manager: scheduled and segmented broadcasts for Telegram bots on hydrogram and MongoDB.

The tree is the architecture; data flows one way, top to bottom:

- :mod:`bot.admin`: the admin bot: commands, buttons, status messages, the send
  queue, and :func:`bot.admin.install.install` (the one way onto a hydrogram client).
- :mod:`scheduler`: when broadcasts go out (dates, repeats, APScheduler, the lease,
  the schedule book).
- :mod:`bot.delivery`: the send pipeline and its pure policies, behind Protocols.
- :mod:`bot.storage`: the MongoDB adapters (broadcasts, ledger, users) and the
  in-memory database.
- :mod:`bot.telegram`: the hydrogram adapter, the only code that sends.
- :mod:`bot.app`: the composition root that wires them.
- :mod:`bot.ops`: the log format and the Prometheus metrics, wired in by the admin bot.
- :mod:`bot.reports`: a sent broadcast's report (a PNG chart and a CSV of its ledger).
- :mod:`bot.demo`: the demo and the Telegram simulator it runs on.

May import: nothing at package level (``python -m bot --help`` stays instant).
"""
