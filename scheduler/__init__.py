"""When broadcasts go out: dates and repeat rules (pure), APScheduler with a MongoDB job
store, the leader lease, and the schedule book that fires each broadcast once.

A change here: how times are read, when a scheduled broadcast starts, or who leads.

May import: :mod:`bot.delivery`, :mod:`bot.storage`, :mod:`segments`, APScheduler
and PyMongo; not hydrogram, nor the admin bot.
"""
