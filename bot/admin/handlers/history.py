"""``/broadcast_history`` and ``/broadcast_cancel``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from hydrogram.types import Message

from bot.admin.commands import CancelRequest, HistoryRequest
from bot.admin.handlers import controls
from bot.admin.handlers.context import BotContext
from bot.admin.handlers.reactions import reaction_lines
from bot.admin.handlers.schedule import admin_zone
from bot.admin.status import cancel_question
from bot.delivery.errors import BroadcastNotFoundError
from bot.delivery.model import ACTIVE, BroadcastStatus, as_utc
from bot.delivery.report import ERROR_LABELS, duration_text, percent, person
from bot.delivery.reruns import runs_text

FILTER_SHOWN = 300
FIRST_WORDS = 60
UTC_ZONE = ZoneInfo("UTC")
STATUS_ICONS = {
    "draft": "📝",
    "queued": "🕒",
    "scheduled": "📅",
    "running": "🚀",
    "paused": "⏸",
    "completed": "✅",
    "cancelled": "🛑",
    "failed": "⚠️",
    "missed": "⌛",
}


async def on_history(ctx: BotContext, message: Message, request: HistoryRequest) -> None:
    """The last N broadcasts, or one in full."""
    chat_id = message.chat.id
    zone = await admin_zone(ctx, message.from_user.id)
    if request.broadcast_id is None:
        paused = await ctx.core.store.with_status([BroadcastStatus.PAUSED])
        recent = await ctx.core.store.recent(request.limit, drafts=False)
        held = {doc["_id"] for doc in paused}  # paused ones first: they hold nothing, but wait
        docs = paused + [doc for doc in recent if doc["_id"] not in held]
        reacted = [str(d["_id"]) for d in docs if (d.get("content") or {}).get("reactions")]
        counts = await ctx.core.reactions.counts_for(reacted)
        text = history_text(docs, zone, counts) if docs else "No broadcasts yet."
    else:
        try:
            doc = await ctx.core.store.get(request.broadcast_id)
        except BroadcastNotFoundError:
            text = f"No broadcast {request.broadcast_id}."
        else:
            counts = await ctx.core.reactions.counts_for([request.broadcast_id])
            text = record_text(doc, zone, counts.get(request.broadcast_id, {}))
            text += await related_text(ctx, doc, zone)
    await ctx.say_long(chat_id, text, reply_to=message.id)


async def on_cancel(ctx: BotContext, message: Message, request: CancelRequest) -> None:
    """Cancel a queued or scheduled broadcast; ask first for one that is sending (or
    paused) and for a repeating schedule."""
    bid, chat_id = request.broadcast_id, message.chat.id
    before = await ctx.named_broadcast(message, bid)
    if before is None:
        return
    question = cancel_question_text(before)
    if question is None:
        text = await controls.cancel_now(ctx, before, message.from_user.id)
        await ctx.say(chat_id, text, reply_to=message.id)
        return
    asked = await ctx.say(chat_id, question, markup=cancel_question(bid), reply_to=message.id)
    where = {"chat_id": asked.chat.id, "message_id": asked.id}
    await ctx.core.store.update(bid, {"cancel_question": where})


def cancel_question_text(doc: dict[str, Any]) -> str | None:
    """ "Cancel it?" with what cancelling would stop; None when nothing is under way."""
    bid = doc["broadcast_id"]
    if doc["status"] in ACTIVE:
        sent, total = int(doc.get("sent_count") or 0), doc.get("total_users")
        of = f" of {total:,}" if isinstance(total, int) and doc.get("snapshot_complete") else ""
        state = "is sending" if doc["status"] == BroadcastStatus.RUNNING else "is paused"
        return f"🛑 Cancel it? {bid} {state}: {sent:,}{of} sent; the rest would not be sent."
    if controls.repeats(doc):
        runs = int((doc.get("schedule") or {}).get("runs") or 0)
        return f"🛑 Cancel it? {bid} repeats ({runs} run(s) so far); no run would follow."
    return None


def history_text(
    docs: list[dict[str, Any]],
    zone: ZoneInfo = UTC_ZONE,
    reactions: Mapping[str, Mapping[str, int]] | None = None,
) -> str:
    """One block per broadcast: id, status, when, who, target, sent/total, success rate,
    first words, and the reactions (by broadcast id) of those with a reaction row."""
    blocks = [f"📜 Last {len(docs)} broadcast(s) (drafts never confirmed are not listed)"]
    for doc in docs:
        sent, total = int(doc.get("sent_count") or 0), doc.get("total_users")
        rate = doc.get("success_rate")
        figures = f"{sent:,}/{total:,}" if isinstance(total, int) else f"{sent:,}/?"
        if isinstance(rate, int | float):
            figures += f" ({rate * 100:.1f}%)"
        when = _when(doc.get("created_at"), zone)
        counted = reaction_lines(doc, (reactions or {}).get(str(doc["broadcast_id"]), {}))
        blocks.append(
            f"{STATUS_ICONS.get(doc['status'], '•')} {doc['broadcast_id']} · {doc['status']}\n"
            f"   {when} · by {_who(doc)} · {_target(doc)} · {figures}\n"
            f"   💬 {first_words(doc)}" + "".join(f"\n   {line}" for line in counted)
        )
    return "\n\n".join(blocks)


def record_text(
    doc: dict[str, Any], zone: ZoneInfo = UTC_ZONE, reactions: Mapping[str, int] | None = None
) -> str:
    """Everything stored about one broadcast, error breakdown, reactions and audit trail
    included."""
    content = doc.get("content") or {}
    total = doc.get("total_users")
    sent, failed = int(doc.get("sent_count") or 0), int(doc.get("failed_count") or 0)
    lines = [
        f"{STATUS_ICONS.get(doc['status'], '•')} {doc['broadcast_id']} · {doc['status']}",
        f"📝 Type: {content.get('type', '?')}" + (" (forward)" if content.get("forward") else ""),
    ]
    if doc.get("message_text"):
        lines.append(f"💬 {doc['message_text']}")
    lines += [
        f"👤 Created by {_who(doc)} at {_when(doc.get('created_at'), zone)}",
        f"🎯 Target: {_target(doc)}" + (" (test mode)" if doc.get("test_mode") else ""),
        *(["🧪 A test, to the testers only"] if doc.get("test") else []),
        *_how_targeted(doc, zone),
        *_schedule_lines(doc, zone),
    ]
    for label, key in (("Started", "started_at"), ("Finished", "completed_at")):
        if doc.get(key):
            lines.append(f"🕐 {label}: {_when(doc[key], zone)}")
    if isinstance(total, int):
        lines += [
            f"👥 Total: {total:,}",
            f"✅ Sent: {sent:,} ({percent(sent, total)})",
            f"❌ Failed: {failed:,} ({percent(failed, total)})",
        ]
    if doc.get("duration_seconds") is not None:
        lines.append(f"⏱️ Duration: {duration_text(float(doc['duration_seconds']))}")
    lines += reaction_lines(doc, reactions or {})
    if doc.get("stop_reason"):
        lines.append(f"⚠️ Stopped: {doc['stop_reason']}")
    errors: dict[str, int] = doc.get("error_breakdown") or {}
    if errors:
        lines += ["", "📉 Error breakdown:"]
        for category, count in sorted(errors.items(), key=lambda kv: -kv[1]):
            lines.append(f"• {ERROR_LABELS.get(category, category)}: {count:,}")
    audit = doc.get("audit") or []
    if audit:
        lines += ["", "🧾 Audit:"]
        lines += [
            f"• {_when(e.get('at'), zone)} {e.get('action')} by {e.get('by') or 'the bot'}"
            for e in audit
        ]
    return "\n".join(lines)


def first_words(doc: dict[str, Any]) -> str:
    """The start of a broadcast's text, or what it copies (``photo: caption``)."""
    words = str(doc.get("message_text") or f"({doc.get('message_type') or 'message'})")
    words = " ".join(words.split())  # one line
    return words if len(words) <= FIRST_WORDS else words[: FIRST_WORDS - 1] + "…"


def _how_targeted(doc: dict[str, Any], zone: ZoneInfo) -> list[str]:
    """The filter the segments compiled to when sending started, shortened."""
    target = doc.get("target") or {}
    compiled = target.get("compiled")
    if not isinstance(compiled, str):
        return []
    shown = compiled if len(compiled) <= FILTER_SHOWN else compiled[: FILTER_SHOWN - 1] + "…"
    return [f"🔎 Filter at {_when(target.get('compiled_at'), zone)}: {shown}"]


def _schedule_lines(doc: dict[str, Any], zone: ZoneInfo) -> list[str]:
    lines = []
    if doc.get("schedule_id"):
        lines.append(f"🔁 Run of {doc['schedule_id']} due {_when(doc.get('occurrence_at'), zone)}")
    schedule = doc.get("schedule")
    if isinstance(schedule, dict):
        typed = schedule.get("text") or "?"
        lines.append(f"🗓 Scheduled with {typed} ({schedule.get('timezone')})")
        if doc.get("scheduled_for") and doc["status"] == "scheduled":
            lines.append(f"⏰ Next: {_when(doc['scheduled_for'], zone)}")
    return lines


def _when(value: Any, zone: ZoneInfo) -> str:
    moment = as_utc(value)
    return "?" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"


def _who(doc: dict[str, Any]) -> str:
    return person(doc.get("admin_username"), doc.get("admin_id"))


def _target(doc: dict[str, Any]) -> str:
    target = doc.get("requested_target") or doc.get("target") or {}
    return str(target.get("description", "?"))


async def related_text(ctx: BotContext, doc: dict[str, Any], zone: ZoneInfo) -> str:
    """What else the history of one broadcast holds: the operation it is, its runs (a
    retried broadcast), and the deletes and edits of its copies."""
    lines = []
    if doc.get("kind"):
        lines.append(f"↩️ A {doc['kind']} of {doc.get('of')}")
    if len(doc.get("runs") or []) > 1:
        lines += ["", "🔁 Runs:", *runs_text(doc, lambda at: _when(at, zone))]
    shown = []
    for entry in doc.get("operations") or []:
        try:
            op = await ctx.core.store.get(str(entry["id"]))
        except BroadcastNotFoundError:
            continue
        if op["status"] != "draft" and not op.get("discarded"):
            shown.append(operation_line(op, zone))
    if shown:
        lines += ["", "🧰 Deletes and edits:", *shown]
    return "".join(f"\n{line}" for line in lines)


def operation_line(op: dict[str, Any], zone: ZoneInfo) -> str:
    """``🗑 bc_… delete · completed 2026-12-01 10:00 UTC: 5 deleted, 1 failed (…)``."""
    kind = str(op.get("kind"))
    done = {"delete": "deleted", "edit": "edited"}.get(kind, "done")
    sent, failed = int(op.get("sent_count") or 0), int(op.get("failed_count") or 0)
    when = _when(op.get("completed_at") or op.get("confirmed_at"), zone)
    errors = op.get("error_breakdown") or {}
    why = ", ".join(f"{OPERATION_LABELS.get(k, k)} {n}" for k, n in sorted(errors.items()))
    icon = {"delete": "🗑", "edit": "✏️"}.get(kind, "•")
    line = f"{icon} {op['broadcast_id']} {kind} · {op['status']} {when}: {sent:,} {done}"
    return line + (f", {failed:,} failed ({why})" if failed else "")


OPERATION_LABELS = {"forbidden": "too old", "invalid": "not in the chat", "unknown": "other"}
