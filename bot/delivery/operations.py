"""Operations on a broadcast already sent: delete or edit its copies, what they need and say.

A delete or an edit is a document of its own in ``broadcasts`` (``kind`` and ``of``: the
broadcast it acts on) and is run by the same pipeline as a broadcast: its audience is
the original's ledger rows that were sent (target ``{"ledger_of": id}``, read by
:class:`bot.delivery.feed.AudienceFeed`), its content a :data:`Operation`, which the
Telegram adapter turns into requests (:mod:`bot.telegram.operations`) given the
message ids the original's ledger recorded (a :data:`SentLookup`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.delivery.content import (
    Content,
    TextContent,
    content_from_document,
    content_to_document,
)
from bot.delivery.errors import ContentError

DELETE, EDIT = "delete", "edit"
KINDS = (DELETE, EDIT)
#: Bot API ``deleteMessage``: "a message can only be deleted if it was sent less than 48
#: hours ago" (MTProto answers MESSAGE_DELETE_FORBIDDEN past it, in a bot session).
DELETE_WINDOW = timedelta(hours=48)
#: Recorded for a copy past :data:`DELETE_WINDOW` (never asked of Telegram).
TOO_OLD = "TOO_OLD (sent more than 48 h ago: Telegram lets a bot delete only younger messages)"
#: Recorded for a copy Telegram would not edit any more (``MESSAGE_EDIT_TIME_EXPIRED``).
EDIT_TOO_OLD = "TOO_OLD_TO_EDIT (Telegram answered that too much time has passed since it was sent)"
#: Recorded for a copy whose ids the ledger does not know (Telegram refused a repeat send
#: as a duplicate, so the ids of the copy it had delivered were never learnt).
IDS_UNKNOWN = "MESSAGE_IDS_UNKNOWN (the ids of this copy were never learnt)"
#: Recorded for a copy no longer in the recipient's chat.
GONE = "MESSAGE_ID_INVALID (the copy is no longer in the chat)"
#: Why a copy without recorded ids cannot be deleted or edited (the admin's words).
IDLESS_WHY = (
    "the ledger holds no message id for them (Telegram's answer carried none, e.g. a repeat "
    "it refused as a duplicate, or they were sent before ids were recorded)"
)


@dataclass(frozen=True, slots=True)
class DeleteContent:
    """Delete every copy the broadcast ``of`` sent (every item of an album)."""

    of: str


@dataclass(frozen=True, slots=True)
class EditContent:
    """Edit the text or caption (and buttons) of every copy the broadcast ``of`` sent.

    ``original`` is what ``of`` sent (whether a copy is a text, a caption, which item
    of an album carries the caption); ``text`` the new text or caption, formatted, with
    the URL buttons given for the copies. Without any, the copies keep the keyboard the
    original send built (its URL buttons or the copied message's own); the reaction row
    of a ``--react`` broadcast stays either way.
    """

    of: str
    original: Content
    text: TextContent


Operation = DeleteContent | EditContent


def operation_to_document(operation: Operation) -> dict[str, Any]:
    """The MongoDB form of ``operation`` (a broadcast document's ``content``)."""
    if isinstance(operation, DeleteContent):
        return {"type": DELETE, "of": operation.of}
    return {
        "type": EDIT,
        "of": operation.of,
        "original": content_to_document(operation.original),
        "text": content_to_document(operation.text),
    }


def stored_from_document(doc: dict[str, Any]) -> Content | Operation:
    """Rebuild what a broadcast document's ``content`` holds: a message or an operation."""
    if doc.get("type") == DELETE:
        return DeleteContent(str(doc["of"]))
    if doc.get("type") == EDIT:
        text = content_from_document(doc["text"])
        if not isinstance(text, TextContent):
            raise ContentError("an edit's new text must be a text")
        return EditContent(str(doc["of"]), content_from_document(doc["original"]), text)
    return content_from_document(doc)


@dataclass(frozen=True, slots=True)
class SentCopy:
    """What the original's ledger row holds of the copy one recipient got.

    ``message_ids``: every message of the copy (an album has several), empty when
    unknown (``duplicate``: Telegram refused a repeat, the first send's ids were lost);
    ``settled_at``: when the send was answered, which the 48-hour rule counts from.
    """

    message_ids: tuple[int, ...]
    settled_at: datetime | None
    duplicate: bool = False

    def too_old_to_delete(self, now: datetime) -> bool:
        """Whether Telegram would refuse to delete it now (unknown age: not refused here)."""
        return self.settled_at is not None and now - self.settled_at >= DELETE_WINDOW


@dataclass(frozen=True, slots=True)
class CopyCounts:
    """The copies of a broadcast still in its recipients' chats, as its ledger knows them.

    ``reachable``: those with message ids (a delete or an edit can ask for them);
    ``young``: of those, the ones sent at or after a given time (Telegram's 48 hours to
    delete); ``idless``: those whose ids were never recorded (:data:`IDLESS_WHY`),
    which no delete or edit can reach.
    """

    reachable: int
    young: int
    idless: int

    @property
    def left(self) -> int:
        """Every copy left, reachable or not."""
        return self.reachable + self.idless


#: ``(broadcast id, user ids) -> {user id: copy}`` of those rows that were sent.
SentLookup = Callable[[str, Sequence[int]], Awaitable[dict[int, SentCopy]]]


@dataclass(frozen=True, slots=True)
class Wording:
    """How progress and summaries name what a run does."""

    noun: str = "BROADCAST"
    done: str = "Successfully Sent"
    doing: str = "Sent"
    #: Error categories relabelled for this kind of run.
    labels: tuple[tuple[str, str], ...] = ()


BROADCAST_WORDING = Wording()
#: What a delete's or an edit's summary calls its ``unknown`` failures: mostly the
#: copies without recorded ids (:data:`IDS_UNKNOWN`), which no request can reach.
UNREACHABLE_LABEL = "No message id recorded, so not reachable (or other errors)"
WORDINGS = {
    DELETE: Wording(
        "DELETE",
        "Deleted",
        "Deleted",
        (
            ("forbidden", "Too old to delete (48 h)"),
            ("invalid", "Not in the chat"),
            ("unknown", UNREACHABLE_LABEL),
        ),
    ),
    EDIT: Wording(
        "EDIT",
        "Edited",
        "Edited",
        (
            ("forbidden", "Too old to edit (Telegram refused)"),
            ("invalid", "Not in the chat"),
            ("unknown", UNREACHABLE_LABEL),
        ),
    ),
}


def wording_of(doc: dict[str, Any]) -> Wording:
    """The wording of a broadcast document: a broadcast's, or its operation kind's."""
    return WORDINGS.get(str(doc.get("kind") or ""), BROADCAST_WORDING)


def new_operation(
    operation: Operation,
    original: dict[str, Any],
    *,
    broadcast_id: str,
    admin_id: int,
    admin_name: str | None,
    now: datetime,
    words: str,
    count: int,
) -> dict[str, Any]:
    """The document of a delete or an edit of ``original`` (status draft), not yet inserted.

    Its audience is the original's sent rows (``ledger_of``); ``count`` (the copies
    left, for its description) and ``words`` (how lists name it) are the admin's view.
    """
    kind = DELETE if isinstance(operation, DeleteContent) else EDIT
    of = str(original["_id"])
    target = {"ledger_of": of, "description": f"the {count:,} chat(s) {of} reached"}
    return {
        "broadcast_id": broadcast_id,
        "kind": kind,
        "of": of,
        "admin_id": admin_id,
        "admin_username": admin_name,
        "content": operation_to_document(operation),
        "message_type": kind,
        "target": target,
        "requested_target": target,
        "test_mode": bool(original.get("test_mode")),
        "status": "draft",
        "created_at": now,
        "sent_count": 0,
        "failed_count": 0,
        "error_breakdown": {},
        "message_text": words,
        "progress_message": None,
        "audit": [{"action": "created", "by": admin_id, "at": now}],
    }
