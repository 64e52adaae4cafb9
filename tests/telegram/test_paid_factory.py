"""Paid-broadcast requests beside hydrogram's: their constructor ids, the factory that makes
them from hydrogram's requests, and a paid broadcast past the free limit in the simulator."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from hydrogram import raw
from hydrogram.raw.core import Int, TLObject

from bot.telegram.paid import paid_request
from tests.telegram.paid_kit import USER, Method, each_method, parse, tl_constructor_id

# --- constructor ids ------------------------------------------------------------------------


@each_method
def test_constructor_ids_are_layer_181s_because_true_flags_are_not_hashed(method: Method) -> None:
    constructor, _ = parse(method.line)
    assert tl_constructor_id(method.line) == constructor == method.paid.ID
    # Layer 181's definition is this one without the flag, and hashes to the same id.
    layer_181 = method.line.replace(" allow_paid_floodskip:flags.19?true", "")
    assert tl_constructor_id(layer_181) == method.free.ID == method.paid.ID


@each_method
def test_hydrogram_keeps_its_own_classes_and_reads_paid_bytes_without_the_flag(
    method: Method,
) -> None:
    objects: dict[int, Any] = raw.objects
    assert objects[method.paid.ID] is method.free
    paid = method.paid(**method.full(), allow_paid_floodskip=True)
    as_hydrogram_reads_it = TLObject.read(BytesIO(paid.write()))
    assert type(as_hydrogram_reads_it) is method.free
    assert "allow_paid_floodskip" not in method.free.__slots__


# --- the factory ----------------------------------------------------------------------------


@each_method
@pytest.mark.parametrize("fullness", ["required only", "every field"])
def test_factory_copies_every_field_and_sets_the_flag(method: Method, fullness: str) -> None:
    values = method.required if fullness == "required only" else method.full()
    free = method.free(**values)
    paid = paid_request(free)
    assert type(paid) is method.paid
    assert set(paid.__slots__) - set(free.__slots__) == {"allow_paid_floodskip"}
    for name in free.__slots__:
        assert getattr(paid, name) is getattr(free, name), name
    assert paid.allow_paid_floodskip is True  # type: ignore[attr-defined]
    free_bytes, paid_bytes = free.write(), paid.write()
    assert paid_bytes[8:] == free_bytes[8:]
    assert Int.read(BytesIO(paid_bytes[4:8])) == Int.read(BytesIO(free_bytes[4:8])) | 1 << 19


def test_factory_refuses_other_requests() -> None:
    with pytest.raises(TypeError, match="no paid form of EditMessage"):
        paid_request(raw.functions.messages.EditMessage(peer=USER, id=1))


async def test_a_paid_broadcast_goes_past_the_free_limit_in_the_simulator() -> None:
    from bot.app import Tuning, build_core
    from bot.delivery.content import TextContent
    from bot.delivery.service import Audience
    from bot.demo.simulator import TelegramSimulator
    from bot.storage.inmemory import in_memory_database

    async def broadcast(paid: bool) -> tuple[int, int]:
        sim = TelegramSimulator(telegram_limit=30, chat_burst=100)
        await sim.start()
        try:
            users = list(range(100, 250))
            sim.add_users(users)
            db = in_memory_database()
            await db["users"].insert_many([{"user_id": u} for u in users])
            core = build_core(db, sim, Tuning(rate=150, concurrency=32, paid=paid))
            bid = await core.service.create(TextContent("Hi"), Audience(query={}), admin_id=1)
            await core.service.start(bid)
            summary = await core.service.run(bid)
            return summary.sent, sim.flood_waits
        finally:
            await sim.stop()

    paid_sent, paid_floods = await broadcast(paid=True)
    free_sent, free_floods = await broadcast(paid=False)
    assert (paid_sent, paid_floods) == (150, 0)  # 150 msg/s is within the paid 1000
    assert free_sent == 150
    assert free_floods > 0  # the same rate without the flag trips the free 30 msg/s
