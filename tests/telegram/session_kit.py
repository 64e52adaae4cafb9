"""Test peers for the session storage tests: a user's id, its access hash, its ``InputPeer``."""

from __future__ import annotations

from hydrogram import raw


def access_hash(peer_id: int) -> int:
    return peer_id * 7 + 3


def hash_of(peer: object) -> int:
    """The access hash of a user's ``InputPeer``."""
    assert isinstance(peer, raw.types.InputPeerUser), peer
    return int(peer.access_hash)


def is_user(peer: object, peer_id: int) -> bool:
    """Whether ``peer`` is the ``InputPeer`` of user ``peer_id``, with its access hash."""
    return (
        isinstance(peer, raw.types.InputPeerUser)
        and peer.user_id == peer_id
        and peer.access_hash == access_hash(peer_id)
    )


def user_of(peer: object) -> int:
    """The id of a user's ``InputPeer``."""
    assert isinstance(peer, raw.types.InputPeerUser), peer
    return int(peer.user_id)
