"""Reports of a sent broadcast: a PNG chart and a CSV of its ledger.

:mod:`bot.reports.build` writes both into a folder, reading through small ports (the
broadcast's document, its ledger a page at a time, its reaction counts) and doing
the file and drawing work on threads; the admin bot (``/broadcast_report``) and the
demo (``--report DIR``) call it. The rest is pure: :mod:`bot.reports.rows` (a
ledger row as a CSV row), :mod:`bot.reports.timeline` (answered sends bucketed over
sending time, the step suited to the duration, runs joined, FloodWaits placed),
:mod:`bot.reports.figures` (what the report says of a broadcast, and when there is
none) and :mod:`bot.reports.chart` (the drawing, with matplotlib's Agg backend,
imported only when a chart is drawn).

A change here: what a report holds or how it looks.

May import: :mod:`bot.delivery`, matplotlib; not hydrogram, the MongoDB drivers,
APScheduler, nor the admin bot.
"""
