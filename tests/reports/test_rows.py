"""A ledger row as the CSV writes it, and what the chart says of a broadcast (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.reports.chart import drawable, elapsed_label, run_label, step_text
from bot.reports.figures import LedgerCounts, chart_data, counting, report_problem, run_windows
from bot.reports.rows import CSV_COLUMNS, LedgerEntry, csv_row, entry_of, iso_utc

AT = datetime(2026, 11, 29, 14, 30, 0, 125_000, tzinfo=UTC)


def test_a_sent_album_lists_every_message_id() -> None:
    row = {"user_id": 7, "status": "sent", "message_id": 11, "message_ids": [11, 12, 13],
           "settled_at": AT.replace(tzinfo=None), "attempts": 1}  # fmt: skip
    entry = entry_of(row)
    assert csv_row(entry) == ["7", "sent", "", "", "2026-11-29T14:30:00.125Z", "11 12 13", "1", ""]
    assert len(csv_row(entry)) == len(CSV_COLUMNS)


def test_a_failed_row_names_its_category_and_telegram_s_error() -> None:
    row = {"user_id": 8, "status": "failed", "error": "blocked", "error_code": "USER_IS_BLOCKED",
           "settled_at": AT, "attempts": 1}  # fmt: skip
    assert csv_row(entry_of(row))[:5] == [
        "8", "failed", "blocked", "USER_IS_BLOCKED", "2026-11-29T14:30:00.125Z",
    ]  # fmt: skip


def test_a_duplicate_and_a_row_never_sent() -> None:
    duplicate = entry_of({"user_id": 9, "status": "sent", "duplicate": True, "attempts": 2})
    assert csv_row(duplicate) == ["9", "sent", "", "", "", "", "2", "yes"]
    assert csv_row(entry_of({"user_id": 10, "status": "pending"}))[1:] == [
        "pending", "", "", "", "", "0", "",
    ]  # fmt: skip
    assert iso_utc(None) == ""


def test_helpers_of_the_drawing() -> None:
    assert [elapsed_label(s) for s in (5, 750, 3723)] == ["0:05", "12:30", "1:02:03"]
    assert [step_text(s) for s in (5, 120, 7200, 86_400, 90)] == [
        "5 s",
        "2 min",
        "2 h",
        "1 d",
        "90 s",
    ]
    assert drawable("Hi 👍\ufe0f!", lambda c: c.isascii()) == "Hi :thumbs up sign:!"
    assert run_label(2, AT.timestamp()) == "Run 2 (retry) · 2026-11-29 14:30 UTC"


def doc(**fields: object) -> dict[str, object]:
    return {"broadcast_id": "bc_20261129_143000_a1b2", "status": "completed",
            "snapshot_started": True, **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        (
            {"kind": "delete", "of": "bc_x"},
            "is a delete of bc_x, not a broadcast: /broadcast_report bc_x",
        ),
        ({"status": "running"}, "is still running: ask for its report once it has ended"),
        ({"status": "queued"}, "is still queued"),
        ({"status": "scheduled", "snapshot_started": False}, "was never sent (scheduled)"),
        ({"status": "cancelled", "snapshot_started": False}, "was never sent (cancelled)"),
    ],
)
def test_what_has_no_report(fields: dict[str, object], says: str) -> None:
    problem = report_problem(doc(**fields))
    assert problem is not None
    assert says in problem


def test_finished_and_paused_broadcasts_have_one() -> None:
    assert report_problem(doc()) is None
    assert report_problem(doc(status="paused")) is None


def test_the_runs_of_a_retried_broadcast_and_of_one_never_retried() -> None:
    later = AT + timedelta(hours=2)
    once = doc(started_at=AT, completed_at=AT + timedelta(minutes=1))
    assert [(w.number, w.start) for w in run_windows(once)] == [(1, AT.timestamp())]
    retried = doc(
        started_at=later,  # the retry's own start
        runs=[
            {"run": 1, "started_at": AT, "completed_at": AT + timedelta(minutes=1)},
            {"run": 2, "requested_at": later - timedelta(seconds=5)},  # not closed yet
        ],
    )
    assert [(w.number, w.start) for w in run_windows(retried)] == [
        (1, AT.timestamp()),
        (2, later.timestamp()),
    ]


def test_the_chart_lists_every_reaction_option_and_the_figures() -> None:
    stored = doc(content={"reactions": ["👍", "👎"]}, flood_waits=600, flood_wait_seconds=900.0,
                 flood_wait_log=[{"at": AT, "seconds": 1.5}] * 500, active_seconds=65)  # fmt: skip
    counts: LedgerCounts = counting(stored)
    for user, status, error in [(1, "sent", None), (2, "failed", "blocked"), (3, "pending", None)]:
        counts.add(LedgerEntry(user, status, error, settled_at=AT))

    shown = chart_data(stored, counts, {"👎": 4, "old": 1})

    assert shown.reactions == (("👍", 0), ("👎", 4), ("old", 1))
    assert shown.errors == (("User blocked the bot", 1),)
    assert shown.title == "Broadcast bc_20261129_143000_a1b2 · completed · 3 recipients"
    assert shown.notes[:5] == (
        "Recipients: 3", "Delivered: 1 (33.3%)", "Failed: 1 (33.3%)", "Not sent: 1",
        "Sending time: 1m 5s",
    )  # fmt: skip
    assert "FloodWaits: 600, 15m 0s in all; the last 500 shaded" in shown.notes
    assert chart_data(doc(), counting(doc()), {}).reactions is None
