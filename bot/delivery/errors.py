"""Our error types: one root, categories for failed deliveries, and the pure classifier.

The Telegram adapter maps hydrogram's exceptions to these; nothing outside it
sees a hydrogram exception.
"""

from __future__ import annotations

from enum import StrEnum


def quote(value: str, limit: int = 60) -> str:
    """``value`` in quotes for a message, on one line, shortened to ``limit`` characters."""
    value = "↵".join(value.splitlines())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return f"“{value}”" if '"' in value else f'"{value}"'


class BroadcastError(Exception):
    """Root of every error this package raises on purpose."""


class BroadcastExistsError(BroadcastError, ValueError):
    """A broadcast with this id is already stored."""

    def __init__(self, broadcast_id: str) -> None:
        super().__init__(f"a broadcast with id {broadcast_id!r} already exists")
        self.broadcast_id = broadcast_id


class ContentError(BroadcastError, ValueError):
    """The content cannot be sent as it is (too long, empty, bad album...)."""


class BroadcastNotFoundError(BroadcastError, LookupError):
    """No broadcast with this id exists."""

    def __init__(self, broadcast_id: str) -> None:
        super().__init__(f"no broadcast with id {broadcast_id!r}")
        self.broadcast_id = broadcast_id


class ErrorCategory(StrEnum):
    """Why one recipient did not get the message."""

    BLOCKED = "blocked"
    DEACTIVATED = "deactivated"
    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    CONTENT = "content"
    TRANSIENT = "transient"
    UNKNOWN = "unknown"


class SendError(BroadcastError):
    """Sending to one recipient failed; ``category`` says why, ``code`` is Telegram's text."""

    def __init__(self, category: ErrorCategory, code: str) -> None:
        super().__init__(f"{category.value}: {code}")
        self.category = category
        self.code = code


class FloodWaitError(BroadcastError):
    """Telegram asked the bot to wait ``seconds`` before sending anything more."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood wait of {seconds} s")
        self.seconds = seconds


class StorageUnavailableError(BroadcastError):
    """The database cannot be reached now (a failover, a reset connection, a killed cursor).

    The storage adapters raise it for the driver's transient errors; the run waits
    them out and goes on where it stood.
    """


_BLOCKED = frozenset({"USER_IS_BLOCKED", "BOT_BLOCKED"})
_DEACTIVATED = frozenset({"INPUT_USER_DEACTIVATED", "USER_DEACTIVATED", "USER_DEACTIVATED_BAN"})
_INVALID = frozenset(
    {"PEER_ID_INVALID", "USER_ID_INVALID", "CHAT_ID_INVALID", "INPUT_USER_INVALID", "USER_INVALID"}
)
_FORBIDDEN = frozenset(
    {
        "CHAT_WRITE_FORBIDDEN",
        "USER_IS_BOT",
        "CHAT_RESTRICTED",
        "CHAT_SEND_MEDIA_FORBIDDEN",
        "CHAT_SEND_PHOTOS_FORBIDDEN",
        "CHAT_SEND_VIDEOS_FORBIDDEN",
        "CHAT_SEND_DOCS_FORBIDDEN",
        "CHAT_SEND_AUDIOS_FORBIDDEN",
        "CHAT_SEND_VOICES_FORBIDDEN",
        "CHAT_SEND_STICKERS_FORBIDDEN",
        "CHAT_SEND_GIFS_FORBIDDEN",
        "CHAT_SEND_PLAIN_FORBIDDEN",
        "CHAT_ADMIN_REQUIRED",
        "CHANNEL_PRIVATE",
        "USER_RESTRICTED",
        "PRIVACY_PREMIUM_REQUIRED",
        "CHAT_GUEST_SEND_FORBIDDEN",
        "VOICE_MESSAGES_FORBIDDEN",
    }
)
_CONTENT = frozenset(
    {
        "MESSAGE_TOO_LONG",
        "MESSAGE_EMPTY",
        "ENTITIES_TOO_LONG",
        "ENTITY_BOUNDS_INVALID",
        "ENTITY_MENTION_USER_INVALID",
        "MEDIA_CAPTION_TOO_LONG",
        "MEDIA_EMPTY",
        "MEDIA_INVALID",
        "MEDIA_GROUPED_INVALID",
        "BUTTON_URL_INVALID",
        "BUTTON_DATA_INVALID",
        "BUTTON_TYPE_INVALID",
        "REPLY_MARKUP_INVALID",
        "REPLY_MARKUP_TOO_LONG",
        "FILE_REFERENCE_EXPIRED",
        "MESSAGE_ID_INVALID",
        "MSG_ID_INVALID",
        "WEBPAGE_CURL_FAILED",
        "PHOTO_INVALID_DIMENSIONS",
    }
)
_TRANSIENT = frozenset(
    {
        "TIMEOUT",
        "RPC_CALL_FAIL",
        "RPC_MCGET_FAIL",
        "INTERNAL_SERVER_ERROR",
        "WORKER_BUSY_TOO_LONG_RETRY",
    }
)
_BY_NAME: dict[str, ErrorCategory] = {
    **dict.fromkeys(_BLOCKED, ErrorCategory.BLOCKED),
    **dict.fromkeys(_DEACTIVATED, ErrorCategory.DEACTIVATED),
    **dict.fromkeys(_INVALID, ErrorCategory.INVALID),
    **dict.fromkeys(_FORBIDDEN, ErrorCategory.FORBIDDEN),
    **dict.fromkeys(_CONTENT, ErrorCategory.CONTENT),
    **dict.fromkeys(_TRANSIENT, ErrorCategory.TRANSIENT),
}


def classify_rpc_error(error_id: str, code: int) -> ErrorCategory:
    """Map a Telegram error (``USER_IS_BLOCKED``, 403) to the category of the failure.

    Server-side errors (5xx, and Telegram's -503 timeout) are transient whatever
    their text; an unknown 4xx is ``unknown``, never retried.
    """
    category = _BY_NAME.get(error_id.upper())
    if category is not None:
        return category
    if code >= 500 or code == -503:
        return ErrorCategory.TRANSIENT
    if error_id.upper().startswith("CHAT_SEND_") and error_id.upper().endswith("_FORBIDDEN"):
        return ErrorCategory.FORBIDDEN
    return ErrorCategory.UNKNOWN


def classify_exception(error: BaseException) -> ErrorCategory:
    """Categorise a non-Telegram exception raised while sending.

    Connection problems and timeouts are transient. Anything else (hydrogram
    0.2.0 raises ``AttributeError`` for some error codes it cannot map) is
    ``unknown``: recorded, never allowed to stop the broadcast.
    """
    if isinstance(error, TimeoutError | ConnectionError | OSError):
        return ErrorCategory.TRANSIENT
    return ErrorCategory.UNKNOWN


def failure_kind(error: BaseException) -> str:
    """A short category of an unexpected failure, for an admin: never the exception's text.

    The text may hold a server's address, a query or a driver's internals; it belongs
    in the log, next to the traceback.
    """
    if isinstance(error, StorageUnavailableError):
        return "the database was unreachable"
    if isinstance(error, FloodWaitError):
        return "Telegram asked to wait"
    if isinstance(error, SendError):
        return SEND_FAILURES[error.category]
    return "an unexpected error"


#: What a category of send failure means, in an admin's words.
SEND_FAILURES = {
    ErrorCategory.BLOCKED: "the chat blocked the bot",
    ErrorCategory.DEACTIVATED: "the account is deleted",
    ErrorCategory.INVALID: "Telegram does not know the chat or message",
    ErrorCategory.FORBIDDEN: "Telegram does not allow it",
    ErrorCategory.CONTENT: "Telegram rejected the content",
    ErrorCategory.TRANSIENT: "Telegram kept failing (network or server trouble)",
    ErrorCategory.UNKNOWN: "Telegram answered an error the bot does not know",
}
