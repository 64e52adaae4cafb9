"""The send pipeline: one run of one broadcast, its pure policies, and the ports it needs.

Owns what a broadcast is (content, statuses, outcomes, errors), the rate
limiter, retry and progress policies, the run (feed, dispatcher, workers,
watcher) and the lifecycle service. Pure: every I/O goes through the Protocols
of :mod:`bot.delivery.ports`, which the adapters implement; clocks are injected.
What happens is logged with the standard library, its fields named by
:func:`bot.delivery.events.event` (every package uses it); metrics observe the
run through optional hooks (the throttle's ``on_flood_wait``, the outage
policy's ``observe``, a wrapped ledger), never by importing them.

A change here: how broadcasts are sent, paced, retried, resumed or summarised.

May import: only :mod:`bot.delivery` (no hydrogram, PyMongo, motor, APScheduler,
nor any other package of ours).
"""
