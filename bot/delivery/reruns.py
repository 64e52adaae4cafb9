"""Retrying a broadcast: a new run of the same broadcast for those who did not get it.

Who is sent to again (:class:`RetryPlan`): recipients whose send failed for a passing
reason (``transient``) or an unknown one, recipients left in doubt (``sending`` rows:
no run sends a finished broadcast), recipients never reached (a cancelled or stopped
broadcast's ``pending`` rows), and users who had blocked the bot or deleted their
account when it was sent but have since come back (their user document has lost the
mark; users the collection does not hold are not). Never anyone the ledger shows as
sent. The run is the same broadcast (same id, so every send carries the ``random_id``
of the first: Telegram refuses a repeat of a delivered message), its rows reopened to
pending and the broadcast moved back to ``queued``; ``runs`` on the document records
each run's own counts (:func:`closing_fields` fills them in when the run ends).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.delivery.errors import ErrorCategory
from bot.delivery.model import BroadcastStatus, Tally

if TYPE_CHECKING:
    from bot.delivery.ports import BroadcastStore, WallClock
    from bot.delivery.report import Summary

#: Failures worth another try whoever the recipient is.
AGAIN = (ErrorCategory.TRANSIENT.value, ErrorCategory.UNKNOWN.value)
#: Failures worth another try once the user has come back.
CAME_BACK = (ErrorCategory.BLOCKED.value, ErrorCategory.DEACTIVATED.value)
#: A broadcast that may be retried: it ended, and no run sends it.
RETRYABLE = (BroadcastStatus.COMPLETED, BroadcastStatus.FAILED, BroadcastStatus.CANCELLED)
PAGE = 500


class RerunLedger(Protocol):
    """What a retry needs of the ledger (:class:`bot.storage.ledger.MongoDeliveryLedger`)."""

    async def tally(self, broadcast_id: str) -> Tally:
        """Counts by status and error."""

    async def failed_page(
        self, broadcast_id: str, errors: Sequence[str], after: int | None, limit: int
    ) -> list[int]:
        """Up to ``limit`` recipients that failed with one of ``errors``, ids above ``after``."""

    async def reopen(
        self,
        broadcast_id: str,
        *,
        errors: Sequence[str] = (),
        user_ids: Sequence[int] | None = None,
        in_doubt: bool = False,
    ) -> int:
        """Back to pending: rows failed with one of ``errors`` (only those of ``user_ids``
        when given), and ``sending`` rows with ``in_doubt``; never a sent row."""


class ReturningUsers(Protocol):
    """What a retry needs of the users collection."""

    async def unmarked(self, user_ids: Sequence[int]) -> list[int]:
        """Those of ``user_ids`` recorded without a blocked or deleted mark."""


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """Who a retry would send to, by why: counted from the ledger now."""

    failed: int = 0
    in_doubt: int = 0
    never_reached: int = 0
    came_back: int = 0
    delivered: int = 0
    still_unreachable: int = 0

    @property
    def total(self) -> int:
        """Every recipient a retry sends to."""
        return self.failed + self.in_doubt + self.never_reached + self.came_back


def retry_problem(doc: dict[str, Any]) -> str | None:
    """Why the broadcast ``doc`` cannot be retried now, or None."""
    bid, status = doc["broadcast_id"], doc["status"]
    if doc.get("kind"):
        return f"{bid} is a {doc['kind']} of {doc.get('of')}, not a broadcast: nothing to retry."
    if status in (BroadcastStatus.QUEUED, BroadcastStatus.RUNNING, BroadcastStatus.PAUSED):
        return f"{bid} is still {status}: a retry comes after it ends."
    if status not in RETRYABLE or not doc.get("snapshot_started"):
        return f"{bid} was never sent ({status}): nothing to retry."
    return None


class Reruns:
    """Plans and starts retries of finished broadcasts."""

    def __init__(
        self,
        store: BroadcastStore,
        ledger: RerunLedger,
        users: ReturningUsers,
        wall_clock: WallClock,
        page: int = PAGE,
    ) -> None:
        self.store, self.ledger, self.users, self.now = store, ledger, users, wall_clock
        self.page = page

    async def plan(self, broadcast_id: str) -> RetryPlan:
        """Count who a retry would send to now."""
        tally = await self.ledger.tally(broadcast_id)
        errors = dict(tally.errors)
        came_back = unreachable = 0
        async for page in self._unreachable_pages(broadcast_id):
            back = len(await self.users.unmarked(page))
            came_back, unreachable = came_back + back, unreachable + len(page) - back
        return RetryPlan(
            failed=sum(errors.get(e, 0) for e in AGAIN),
            in_doubt=tally.sending,
            never_reached=tally.pending,
            came_back=came_back,
            delivered=tally.sent,
            still_unreachable=unreachable,
        )

    async def start(
        self, doc: dict[str, Any], by: int, question: int, fields: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Reopen the rows of a retry and queue the broadcast again with a record of the run.

        ``doc`` is the broadcast as the admin confirmed it (its status then), ``question``
        the message that asked (answered once: a second tap finds it gone); ``fields``
        are set with the move to queued (its status message). Returns the queued
        document, or None when the question was already answered or the broadcast is no
        longer in that state: nothing is then queued.
        """
        bid, status = str(doc["_id"]), BroadcastStatus(doc["status"])
        now = self.now()
        claimed = await self.store.transition(
            bid, [status], status, at=now, by=by, action="retry_confirmed",
            fields={"retry_question": None}, where={"retry_question.message_id": question},
        )  # fmt: skip
        if claimed is None:
            return None
        await self._reopen(bid)
        tally = await self.ledger.tally(bid)
        runs = list(doc.get("runs") or [first_run(doc)])
        runs.append(
            {
                "run": len(runs) + 1,
                "requested_at": now,
                "by": by,
                "recipients": tally.pending,
                "sent_before": tally.sent,
                "failed_before": tally.failed,
                "errors_before": dict(tally.errors),
            }
        )
        queued = {"runs": runs, "confirmed_at": now, "completed_at": None, "stop_reason": None}
        return await self.store.transition(
            bid, [status], BroadcastStatus.QUEUED, at=now, by=by, action="retried",
            fields=queued | (fields or {}),
        )  # fmt: skip

    async def _reopen(self, bid: str) -> None:
        await self.ledger.reopen(bid, errors=AGAIN, in_doubt=True)
        async for page in self._unreachable_pages(bid):
            back = await self.users.unmarked(page)
            if back:
                await self.ledger.reopen(bid, errors=CAME_BACK, user_ids=back)

    async def _unreachable_pages(self, bid: str) -> Any:
        after: int | None = None
        while True:
            page = await self.ledger.failed_page(bid, CAME_BACK, after, self.page)
            if not page:
                return
            yield page
            after = page[-1]


def first_run(doc: dict[str, Any]) -> dict[str, Any]:
    """The record of a broadcast's first run, from its summary (before its first retry)."""
    return {
        "run": 1,
        "started_at": doc.get("started_at"),
        "completed_at": doc.get("completed_at"),
        "status": doc.get("status"),
        "recipients": doc.get("total_users"),
        "sent": int(doc.get("sent_count") or 0),
        "failed": int(doc.get("failed_count") or 0),
        "errors": dict(doc.get("error_breakdown") or {}),
    }


def closing_fields(doc: dict[str, Any], summary: Summary) -> dict[str, Any]:
    """The fields that close the run being summarised in ``runs``: its own counts (the
    summary's, less those of the broadcast before it). Nothing for a broadcast never
    retried."""
    runs = doc.get("runs") or []
    if not runs or runs[-1].get("completed_at") is not None:
        return {}
    index, run = len(runs) - 1, runs[-1]
    before: dict[str, int] = run.get("errors_before") or {}
    errors = {k: n - before.get(k, 0) for k, n in summary.errors.items() if n > before.get(k, 0)}
    prefix = f"runs.{index}."
    return {
        prefix + "started_at": doc.get("started_at"),
        prefix + "completed_at": summary.completed_at,
        prefix + "status": summary.status,
        prefix + "sent": summary.sent - int(run.get("sent_before") or 0),
        prefix + "failed": summary.failed - int(run.get("failed_before") or 0),
        prefix + "unknown": summary.unknown,
        prefix + "errors": errors,
    }


def runs_text(doc: dict[str, Any], when: Any) -> list[str]:
    """One line per run of a retried broadcast; ``when`` formats a stored time."""
    lines = []
    for run in doc.get("runs") or []:
        at = run.get("started_at") or run.get("requested_at")
        head = f"• Run {run.get('run')} ({when(at)}): "
        if run.get("completed_at") is None and run.get("run", 1) > 1:
            lines.append(head + f"{run.get('recipients', 0):,} to send, {doc['status']}")
            continue
        errors = ", ".join(f"{k} {n}" for k, n in sorted((run.get("errors") or {}).items()))
        lines.append(
            head + f"{run.get('recipients') or 0:,} recipient(s), {run.get('sent', 0):,} sent, "
            f"{run.get('failed', 0):,} failed" + (f" ({errors})" if errors else "")
        )
    return lines
