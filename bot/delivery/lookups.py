"""A send whose look-up before the request met a database outage: waited out.

A send reads its recipient's peer or values (a personalised text) just before it
builds its request. When the database cannot answer that look-up nothing went out,
so the send is tried again as the run's outage guard retries any of its operations,
and the recipient's attempts are not spent on the outage.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.delivery.errors import StorageUnavailableError
from bot.delivery.outage import OutageGuard, OutageTooLongError
from bot.delivery.ports import PreparedMessage, Receipt


class AbandonedError(Exception):
    """A send waiting out the database was given up: the run is stopping (nothing sent)."""


async def send_through_outages(
    prepared: PreparedMessage,
    user_id: int,
    key: str,
    guard: OutageGuard,
    stopping: Callable[[], bool],
    too_long: Callable[[OutageTooLongError], None],
) -> Receipt:
    """``prepared.send(user_id, key)``, its look-up outages waited out by ``guard``.

    Raises:
        AbandonedError: Nothing went out: ``stopping()`` turned true while waiting, or
            the outage outlasted the guard's limit (told to ``too_long`` first).
        SendError, FloodWaitError: As the send raises them.
    """
    try:
        return await prepared.send(user_id, key)
    except StorageUnavailableError:
        pass

    async def again() -> Receipt:
        if stopping():
            raise AbandonedError
        return await prepared.send(user_id, key)

    try:
        return await guard(again)
    except OutageTooLongError as error:
        too_long(error)
        raise AbandonedError from error
