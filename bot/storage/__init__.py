"""MongoDB adapters: broadcast documents, the delivery ledger, users, admin preferences,
reactions and testers.

Implements the ports of :mod:`bot.delivery.ports` over PyMongo's async client or
motor (a host bot's), and provides the in-memory database (mongomock) that the
demo, benchmarks and tests run on, and a proxy over either that injects MongoDB's
faults on a schedule (:mod:`bot.storage.faulty`, for the tests and ``demo --chaos``).

A change here: what is stored, how it is queried or indexed.

May import: :mod:`bot.delivery`, :mod:`segments`, the MongoDB drivers; not
hydrogram, APScheduler, nor the admin bot.
"""
