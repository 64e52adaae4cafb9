"""``python -m bot demo ...``: the command line of Broadcast Manager."""

from __future__ import annotations

import sys

USAGE = """usage: python -m bot <command> [options]

commands:
  demo    run a real broadcast against the built-in Telegram simulator (no credentials)
"""


def main(argv: list[str]) -> int:
    """Dispatch to a sub-command."""
    if not argv or argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        from bot.demo import main as demo

        return demo(rest)
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
