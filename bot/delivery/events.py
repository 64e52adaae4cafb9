"""The fields of an event in the log: ``log.info("...", extra=event("run.started", bid, total=n))``.

Every event names the broadcast it is about (when it is about one), so an operator
greps one broadcast's story by its id; :mod:`bot.ops.logs` writes the fields as
``broadcast=... event=... total=...`` on one line.
"""

from __future__ import annotations

from typing import Any


def event(name: str, broadcast: str | None = None, **fields: Any) -> dict[str, Any]:
    """The ``extra`` of a log record: the event's name, its broadcast, its fields."""
    about = {} if broadcast is None else {"broadcast": broadcast}
    return {**about, "event": name, **fields}
