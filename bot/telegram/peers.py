"""Recipients' input peers, resolved in batches ahead of the sends.

A raw send needs the recipient's ``InputPeerUser`` (id and access hash). hydrogram
keeps those in its peer storage; for a user it has never seen (a new or in-memory
session, an audience imported from elsewhere) ``resolve_peer`` costs one
``users.GetUsers`` per recipient, a second request and round trip per send.
:class:`PeerBook` looks a whole claimed batch up in the storage at once and asks
Telegram for the missing ones in one ``users.GetUsers`` per :data:`GET_USERS_BATCH`
ids, stores what it learned, and keeps the peers of the batch in memory for the
sends. Users Telegram does not return cannot be written to: they are reported
instead of sent to.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import hydrogram
from hydrogram import raw

from bot.telegram.calls import invoke_once, telegram_call

log = logging.getLogger(__name__)

#: Ids per ``users.GetUsers``: Telegram answers up to 200; 100 keeps each reply small.
GET_USERS_BATCH = 100
#: Recipients kept in memory (peers here, placeholder values in ``personal``). The feed
#: offers at most two snapshot batches (2 x 500) ahead of the sends, plus those in
#: flight: this is well above that, never a whole audience. One forgotten early costs
#: one look-up, not a failure.
MEMORY = 4_096
#: The error code of a send whose recipient's peer could not be read from the database.

InputPeer = Any  # raw.types.InputPeerUser | InputPeerChat | InputPeerChannel


class PeerBook:
    """The input peers of the recipients being sent to.

    Args:
        client: The bot's hydrogram client; its ``storage`` is read and updated.
        capacity: Peers kept in memory (oldest forgotten first).
    """

    def __init__(self, client: hydrogram.Client, capacity: int = MEMORY) -> None:
        self.client = client
        self.capacity = capacity
        self._peers: OrderedDict[int, InputPeer] = OrderedDict()
        #: ``users.GetUsers`` requests made (for the benchmarks' requests per recipient).
        self.lookups = 0

    def get(self, user_id: int) -> InputPeer | None:
        """The peer of a recipient resolved by :meth:`resolve`, if still in memory."""
        return self._peers.get(user_id)

    async def one(self, chat_id: int) -> InputPeer:
        """The peer of any chat (hydrogram's own resolution, one request if unknown).

        Raises:
            StorageUnavailableError: The peer storage cannot be read (nothing was sent:
                the pipeline waits the outage out and sends again).
            SendError: As Telegram answered.
            FloodWaitError: Telegram asked every sender to wait.
        """
        peer = self._peers.get(chat_id)
        if peer is None:
            peer = await telegram_call(lambda: self.client.resolve_peer(chat_id))
            self._remember({chat_id: peer})
        return peer

    async def resolve(self, user_ids: Sequence[int]) -> list[int]:
        """Make these recipients' peers ready; returns the ids Telegram does not know.

        Raises:
            FloodWaitError, SendError: Asking Telegram failed (nothing is lost: ask again).
            StorageUnavailableError: The peer storage cannot be read now (ask again later).
        """
        wanted = [uid for uid in dict.fromkeys(user_ids) if uid not in self._peers]
        if not wanted:
            return []
        found = await self._stored(wanted)
        self._remember(found)
        missing = [uid for uid in wanted if uid not in found]
        unknown: list[int] = []
        for start in range(0, len(missing), GET_USERS_BATCH):
            chunk = missing[start : start + GET_USERS_BATCH]
            learned = await self._ask_telegram(chunk)
            self._remember(learned)
            unknown += [uid for uid in chunk if uid not in learned]
        return unknown

    async def _stored(self, user_ids: list[int]) -> dict[int, InputPeer]:
        storage: Any = self.client.storage
        batch = getattr(storage, "peers_by_ids", None)
        if batch is not None:
            found: dict[int, InputPeer] = await batch(user_ids)
            return found
        found = {}
        for uid in user_ids:
            try:
                peer = await storage.get_peer_by_id(uid)
            except KeyError:
                continue
            if peer is not None:
                found[uid] = peer
        return found

    async def _ask_telegram(self, user_ids: list[int]) -> dict[int, InputPeer]:
        request = raw.functions.users.GetUsers(
            id=[raw.types.InputUser(user_id=uid, access_hash=0) for uid in user_ids]
        )
        self.lookups += 1
        users = await telegram_call(lambda: invoke_once(self.client, request))
        known: list[Any] = [
            u for u in users if isinstance(u, raw.types.User) and u.access_hash is not None
        ]
        try:  # bookkeeping after the answer: a storage failure must not lose what we learned
            await self.client.fetch_peers(known)
        except Exception:
            log.warning("could not store %d peers learned from Telegram", len(known), exc_info=True)
        return {
            u.id: raw.types.InputPeerUser(user_id=u.id, access_hash=u.access_hash) for u in known
        }

    def _remember(self, peers: dict[int, InputPeer]) -> None:
        self._peers.update(peers)
        while len(self._peers) > self.capacity:
            self._peers.popitem(last=False)
