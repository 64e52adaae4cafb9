"""The delivery ledger and the broadcast store against MongoDB (mongomock or MONGO_TEST_URI)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.delivery.errors import ErrorCategory
from bot.delivery.model import BroadcastStatus, DeliveryStatus, Outcome
from bot.storage.ledger import MongoDeliveryLedger
from bot.storage.mongo import Database
from bot.storage.store import MongoBroadcastStore

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


async def test_add_pending_is_idempotent_and_keeps_state(db: Database) -> None:
    ledger = MongoDeliveryLedger(db)
    await ledger.ensure_indexes()
    assert await ledger.add_pending("b1", [1, 2, 3], NOW) == 3
    assert await ledger.claim("b1", [1], NOW, "t1") == [1]
    await ledger.settle("b1", [Outcome(1, 1, (10,), at=NOW)])
    assert await ledger.add_pending("b1", [1, 2, 3, 4], NOW) == 1
    assert await ledger.status_of("b1", 1) is DeliveryStatus.SENT
    assert await db["deliveries"].count_documents({"broadcast_id": "b1"}) == 4


async def test_claim_takes_only_pending_rows(db: Database) -> None:
    ledger = MongoDeliveryLedger(db)
    await ledger.add_pending("b1", [1, 2, 3], NOW)
    assert await ledger.claim("b1", [1, 2], NOW, "t2") == [1, 2]
    assert await ledger.claim("b1", [1, 2, 3, 99], NOW, "t3") == [3]
    assert await ledger.claim("b1", [1, 2, 3], NOW, "t4") == []
    assert await ledger.claim("b1", [1, 2], NOW, "t2") == [1, 2]  # the same claim, asked again


async def test_settle_records_results_and_tally_counts_them(db: Database) -> None:
    ledger = MongoDeliveryLedger(db)
    await ledger.add_pending("b1", [1, 2, 3, 4, 5], NOW)
    await ledger.add_pending("other", [1], NOW)
    await ledger.claim("b1", [1, 2, 3, 4], NOW, "t5")
    await ledger.settle(
        "b1",
        [
            Outcome(1, 1, (11,), at=NOW),
            Outcome(2, 1, error=ErrorCategory.BLOCKED, error_code="USER_IS_BLOCKED", at=NOW),
            Outcome(3, 3, error=ErrorCategory.TRANSIENT, error_code="TIMEOUT", at=NOW),
        ],
    )
    tally = await ledger.tally("b1")
    assert (tally.pending, tally.sending, tally.sent, tally.failed) == (1, 1, 1, 2)
    assert dict(tally.errors) == {"blocked": 1, "transient": 1}
    row = await db["deliveries"].find_one({"broadcast_id": "b1", "user_id": 3})
    assert row["attempts"] == 3
    assert row["error_code"] == "TIMEOUT"
    sent = await db["deliveries"].find_one({"broadcast_id": "b1", "user_id": 1})
    assert sent["message_id"] == 11


async def test_release_returns_claims_to_pending(db: Database) -> None:
    ledger = MongoDeliveryLedger(db)
    await ledger.add_pending("b1", [1, 2], NOW)
    await ledger.claim("b1", [1, 2], NOW, "t6")
    await ledger.release("b1", [2])
    assert await ledger.status_of("b1", 2) is DeliveryStatus.PENDING
    assert await ledger.pending_page("b1", None, 10) == [2]


async def test_pending_is_read_in_pages_by_user_id(db: Database) -> None:
    ledger = MongoDeliveryLedger(db)
    await ledger.add_pending("b1", list(range(25, 0, -1)), NOW)
    await ledger.add_pending("b2", [3, 4], NOW)
    pages, after = [], None
    while page := await ledger.pending_page("b1", after, 10):
        pages.append(page)
        after = page[-1]
    assert pages == [list(range(1, 11)), list(range(11, 21)), list(range(21, 26))]


async def test_rows_in_doubt_are_sent_again_while_their_first_claim_is_recent(
    db: Database,
) -> None:
    ledger = MongoDeliveryLedger(db)
    await ledger.add_pending("b1", [1, 2, 3], NOW)
    await ledger.claim("b1", [1], NOW - timedelta(hours=2), "t7")
    await ledger.claim("b1", [2, 3], NOW - timedelta(minutes=50), "t8")

    assert await ledger.retry_in_doubt("b1", NOW - timedelta(hours=1)) == 2
    assert await ledger.pending_page("b1", None, 10) == [2, 3]
    await ledger.claim("b1", [2, 3], NOW, "t9")  # in doubt again: still within the window
    assert await ledger.retry_in_doubt("b1", NOW - timedelta(hours=1)) == 2
    await ledger.claim("b1", [2], NOW, "t10")  # the window counts from the first claim:
    assert await ledger.retry_in_doubt("b1", NOW - timedelta(minutes=40)) == 0  # 50 min ago
    assert (await ledger.tally("b1")).sending == 2  # 1 (2 h ago) and 2: unknown, never resent


async def test_store_transition_is_compare_and_set(db: Database) -> None:
    store = MongoBroadcastStore(db)
    await store.ensure_indexes()
    await store.insert({"broadcast_id": "b1", "status": "queued", "created_at": NOW})
    first = await store.transition(
        "b1", [BroadcastStatus.QUEUED], BroadcastStatus.RUNNING, at=NOW, by=7
    )
    second = await store.transition(
        "b1", [BroadcastStatus.QUEUED], BroadcastStatus.RUNNING, at=NOW, by=8
    )
    assert first is not None
    assert second is None
    doc = await store.get("b1")
    assert doc["schema_version"] == 1
    assert [(a["action"], a["by"]) for a in doc["audit"]] == [("running", 7)]


async def test_a_claim_whose_answer_was_lost_is_found_again_or_given_back(db: Database) -> None:
    ledger = MongoDeliveryLedger(db)
    await ledger.add_pending("b1", [1, 2, 3], NOW)
    await ledger.claim("b1", [1, 2], NOW, "lost")  # the answer never arrived...
    assert await ledger.claim("b1", [1, 2], NOW, "lost") == [1, 2]  # ...a retry finds them
    await ledger.release_claim("b1", "lost")  # or a stop gives them back
    assert await ledger.pending_page("b1", None, 10) == [1, 2, 3]
