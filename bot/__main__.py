"""``python -m bot demo ...``: the command line of Broadcast Manager."""

from __future__ import annotations

import os
import sys

USAGE = """usage: python -m bot <command> [options]

commands:
  demo    run a real broadcast against the built-in Telegram simulator (no credentials)
  run     start the admin bot (needs API_ID, API_HASH, BOT_TOKEN and MongoDB)

python -m bot <command> --help tells more.
"""

RUN_USAGE = """usage: python -m bot run

Start the standalone admin bot: it connects to Telegram and MongoDB, records
everyone who writes to it, and answers the admins' /broadcast commands until
Ctrl-C. It takes no options: it is configured by environment variables, or by
a .env file in the working directory (real environment variables win).

Required: API_ID, API_HASH, BOT_TOKEN (from my.telegram.org and @BotFather).
Every variable it reads:
{variables}

Each is described, with its default and accepted values, in .env.example; see
README.md ("The admin bot", "Configuration"). Without credentials, try
`python -m bot demo`.
"""


def main(argv: list[str]) -> int:
    """Dispatch to a sub-command; Ctrl-C ends with 130 and no traceback."""
    try:
        return _dispatch(argv)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _dispatch(argv: list[str]) -> int:
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


def run_usage() -> str:
    """The help of ``python -m bot run``, naming every environment variable it reads."""
    from config.settings import ENV_VARS

    names = list(ENV_VARS)
    rows = [", ".join(names[i : i + 5]) for i in range(0, len(names), 5)]
    return RUN_USAGE.format(variables="\n".join(f"  {row}" for row in rows))


def run(argv: list[str]) -> int:
    """``python -m bot run``: the standalone bot, until Ctrl-C.

    Returns 0 after Ctrl-C, 1 when Telegram cannot be reached or refuses the bot,
    2 for a configuration problem.
    """
    import asyncio
    import contextlib

    from config.settings import ConfigError, load_settings

    if argv and argv[0] in {"-h", "--help"}:
        print(run_usage())
        return 0
    if argv:
        print(run_usage(), file=sys.stderr)
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
    from bot.admin.standalone import StartError, serve
    from bot.app import Tuning
    from segments import SegmentFileError

    try:  # a bad segments file stops start-up, before any connection
        Tuning.from_settings(settings)
    except SegmentFileError as error:
        print(f"cannot start the bot: {error}", file=sys.stderr)
        return 2
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the bot is stopped
            asyncio.run(serve(settings))
    except StartError as error:
        print(f"cannot start the bot: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
