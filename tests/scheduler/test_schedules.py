"""Scheduled broadcasts in MongoDB: the reconciliation plan, and firing exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.admin.commands.model import is_broadcast_id
from bot.delivery.content import TextContent
from bot.delivery.model import BroadcastStatus
from bot.delivery.service import Audience
from bot.demo.simulator import TelegramSimulator
from bot.storage.mongo import Database
from bot.storage.store import MongoBroadcastStore
from scheduler.book import Schedule, ScheduleBook, occurrence_id, plan
from scheduler.recurrence import parse_every
from tests.support import make_core

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
EVERYONE = Audience.of_segments([], [], "all users")


def doc(bid: str, due: datetime | None) -> dict[str, Any]:
    return {"_id": bid, "scheduled_for": due}


@pytest.mark.parametrize(
    ("scheduled", "jobs", "fire", "miss", "put", "remove"),
    [
        ([doc("a", NOW - 30 * timedelta(minutes=1))], {}, ["a"], [], {}, []),
        ([doc("a", NOW)], {"a": NOW}, ["a"], [], {}, []),  # firing replaces or drops the job
        ([doc("a", NOW - 2 * HOUR)], {}, [], ["a"], {}, []),
        ([doc("a", NOW + HOUR)], {}, [], [], {"a": NOW + HOUR}, []),
        ([doc("a", NOW + HOUR)], {"a": NOW + HOUR}, [], [], {}, []),
        ([doc("a", NOW + HOUR)], {"a": NOW + 2 * HOUR}, [], [], {"a": NOW + HOUR}, []),
        ([], {"gone": NOW + HOUR, "also": None}, [], [], {}, ["also", "gone"]),
        ([doc("a", None)], {"a": NOW}, [], [], {}, ["a"]),
        (
            [doc("due", NOW - HOUR / 2), doc("late", NOW - 3 * HOUR), doc("next", NOW + HOUR)],
            {"due": NOW - HOUR / 2, "stale": NOW},
            ["due"],
            ["late"],
            {"next": NOW + HOUR},
            ["stale"],
        ),
    ],
)  # fmt: skip
def test_plan_matches_jobs_to_the_broadcasts_collection(
    scheduled: list[dict[str, Any]],
    jobs: dict[str, datetime | None],
    fire: list[str],
    miss: list[str],
    put: dict[str, datetime],
    remove: list[str],
) -> None:
    result = plan(scheduled, jobs, NOW, grace=HOUR)

    assert (result.fire, result.miss, result.put, result.remove) == (fire, miss, put, remove)


def test_occurrence_ids_are_broadcast_ids_and_the_same_for_every_scheduler() -> None:
    first = occurrence_id("bc_20261129_120000_abcd", NOW)

    assert is_broadcast_id(first)
    assert first == occurrence_id("bc_20261129_120000_abcd", NOW)
    assert first != occurrence_id("bc_20261129_120000_abcd", NOW + HOUR)
    assert first != occurrence_id("bc_20261129_120000_ffff", NOW)


async def scheduled(book: ScheduleBook, plan_: Schedule) -> str:
    return await book.service.create(
        TextContent("Hi"),
        EVERYONE,
        admin_id=1,
        status=BroadcastStatus.SCHEDULED,
        extra={"schedule": plan_.to_document(), "scheduled_for": plan_.first},
    )


@pytest.fixture
async def book(db: Database, sim: TelegramSimulator) -> ScheduleBook:
    core = make_core(db, sim)
    return ScheduleBook(core.store, core.service)


async def test_a_one_off_fired_by_two_schedulers_at_once_is_queued_once(
    book: ScheduleBook,
) -> None:
    bid = await scheduled(book, Schedule(NOW, "UTC"))

    results = await asyncio.gather(*(book.fire(bid, NOW) for _ in range(4)))

    assert [r.broadcast_id for r in results if r is not None] == [bid]
    doc = await book.store.get(bid)
    assert doc["status"] == "queued"
    assert [e["action"] for e in doc["audit"]].count("due") == 1


async def test_a_repeating_run_fired_twice_makes_one_broadcast_and_moves_on(
    book: ScheduleBook,
) -> None:
    rule = parse_every("day 12:00")
    bid = await scheduled(book, Schedule(NOW, "UTC", rule, until=NOW + 36 * HOUR))

    results = await asyncio.gather(book.fire(bid, NOW), book.fire(bid, NOW))

    fired = [r for r in results if r is not None]
    assert len(fired) == 1
    assert fired[0].next_at == NOW + 24 * HOUR
    runs = await book.store.docs.count_documents({"schedule_id": bid})
    assert runs == 1
    template = await book.store.get(bid)
    assert template["status"] == "scheduled"
    assert template["schedule"]["runs"] == 1
    last = await book.fire(bid, NOW + 24 * HOUR)
    assert last is not None
    assert last.next_at is None  # the day after is past --until
    assert (await book.store.get(bid))["status"] == "completed"


async def test_a_job_firing_before_a_moved_time_does_nothing(book: ScheduleBook) -> None:
    bid = await scheduled(book, Schedule(NOW, "UTC"))
    await book.reschedule(bid, NOW + HOUR, by=1, now=NOW)

    assert await book.fire(bid, NOW) is None
    assert (await book.store.get(bid))["status"] == "scheduled"


async def test_missed_one_off_and_missed_run_of_a_schedule(book: ScheduleBook) -> None:
    once = await scheduled(book, Schedule(NOW, "UTC"))
    daily = await scheduled(book, Schedule(NOW, "UTC", parse_every("day 12:00")))
    later = NOW + 3 * HOUR

    missed_once = await book.miss(once, later, grace=HOUR)
    missed_run = await book.miss(daily, later, grace=HOUR)
    again = await book.miss(daily, later, grace=HOUR)  # the sweep and APScheduler both saw it

    assert missed_once is not None
    assert (await book.store.get(once))["status"] == "missed"
    assert missed_run is not None
    assert (await book.store.get(missed_run.broadcast_id))["status"] == "missed"
    assert (await book.store.get(daily))["scheduled_for"].day == 30  # the next day's run
    assert again is None  # the next run is not missed with it
    assert await book.miss(daily, later + 20 * HOUR, grace=HOUR) is None  # not late yet
    assert await book.fire(once, later) is None  # missed stays missed


async def test_confirm_refuses_a_time_that_has_passed(book: ScheduleBook) -> None:
    bid = await book.service.create(
        TextContent("Hi"),
        EVERYONE,
        admin_id=1,
        status=BroadcastStatus.DRAFT,
        extra={"schedule": Schedule(NOW, "UTC").to_document(), "scheduled_for": NOW},
    )

    assert await book.confirm(bid, by=1, now=NOW + timedelta(seconds=1)) is None
    assert (await book.store.get(bid))["status"] == "draft"


async def test_a_run_whose_id_is_taken_by_another_broadcast_gets_the_next_id(
    book: ScheduleBook,
) -> None:
    bid = await scheduled(book, Schedule(NOW, "UTC", parse_every("day 12:00")))
    taken = occurrence_id(bid, NOW)
    await book.store.insert({"broadcast_id": taken, "status": "completed", "schedule_id": "x"})

    fired = await book.fire(bid, NOW)

    assert fired is not None
    assert fired.broadcast_id == occurrence_id(bid, NOW, attempt=1)
    assert (await book.store.get(fired.broadcast_id))["schedule_id"] == bid
    assert (await book.store.get(taken))["schedule_id"] == "x"


async def test_a_broadcast_id_taken_in_the_same_second_is_replaced(
    book: ScheduleBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = iter(["bc_20261129_120000_aaaa", "bc_20261129_120000_aaaa", "bc_20261129_120000_bbbb"])
    monkeypatch.setattr("bot.delivery.service.new_broadcast_id", lambda now: next(ids))

    first = await book.service.create(TextContent("a"), EVERYONE, admin_id=1)
    second = await book.service.create(TextContent("b"), EVERYONE, admin_id=1)

    assert (first, second) == ("bc_20261129_120000_aaaa", "bc_20261129_120000_bbbb")
    assert (await book.store.get(second))["message_text"] == "b"


class CancelAfterRead(MongoBroadcastStore):
    """An admin's cancel lands right after the scheduler read the schedule."""

    cancel: str | None = None

    async def get(self, broadcast_id: str) -> dict[str, Any]:
        doc = await super().get(broadcast_id)
        if broadcast_id == self.cancel:
            self.cancel = None
            await self.transition(
                broadcast_id, [BroadcastStatus.SCHEDULED], BroadcastStatus.CANCELLED, at=NOW, by=1
            )
        return doc


async def test_a_schedule_cancelled_while_firing_creates_no_run(
    db: Database, book: ScheduleBook
) -> None:
    racing = CancelAfterRead(db)
    racy = ScheduleBook(racing, book.service)
    bid = await scheduled(book, Schedule(NOW, "UTC", parse_every("day 12:00")))
    racing.cancel = bid

    assert await racy.fire(bid, NOW) is None

    assert await db["broadcasts"].count_documents({"schedule_id": bid}) == 0
    assert (await book.store.get(bid))["status"] == "cancelled"


async def test_a_run_owed_by_a_crash_between_advance_and_insert_is_created_once(
    book: ScheduleBook,
) -> None:
    bid = await scheduled(book, Schedule(NOW, "UTC", parse_every("day 12:00")))
    fired = await book.fire(bid, NOW)
    assert fired is not None
    # As if the process died after the advance: the run is gone, the debt recorded.
    await book.store.docs.delete_one({"_id": fired.broadcast_id})
    pending = {"id": fired.broadcast_id, "at": NOW, "status": "queued", "fired_at": NOW}
    await book.store.update(bid, {"pending_run": pending})

    (owed,) = await book.store.with_pending_runs()
    again = await book.settle_pending(owed)

    assert again is not None
    assert again.broadcast_id == fired.broadcast_id
    assert (await book.store.get(fired.broadcast_id))["status"] == "queued"
    assert await book.store.with_pending_runs() == []
    assert await book.settle_pending(owed) is None  # a second sweep finds it there
