"""One log line per event, greppable by broadcast id, with secrets masked.

A line is ``<UTC time> <LEVEL> <logger>``, then the record's fields as ``key=value``
(``broadcast`` and ``event`` first, the rest in the order given), then ``msg="..."``
and, with an exception, ``traceback="..."``::

    2026-12-07T10:15:00.042Z INFO bot.delivery.run broadcast=bc_20261207_101500_ab12
    event=run.started resumed=true total=3000 msg="bc_20261207_101500_ab12: run started"

(one line). Fields come from the standard library's ``extra``, named by
:func:`bot.delivery.events.event`::

    log.info("%s: run started", bid, extra=event("run.started", bid, total=n))

so the code that logs needs nothing of this package (the message names the
broadcast too, for a host bot's own format). A value with a space, a quote,
an ``=`` or a control character is quoted, with ``\\n``, ``\\"`` and the like escaped:
a traceback stays on its line. Known secrets (the bot token, the API hash, the
session string, the MongoDB password) are masked wherever they appear, also inside
exception texts and tracebacks, and so are the user info of any ``mongodb://`` URI
and anything shaped like a bot token.

The standard library was kept over structlog: hydrogram, PyMongo and APScheduler log
through it, and one formatter on the root handler masks and shapes their lines and
ours alike, with no second pipeline to bridge and no new dependency.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, Final, TextIO
from urllib.parse import unquote

from config.settings import Settings

MASK: Final = "***"
#: Shorter secrets are masked inside URIs and token shapes only: masking a 3-letter
#: password everywhere would garble every line that happens to contain it.
MIN_SECRET_LENGTH: Final = 4
FIRST_FIELDS: Final = ("broadcast", "event")
#: Libraries whose DEBUG chatter would drown our own at LOG_LEVEL=DEBUG.
CHATTY_LIBRARIES: Final = ("hydrogram", "pymongo", "motor", "apscheduler", "asyncio")

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
_URI_USERINFO = re.compile(r"(mongodb(?:\+srv)?://)[^@/\s\"']+@")
_BOT_TOKEN = re.compile(r"\b\d{4,}:[A-Za-z0-9_-]{30,}")
_NEEDS_QUOTES = re.compile(r"[\s\"=\\]|[^\x21-\x7e\u00a0-\u2027\u202a-\uffff]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPED = re.compile(r"[\"\\\x00-\x1f\x7f\x85\u2028\u2029]")
_NOT_KEY = re.compile(r"[^A-Za-z0-9_.-]")


class Redactor:
    """Masks secrets in text: the literals given, URI credentials and token shapes.

    Args:
        secrets: Values never to show; None and empty ones are ignored.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        known = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        self.literals = sorted(known, key=len, reverse=True)  # a longer one may hold a shorter

    def __call__(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        for secret in self.literals:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _URI_USERINFO.sub(rf"\g<1>{MASK}@", text)
        return _BOT_TOKEN.sub(MASK, text)


def secrets_of(settings: Settings) -> list[str]:
    """The configured values a log must never show.

    The MongoDB password is taken as written in ``MONGO_URI`` and percent-decoded
    (a driver's error may quote either); the user name is not secret on its own.
    """
    found = [settings.bot_token, settings.api_hash, settings.session_string]
    if settings.bot_token and ":" in settings.bot_token:
        found.append(settings.bot_token.partition(":")[2])  # the secret half, alone
    password = _mongo_password(settings.mongo_uri)
    if password:
        found += [password, unquote(password)]
    return [s for s in found if s]


def _mongo_password(uri: str) -> str | None:
    rest = uri.partition("://")[2]
    userinfo, at, _ = rest.partition("?")[0].rpartition("@")
    if not at or ":" not in userinfo:
        return None
    return userinfo.partition(":")[2]


class EventFormatter(logging.Formatter):
    """Formats a record as one ``key=value`` line (see the module docstring).

    Args:
        redact: Masks secrets in the message, the fields and the traceback.
    """

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__()
        self.redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line, secrets masked."""
        at = datetime.fromtimestamp(record.created, UTC)
        parts = [f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"]
        parts += [record.levelname, record.name]
        parts += [f"{_key(k)}={self._value(v)}" for k, v in record_fields(record)]
        parts.append(f"msg={self._text(record.getMessage())}")
        if record.exc_info:
            parts.append(f"traceback={self._text(self.formatException(record.exc_info))}")
        elif record.exc_text:
            parts.append(f"traceback={self._text(record.exc_text)}")
        if record.stack_info:
            parts.append(f"stack={self._text(self.formatStack(record.stack_info))}")
        return " ".join(parts)

    def _value(self, value: Any) -> str:
        return self._text(plain(value))

    def _text(self, text: str) -> str:
        return quoted(self.redact(text))


def record_fields(record: logging.LogRecord) -> list[tuple[str, Any]]:
    """The ``extra`` fields of ``record``: ``broadcast`` and ``event`` first."""
    extra = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    first = [(k, extra.pop(k)) for k in FIRST_FIELDS if k in extra]
    return first + list(extra.items())


def plain(value: Any) -> str:
    """A field value as text: ``none``, ``true``, ``1.5``, ``2026-12-07T10:15:00Z``,
    ``blocked:3,deactivated:1`` (a mapping), ``1,2,3`` (a sequence)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return f"{moment:%Y-%m-%dT%H:%M:%S}" + ("Z" if value.tzinfo else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return plain(value.total_seconds())
    if isinstance(value, Mapping):
        return ",".join(f"{plain(k)}:{plain(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(plain(v) for v in value) or "none"
    return str(value)


def quoted(text: str) -> str:
    """``text`` as is when it is one plain word, else in double quotes with escapes."""
    if text and not _NEEDS_QUOTES.search(text):
        return text
    return '"' + _ESCAPED.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _key(name: str) -> str:
    return _NOT_KEY.sub("_", name) or "_"


def configure_logging(
    level: str, secrets: Iterable[str | None] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as one masked line, from ``level`` up.

    For a process of its own (``python -m bot run``); a host bot keeps its own
    logging and may put :class:`EventFormatter` on its handlers. Calling it again
    replaces the handler it installed before.

    Args:
        level: ``LOG_LEVEL``: DEBUG, INFO, WARNING or ERROR.
        secrets: Values to mask (:func:`secrets_of`).
        stream: Where lines go; stderr by default.

    Returns:
        The handler installed on the root logger.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_broadcast_manager", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(EventFormatter(Redactor(secrets)))
    handler._broadcast_manager = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    number = logging.getLevelName(level.upper())
    root.setLevel(number)
    for name in CHATTY_LIBRARIES:  # their INFO is per connection attempt: noise at INFO
        logging.getLogger(name).setLevel(
            logging.INFO if number <= logging.DEBUG else logging.WARNING
        )
    return handler
