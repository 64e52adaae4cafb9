"""Usage lines and the admin's /help text, built from the flag table so they cannot drift."""

from __future__ import annotations

from bot.admin.commands.broadcast import FLAGS
from bot.admin.commands.model import BROADCAST_ID_EXAMPLE, HISTORY_DEFAULT, HISTORY_MAX

#: Flags a preview does not take: it is sent now, to the admin alone.
NOT_IN_PREVIEW = frozenset({"preview", "test"})


def _flags_usage(*, preview: bool) -> str:
    shown = [
        s for s in FLAGS.values() if not preview or not (s.schedules or s.name in NOT_IN_PREVIEW)
    ]
    return " ".join(spec.usage for spec in shown)


USAGE: dict[str, str] = {
    "broadcast": f"/broadcast {_flags_usage(preview=False)} [--] [TEXT]",
    "broadcast_preview": f"/broadcast_preview {_flags_usage(preview=True)} [--] [TEXT]",
    "broadcast_schedule": "/broadcast_schedule WHEN | [flags] [TEXT]",
    "broadcast_scheduled": "/broadcast_scheduled",
    "broadcast_reschedule": "/broadcast_reschedule ID WHEN",
    "broadcast_segments": "/broadcast_segments",
    "broadcast_timezone": "/broadcast_timezone [IANA NAME]",
    "broadcast_history": f"/broadcast_history [N (1-{HISTORY_MAX}) | ID]",
    "broadcast_cancel": "/broadcast_cancel ID",
    "broadcast_testers": "/broadcast_testers [add ID... | remove ID...]",
    "broadcast_delete": "/broadcast_delete ID",
    "broadcast_edit": '/broadcast_edit ID [--parse MODE] [--button "Text | url"]... [TEXT]',
    "broadcast_retry": "/broadcast_retry ID",
    "broadcast_report": "/broadcast_report ID",
    "help": "/help",
}

_COMMANDS = f"""\
/broadcast [flags] [TEXT] - send TEXT to every eligible user. Without TEXT, reply \
with it to the message to send (photo, album, anything), or the bot asks for one: \
that message is copied as it is (tags typed in it stay literal).
/broadcast_preview [flags] [TEXT] - send it to you only, to see how it looks.
/broadcast_schedule WHEN | [flags] [TEXT] - the same as /broadcast --at WHEN. WHEN may \
also stand alone on the first line with the message below, or alone in a reply.
/broadcast_scheduled - upcoming scheduled and repeating broadcasts.
/broadcast_reschedule ID WHEN - move a scheduled broadcast.
/broadcast_segments - every segment, what it means and how many users it has now.
/broadcast_timezone [NAME] - show or set your time zone (e.g. Europe/Berlin) for dates.
/broadcast_history [N | ID] - the last N broadcasts (default {HISTORY_DEFAULT}, \
at most {HISTORY_MAX}), or one broadcast by its id.
/broadcast_cancel ID - cancel a running, paused, queued or scheduled broadcast, or a \
whole repeating schedule (asks first when it is sending, paused or repeats).
/broadcast_testers [add ID... | remove ID...] - the testers who get --test broadcasts: \
list them, add or remove some.
/broadcast_delete ID - delete a sent broadcast from every chat it reached (albums \
whole); Telegram lets a bot delete only what it sent in the last 48 hours.
/broadcast_edit ID [TEXT] - change the text or caption (and, with --button, the \
buttons) of every copy sent; or reply with it to a text message. A text stays a \
text (4096), a caption a caption (1024); forwards cannot be edited.
/broadcast_retry ID - send a finished broadcast again to those who did not get it \
and still may (failed for a passing reason, left in doubt, never reached, or back \
after blocking the bot); never to anyone who got it.
/broadcast_report ID - a chart (deliveries and rate over time, FloodWaits, errors, \
reactions) and a CSV of the ledger (one row per recipient), sent to you as two files.
/help - this message."""

# (what it does, the command)
EXAMPLES = (
    ("German speakers, without a sound:", "/broadcast --segment lang:de --silent Hallo!"),
    (
        "As a reply to a photo, send the photo with a button:",
        '/broadcast --button "Open | https://example.com"',
    ),
    ("Tomorrow morning:", "/broadcast_schedule tomorrow 9am | Good morning"),
    (
        "Every week from Friday evening to the end of the year, everyone but premium users:",
        '/broadcast --at "friday 18:00" --every week --until "2026-12-31 23:59" --exclude premium'
        " --parse markdown **Weekly digest** is out",
    ),
    (
        "A personal greeting with a reaction row, to the testers first:",
        '/broadcast --test --react "👍,👎" Hi {first_name|there}, do you like it?',
    ),
    ("One broadcast in detail:", f"/broadcast_history {BROADCAST_ID_EXAMPLE}"),
)

_FLAG_LINES = "\n".join(
    f"--{s.name}{' ' + s.metavar if s.metavar else ''} - {s.help}"
    + ("; repeatable" if s.repeatable else "")
    for s in FLAGS.values()
)

ADMIN_HELP = f"""\
Admin commands

{_COMMANDS}

Flags go before the text; a lone -- ends them (for a text that starts with a dash). \
Quote a value that has spaces: "..." or '...'. The text keeps the formatting your app \
gives it (bold, italic, links, spoilers); without any, HTML tags like <b>bold</b> are read.
{_FLAG_LINES}

Personal greetings: {{first_name}}, {{username}} and {{language_code}} in the text (or in the \
caption of a copy) are filled in for each recipient; {{first_name|there}} when one has \
none. {{{{ writes a literal {{.

Examples
{chr(10).join(f"{what}{chr(10)}{command}" for what, command in EXAMPLES)}"""
"""The /help text: every command and flag, with examples.

Plain text: send it with parsing disabled (hydrogram's default mode would read
``--x--`` as underline and ``||x||`` as a spoiler).
"""
