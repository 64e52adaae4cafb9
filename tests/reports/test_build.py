"""Writing a report through the storage ports: the ledger read a page at a time, every
row in the CSV once, the counts those of the ledger."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image

from bot.app import utc_now
from bot.delivery.errors import ErrorCategory
from bot.delivery.model import Outcome
from bot.reports.build import ReportSources, write_report
from bot.reports.chart import SIZE_PX
from bot.storage.ledger import MongoDeliveryLedger
from bot.storage.mongo import Database
from bot.storage.reactions import MongoReactionStore
from bot.storage.store import MongoBroadcastStore

BID = "bc_20261129_143000_a1b2"
PAGE = 7


class PagesRead:
    """The real ledger, recording the size of every page a report reads."""

    def __init__(self, ledger: MongoDeliveryLedger) -> None:
        self.ledger, self.sizes = ledger, list[int]()

    async def rows_page(
        self, broadcast_id: str, status: str, after: int | None, limit: int
    ) -> list[dict[str, Any]]:
        page = await self.ledger.rows_page(broadcast_id, status, after, limit)
        self.sizes.append(len(page))
        return page


async def stored_broadcast(db: Database) -> tuple[MongoBroadcastStore, MongoDeliveryLedger]:
    """A broadcast whose ledger holds 21 sent (three pages exactly), 10 failed, 3 in doubt
    and 4 never sent."""
    store, ledger = MongoBroadcastStore(db), MongoDeliveryLedger(db)
    await ledger.ensure_indexes()
    now = utc_now()
    await store.insert(
        {"broadcast_id": BID, "status": "cancelled", "snapshot_started": True, "started_at": now}
    )
    users = list(range(500, 538))
    await ledger.add_pending(BID, users, now)
    claimed = await ledger.claim(BID, users[:34], now, "token")
    sent = [Outcome(uid, 1, (uid * 10,), at=now) for uid in claimed[:21]]
    failed = [
        Outcome(uid, 1, error=ErrorCategory.BLOCKED, error_code="USER_IS_BLOCKED", at=now)
        for uid in claimed[21:31]
    ]
    await ledger.settle(BID, [*sent, *failed])
    return store, ledger


async def test_every_row_is_written_once_a_page_at_a_time(db: Database, tmp_path: Path) -> None:
    store, ledger = await stored_broadcast(db)
    pages = PagesRead(ledger)
    sources = ReportSources(store, pages, MongoReactionStore(db), page=PAGE)

    files = await write_report(sources, BID, tmp_path)

    with files.ledger.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == files.rows == 38
    assert len({row["user_id"] for row in rows}) == 38
    by_status = Counter(row["status"] for row in rows)
    tally = await ledger.tally(BID)
    assert by_status == files.by_status == {
        "sent": tally.sent, "failed": tally.failed, "sending": tally.sending,
        "pending": tally.pending,
    }  # fmt: skip
    assert dict(by_status) == {"sent": 21, "failed": 10, "sending": 3, "pending": 4}
    assert files.errors == dict(tally.errors) == {"blocked": 10}
    assert max(pages.sizes) == PAGE
    # sent: 7 7 7 and an empty page; failed: 7 3; in doubt: 3; not sent: 4
    assert pages.sizes == [7, 7, 7, 0, 7, 3, 3, 4]
    sent_ids = [int(row["user_id"]) for row in rows if row["status"] == "sent"]
    assert sent_ids == sorted(sent_ids)
    with Image.open(files.chart) as image:
        assert image.size == SIZE_PX
