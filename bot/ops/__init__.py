"""Operations: what an operator reads of a running bot, in logs and in metrics.

:mod:`bot.ops.logs` formats every log record as one ``key=value`` line, the broadcast
id and the event first, with secrets masked (also inside tracebacks);
:mod:`bot.ops.metrics` counts outcomes, FloodWaits and database outages through
hooks the composition root wires in, reads the limiter, the send queue and the
lease at scrape time, and serves them to Prometheus (``METRICS_PORT``).

The rest of the code logs with the standard library only (``extra=`` fields), so
the delivery core stays free of this package and of ``prometheus_client``.

A change here: what operators see in the log and on the metrics endpoint.

May import: :mod:`bot.delivery`, :mod:`config`, ``prometheus_client``; not hydrogram,
the MongoDB drivers, APScheduler, nor the admin bot (which wires it in).
"""
