"""Helpers of the command parser tests: parse and check the result's type."""

from __future__ import annotations

from typing import get_args

from bot.admin.commands import USAGE, BroadcastRequest, Parsed, UsageError, parse_command

RESULT_TYPES = get_args(Parsed)  # every type parse_command may return
ID = "bc_20261129_143000_a1b2"


def request(args: str, command: str = "/broadcast") -> BroadcastRequest:
    result = parse_command(f"{command} {args}", bot_username="MyBot")
    assert isinstance(result, BroadcastRequest), result
    return result


def usage_error(text: str) -> str:
    """The message of the usage error ``text`` gets, checked to end with its usage line."""
    result = parse_command(text, bot_username="MyBot")
    assert isinstance(result, UsageError), result
    command = text.split()[0].lstrip("/").partition("@")[0].lower()
    *problem, usage = result.message.splitlines()
    assert usage == f"Usage: {USAGE[command]}"
    assert 1 <= len(problem) <= 2
    return "\n".join(problem)
