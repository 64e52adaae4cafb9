"""What the ledger knows after a broadcast: copies for deletes and edits, rows for retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.delivery.errors import ErrorCategory
from bot.delivery.model import DeliveryStatus, Outcome
from bot.delivery.operations import CopyCounts, SentCopy
from bot.storage.ledger import MongoDeliveryLedger
from bot.storage.mongo import Database
from bot.storage.users import MongoUserDirectory

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=50)


async def settled(ledger: MongoDeliveryLedger, bid: str, *outcomes: Outcome) -> None:
    await ledger.add_pending(bid, [o.user_id for o in outcomes], NOW)
    await ledger.claim(bid, [o.user_id for o in outcomes], NOW, f"t-{bid}")
    await ledger.settle(bid, outcomes)


def failed(uid: int, category: ErrorCategory) -> Outcome:
    return Outcome(uid, 1, error=category, error_code=category.value.upper(), at=NOW)


async def test_sent_pages_leave_out_the_copies_other_deletes_removed(db: Database) -> None:
    ledger = MongoDeliveryLedger(db)
    await ledger.ensure_indexes()
    await settled(
        ledger, "b", *(Outcome(uid, 1, (uid * 10,), at=NOW) for uid in range(1, 8)),
        failed(8, ErrorCategory.BLOCKED),
    )  # fmt: skip
    await settled(ledger, "del1", Outcome(2, 1, (20,), at=NOW), Outcome(5, 1, (50,), at=NOW))
    await settled(ledger, "del2", failed(3, ErrorCategory.FORBIDDEN))  # not deleted: still there

    first = await ledger.sent_page("b", None, 3, ["del1", "del2"])
    second = await ledger.sent_page("b", first[1], 3, ["del1", "del2"])
    third = await ledger.sent_page("b", second[1], 3, ["del1", "del2"])

    assert first == ([1, 3], 3)  # a page is 3 rows read, less the deleted
    assert second == ([4, 6], 6)
    assert third == ([7], None)
    assert await ledger.sent_page("b", None, 10) == ([1, 2, 3, 4, 5, 6, 7], None)


async def test_sent_copies_and_their_ages(db: Database) -> None:
    ledger = MongoDeliveryLedger(db)
    await settled(
        ledger, "b", Outcome(1, 1, (10, 11, 12), at=EARLIER), Outcome(2, 1, (20,), at=NOW),
        Outcome(3, 2, (), at=NOW, duplicate=True), failed(4, ErrorCategory.TRANSIENT),
    )  # fmt: skip
    await settled(ledger, "del", Outcome(2, 1, (20,), at=NOW))

    assert await ledger.sent_copies("b", [1, 2, 3, 4, 99]) == {
        1: SentCopy((10, 11, 12), EARLIER),
        2: SentCopy((20,), NOW),
        3: SentCopy((), NOW, duplicate=True),
    }
    since = NOW - timedelta(hours=48)
    # Row 3 has no ids: left, but counted apart (neither reachable nor young).
    assert await ledger.sent_ages("b", since) == CopyCounts(2, 1, 1)
    assert await ledger.sent_ages("b", since, ["del"]) == CopyCounts(1, 0, 1)
    # A row sent before ids were recorded (no message_id at all) is id-less too.
    await settled(ledger, "old", Outcome(5, 1, (50,), at=NOW), Outcome(6, 1, (60,), at=NOW))
    await db["deliveries"].update_one({"_id": "old:6"}, {"$unset": {"message_id": ""}})
    assert await ledger.sent_ages("old", since) == CopyCounts(1, 1, 1)
    assert await ledger.sent_ages("old", since, ["del"]) == CopyCounts(1, 1, 1)


async def test_reopen_moves_back_what_may_go_again_never_a_sent_row(db: Database) -> None:
    ledger = MongoDeliveryLedger(db)
    await settled(
        ledger, "b", Outcome(1, 1, (10,), at=NOW), failed(2, ErrorCategory.TRANSIENT),
        failed(3, ErrorCategory.UNKNOWN), failed(4, ErrorCategory.BLOCKED),
        failed(5, ErrorCategory.DEACTIVATED), failed(6, ErrorCategory.CONTENT),
    )  # fmt: skip
    await ledger.add_pending("b", [7], NOW)
    await ledger.claim("b", [7], NOW, "doubt")

    assert await ledger.reopen("b", errors=["transient", "unknown"], in_doubt=True) == 3
    assert await ledger.failed_page("b", ["blocked", "deactivated"], None, 10) == [4, 5]
    assert await ledger.reopen("b", errors=["blocked", "deactivated"], user_ids=[1, 5]) == 1
    assert await ledger.reopen("b", errors=["blocked"], user_ids=[]) == 0

    status = {uid: await ledger.status_of("b", uid) for uid in range(1, 8)}
    pending, sent, gone = DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.FAILED
    assert status == {1: sent, 2: pending, 3: pending, 4: gone, 5: pending, 6: gone, 7: pending}
    row = await db["deliveries"].find_one({"_id": "b:2"})
    assert "error" not in row
    assert row["reopened"] == 1


async def test_unmarked_users_are_those_recorded_without_a_mark(db: Database) -> None:
    users = MongoUserDirectory(db)
    await db["users"].insert_many(
        [
            {"user_id": 1},
            {"user_id": 2, "bot_blocked_at": NOW},
            {"user_id": 3, "deactivated_at": NOW},
            {"user_id": 4, "bot_blocked_at": None},
        ]
    )
    assert sorted(await users.unmarked([1, 2, 3, 4, 5])) == [1, 4]
    assert await users.unmarked([]) == []
