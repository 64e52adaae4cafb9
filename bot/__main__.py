"""``python -m bot demo ...``: the command line of Broadcast Manager."""

from __future__ import annotations

import sys

USAGE = """usage: python -m bot <command> [options]

commands:
  demo    run a real broadcast against the built-in Telegram simulator (no credentials)
  run     start the admin bot (needs API_ID, API_HASH, BOT_TOKEN and MongoDB)
"""


def main(argv: list[str]) -> int:
    """Dispatch to a sub-command."""
    if not argv or argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        from bot.demo.cli import main as demo

        return demo(rest)
    if command == "run":
        return run(rest)
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


def run(argv: list[str]) -> int:
    """``python -m bot run``: the standalone bot, until Ctrl-C."""
    import asyncio
    import contextlib

    from config.settings import ConfigError, load_settings

    if argv:
        print("usage: python -m bot run  (configured by the environment and .env)", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    missing = settings.missing_credentials()
    if missing:
        print(
            f"cannot start the bot: {', '.join(missing)} not set (environment or .env).\n"
            "Get them from my.telegram.org and @BotFather, or try `python -m bot demo`,"
            " which needs no credentials.",
            file=sys.stderr,
        )
        return 2
    from bot.admin.install import serve
    from bot.app import Tuning
    from segments import SegmentFileError

    try:  # a bad segments file stops start-up, before any connection
        Tuning.from_settings(settings)
    except SegmentFileError as error:
        print(f"cannot start the bot: {error}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the bot is stopped
        asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
