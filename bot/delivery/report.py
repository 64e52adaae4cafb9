"""The final summary of a broadcast run, and how it and progress read to a person."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.delivery.operations import BROADCAST_WORDING, Wording
from bot.delivery.policy import ProgressSnapshot

ERROR_LABELS = {
    "blocked": "User blocked the bot",
    "deactivated": "Account deleted",
    "invalid": "Invalid user ID",
    "forbidden": "Not allowed to write",
    "content": "Content rejected",
    "transient": "Network / server errors",
    "unknown": "Other errors",
}


@dataclass(frozen=True, slots=True)
class Summary:
    """What happened, stored on the broadcast document when a run ends."""

    broadcast_id: str
    status: str
    total: int
    sent: int
    failed: int
    unknown: int
    not_sent: int
    errors: dict[str, int]
    flood_waits: int
    started_at: datetime | None
    completed_at: datetime
    duration_s: float
    stop_reason: str | None = None
    #: Audience entries that are not Telegram user ids, by reason (never sent to).
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    #: Seconds spent waiting out FloodWaits (not part of ``duration_s``).
    flood_wait_s: float = 0.0

    @property
    def success_rate(self) -> float:
        """Sent as a fraction of the total (1.0 for an empty audience)."""
        return self.sent / self.total if self.total else 1.0

    def to_document(self) -> dict[str, Any]:
        """The fields written to the broadcast document (design document 7.3)."""
        return {
            "total_users": self.total,
            "sent_count": self.sent,
            "failed_count": self.failed,
            "unknown_count": self.unknown,
            "not_sent_count": self.not_sent,
            "error_breakdown": dict(self.errors),
            "flood_waits": self.flood_waits,
            "completed_at": self.completed_at,
            "duration_seconds": round(self.duration_s, 3),
            "active_seconds": round(self.duration_s, 3),
            "flood_wait_seconds": round(self.flood_wait_s, 3),
            "success_rate": round(self.success_rate, 4),
            "stop_reason": self.stop_reason,
            "skipped_count": self.skipped,
        }

    def as_json(self) -> dict[str, Any]:
        """A JSON-friendly dict (datetimes as ISO text)."""
        data = asdict(self)
        for key in ("started_at", "completed_at"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        return data


def person(name: str | None, user_id: object) -> str:
    """How a summary or a list names someone: ``boss (1000001)``, ``Admin (1000001)``
    when the name is not known."""
    return f"{name or 'Admin'} ({user_id})"


def duration_text(seconds: float) -> str:
    """``1h 2m``, ``3m 20s`` or ``12s``."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def percent(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole``, one decimal where it matters."""
    if not whole:
        return "0%"
    value = 100 * part / whole
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def progress_bar(done: int, total: int, width: int = 20) -> str:
    """``▓▓▓▓░░░░`` filled in proportion."""
    filled = min(width, round(width * done / total)) if total else width
    return "▓" * filled + "░" * (width - filled)


def progress_text(snap: ProgressSnapshot, wording: Wording = BROADCAST_WORDING) -> str:
    """The live progress message (design document 7.1), with the broadcast's id.

    Percentages are measured against the audience counted when sending started (or,
    once written, the snapshot's); until a total is known none is shown. Elapsed
    time and the rate leave out pauses and FloodWaits.
    """
    eta = duration_text(snap.eta_s) if snap.eta_s is not None else "estimating..."
    lines = [
        f"📢 {wording.noun} " + ("PAUSED" if snap.paused else "IN PROGRESS"),
        f"🆔 {snap.broadcast_id}",
        "",
        *_share_lines(snap, wording.doing),
        f"🚀 Rate: {snap.rate:.1f} msg/s",
        f"⏱️ Elapsed: {duration_text(snap.elapsed_s)}",
        f"⏳ Remaining: {eta}",
    ]
    if snap.flood_wait_s > 0:
        lines.append(f"⏸ Telegram asked to wait {snap.flood_wait_s:.0f} s; sending resumes then")
    if snap.flood_waited_s >= 1:
        lines.append(f"⌛ Waited for Telegram: {duration_text(snap.flood_waited_s)} in all")
    if snap.db_down_since is not None:
        since = f"{snap.db_down_since.astimezone(UTC_ZONE):%H:%M:%S} UTC"
        lines.append(f"⚠️ Database unreachable since {since}: sending waits for it")
    return "\n".join(lines)


def _share_lines(snap: ProgressSnapshot, doing: str = "Sent") -> list[str]:
    if not snap.total_known:
        return [
            f"👥 Total Users: {snap.total:,}+ (counting)",
            f"✅ {doing}: {snap.sent:,}",
            f"❌ Failed: {snap.failed:,}",
            *([f"❔ Unknown (interrupted): {snap.unknown:,}"] if snap.unknown else []),
        ]
    return [
        f"{progress_bar(snap.done, snap.total)} {percent(snap.done, snap.total)}",
        f"👥 Total Users: {snap.total:,}",
        f"✅ {doing}: {snap.sent:,} ({percent(snap.sent, snap.total)})",
        f"❌ Failed: {snap.failed:,} ({percent(snap.failed, snap.total)})",
        *([f"❔ Unknown (interrupted): {snap.unknown:,}"] if snap.unknown else []),
    ]


UTC_ZONE = ZoneInfo("UTC")
#: The label of the summary's end time, by how the run ended.
ENDED = {"completed": "Completed", "cancelled": "Cancelled", "failed": "Stopped"}


def summary_text(
    summary: Summary,
    by: str | None = None,
    zone: ZoneInfo = UTC_ZONE,
    wording: Wording = BROADCAST_WORDING,
    note: str | None = None,
) -> str:
    """The final summary (design document 7.3) with the error breakdown; times in ``zone``;
    ``note`` a line after the counts (a retry's own run)."""
    noun = wording.noun
    title = {
        "completed": f"✅ {noun} COMPLETED",
        "cancelled": f"🛑 {noun} CANCELLED",
        "failed": f"⚠️ {noun} STOPPED",
    }.get(summary.status, f"{noun} {summary.status.upper()}")
    labels = ERROR_LABELS | dict(wording.labels)
    lines = [
        title,
        "",
        "📊 Final Statistics:",
        f"👥 Total Users: {summary.total:,}",
        f"✅ {wording.done}: {summary.sent:,} ({percent(summary.sent, summary.total)})",
        f"❌ Failed: {summary.failed:,} ({percent(summary.failed, summary.total)})",
    ]
    if summary.unknown:
        lines.append(f"❔ Unknown (interrupted by a crash): {summary.unknown:,}")
    if summary.not_sent:
        lines.append(f"⏸ Not sent: {summary.not_sent:,}")
    if summary.skipped:
        reasons = "; ".join(f"{why}: {n:,}" for why, n in summary.skipped_reasons.items())
        lines.append(f"⏭ Skipped, not user ids: {summary.skipped:,} ({reasons})")
    if summary.stop_reason:
        lines.append(f"⚠️ Stopped: {summary.stop_reason}")
    if note:
        lines.append(note)
    if summary.errors:
        lines += ["", "📉 Error Breakdown:"]
        for category, count in sorted(summary.errors.items(), key=lambda kv: -kv[1]):
            label = labels.get(category, category)
            lines.append(f"• {label}: {count:,} ({percent(count, summary.failed)})")
    ended = ENDED.get(summary.status, "Ended")
    lines += [
        "",
        f"⏱️ Total Time: {duration_text(summary.duration_s)}",
        f"📅 {ended}: {summary.completed_at.astimezone(zone):%Y-%m-%d %H:%M:%S} {zone.key}",
    ]
    if by:
        lines.append(f"👤 By: {by}")
    return "\n".join(lines)
