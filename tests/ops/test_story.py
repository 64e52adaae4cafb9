"""A broadcast's story in the log: ``grep <broadcast id> bot.log`` tells what happened.

The bot runs on the simulator with logging configured as ``python -m bot run``
configures it (:func:`bot.ops.logs.configure_logging`), into a buffer.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import timedelta

from bot.demo.simulator import TelegramSimulator, UserState
from bot.ops.logs import configure_logging, secrets_of
from bot.storage.mongo import Database
from config.settings import Settings
from tests.botkit import ADMIN, ShiftedClock, broadcast_id, last, press, send_now, wait_status
from tests.conftest import Launch
from tests.support import create_running, make_core, seed

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR) [\w.]+ ")


def grep(log: io.StringIO, word: str) -> list[str]:
    """What ``grep word bot.log`` prints."""
    return [line for line in log.getvalue().splitlines() if word in line]


def events(lines: list[str]) -> list[str]:
    return [m.group(1) for line in lines if (m := re.search(r" event=(\S+)", line))]


def field(line: str, name: str) -> str:
    found = re.search(rf" {name}=(\S+)", line)
    assert found is not None, f"no {name} in {line}"
    return found.group(1)


def logging_to(buffer: io.StringIO) -> None:
    configure_logging("INFO", secrets_of(Settings.for_tests()), stream=buffer)


async def test_a_broadcast_leaves_a_story_one_grep_finds(
    db: Database, sim: TelegramSimulator, launch: Launch, root_logging: logging.Logger
) -> None:
    log = io.StringIO()
    logging_to(log)
    users = await seed(db, sim, range(2_000_000, 2_000_006))
    await seed(db, sim, [2_100_000], UserState.BLOCKED)
    await seed(db, sim, [2_200_000], UserState.DEACTIVATED)
    sim.fail_next(users[2], error_message="FLOOD_WAIT_1", error_code=420)  # the shortest
    await launch()

    bid = await send_now(sim, db, "/broadcast Story time")

    story = grep(log, bid)
    assert all(LINE.match(line) for line in story)
    assert all(field(line, "broadcast") == bid for line in story if " event=" in line)
    told = events(story)
    assert told[0] == "broadcast.created"
    assert {"broadcast.confirmed", "broadcast.started"} <= set(told)
    run = [e for e in told if e.startswith("run.") or e == "flood_wait"]
    assert run == ["run.started", "flood_wait", "run.finished"]
    [flood] = [line for line in story if " event=flood_wait " in line]
    assert field(flood, "seconds") == "1"
    assert " WARNING bot.delivery.dispatch " in flood
    [finished] = [line for line in story if " event=run.finished " in line]
    assert (field(finished, "status"), field(finished, "total")) == ("completed", "8")
    assert (field(finished, "sent"), field(finished, "failed")) == ("6", "2")
    assert set(field(finished, "errors").split(",")) == {"blocked:1", "deactivated:1"}
    assert field(finished, "flood_waits") == "1"
    everything = log.getvalue()
    assert "event=leadership.taken" in everything
    assert "event=bot.installed" in everything
    for secret in secrets_of(Settings.for_tests()):
        assert secret not in everything


async def test_pause_resume_and_cancel_name_who_did_it(
    db: Database, sim: TelegramSimulator, root_logging: logging.Logger
) -> None:
    log = io.StringIO()
    logging_to(log)
    await seed(db, sim, range(100, 105))
    core = make_core(db, sim)
    bid = await create_running(core)

    assert await core.service.pause(bid, by=ADMIN)
    assert await core.service.resume(bid, by=ADMIN)
    assert await core.service.cancel(bid, by=ADMIN)
    assert not await core.service.pause(bid, by=ADMIN)  # nothing happened: nothing told

    story = grep(log, bid)
    assert events(story) == [
        "broadcast.created",
        "broadcast.started",
        "broadcast.paused",
        "broadcast.resumed",
        "broadcast.cancelled",
    ]
    assert [field(line, "by") for line in story[2:]] == [str(ADMIN)] * 3


async def test_scheduled_broadcasts_fired_and_missed_are_told(
    db: Database,
    sim: TelegramSimulator,
    launch: Launch,
    clock: ShiftedClock,
    root_logging: logging.Logger,
) -> None:
    log = io.StringIO()
    logging_to(log)
    await seed(db, sim, [6001, 6002])
    await launch()

    on_time = await _schedule(sim, "/broadcast --at 'in 1 hour' On time")
    clock.advance(timedelta(hours=1, seconds=1))
    await wait_status(db, on_time, "completed")
    late = await _schedule(sim, "/broadcast --at 'in 1 hour' Too late")
    clock.advance(timedelta(hours=3))  # past SCHEDULE_MISFIRE_GRACE (1 h) while "down"
    await wait_status(db, late, "missed")

    fired = events(grep(log, on_time))
    assert fired[:2] == ["broadcast.created", "broadcast.scheduled"]
    assert fired.index("schedule.fired") < fired.index("run.finished")
    missed = grep(log, late)
    assert events(missed)[-1] == "schedule.missed"
    assert " WARNING " in missed[-1]
    assert "run.started" not in events(missed)


async def _schedule(sim: TelegramSimulator, command: str) -> str:
    await sim.feed_message(ADMIN, command)
    confirm = last(sim)
    assert await press(sim, confirm, "Schedule") == "🗓 Scheduled"
    return broadcast_id(confirm)
