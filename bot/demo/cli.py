"""``python -m bot demo``: the command line, dispatching to the broadcast, chaos or chat demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.delivery.report import person, summary_text
from bot.demo.audience import ADMIN_ID
from bot.demo.broadcast import DemoResult, EmptyTargetError, run_demo
from bot.demo.display import Display, LogLines, make_display
from segments import SegmentCatalog, SegmentError

#: The exit status of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT = 130
#: Defaults that differ with ``--chaos``: fast enough to run it a few times in a row.
DEFAULTS = {"rate": 25.0, "telegram_limit": 30}
CHAOS_DEFAULTS = {"rate": 200.0, "telegram_limit": 180}

DESCRIPTION = """\
Run a real broadcast through Broadcast Manager's send pipeline, against a
simulated Telegram and an in-memory MongoDB: no credentials, nothing leaves
this machine. The simulated audience has languages, premium flags and activity
spread over 30 days; some users blocked the bot or deleted their account.

On a terminal the progress is drawn live; redirected to a file it is one line
every few seconds. Ctrl-C stops the broadcast cleanly, prints what was sent so
far and exits with status 130.
"""

EPILOG = """\
examples:
  python -m bot demo
  python -m bot demo --rate 60 --telegram-limit 30      flood control at work
  python -m bot demo --segment lang:de --exclude premium
  python -m bot demo --chaos --users 3000 --json        faults, restart, invariants
  python -m bot demo --report ./report                  the chart and the CSV of the ledger
  python -m bot demo --interactive                      be the admin in the terminal
"""


def build_parser() -> argparse.ArgumentParser:
    """The demo's argument parser; every option's help states its default."""
    parser = argparse.ArgumentParser(
        prog="python -m bot demo",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--users", type=_positive_int, default=2000, help="audience size (default: 2000)")
    add(
        "--blocked",
        type=_fraction,
        default=0.03,
        help="fraction who blocked the bot (default: 0.03)",
    )
    add(
        "--deactivated",
        type=_fraction,
        default=0.01,
        help="fraction who deleted their account (default: 0.01)",
    )
    add(
        "--latency-ms",
        type=_milliseconds,
        default=50.0,
        help="Telegram's latency per request, with 20%% jitter (default: 50)",
    )
    add(
        "--rate",
        type=float,
        default=None,
        help="our limiter, messages per second (default: 25; with --chaos: 200)",
    )
    add(
        "--telegram-limit",
        type=int,
        default=None,
        help="messages per second the simulated Telegram allows before FLOOD_WAIT, "
        "up to 1000 as with paid broadcasts (default: 30; with --chaos: 180)",
    )
    add(
        "--concurrency",
        type=_positive_int,
        default=None,
        help="send workers (default: twice the sends in flight at that rate and latency)",
    )
    add(
        "--segment",
        action="append",
        default=[],
        metavar="NAME",
        help="only users in this segment, e.g. lang:de, premium, active_7d; "
        "repeatable (default: all users)",
    )
    add(
        "--exclude",
        action="append",
        default=[],
        metavar="NAME",
        help="leave out a segment; repeatable (default: none)",
    )
    add(
        "--seed",
        type=int,
        default=1,
        help="seed of every random choice (who blocked the bot, latency jitter, and with "
        "--chaos the faults): the same seed replays the same audience and faults (default: 1)",
    )
    add(
        "--json",
        action="store_true",
        help="print one JSON object with the figures instead of the summary; "
        "progress goes to stderr (default: off)",
    )
    add(
        "--report",
        metavar="DIR",
        type=lambda text: Path(text).expanduser(),
        default=None,
        help="write the broadcast's report into DIR (made if missing), as /broadcast_report "
        "sends it: <id>_chart.png and <id>_ledger.csv (default: none)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--chaos",
        action="store_true",
        help="database outages and faults, lost answers, a FloodWait storm and a restart "
        "mid-run; then the invariants (default: off)",
    )
    mode.add_argument(
        "--interactive",
        action="store_true",
        help="chat with the admin bot in the terminal (default: off)",
    )
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The demo's command line, checked, with the defaults of its mode filled in."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, value in (CHAOS_DEFAULTS if args.chaos else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.blocked + args.deactivated > 1:
        parser.error("--blocked + --deactivated must not exceed 1")
    if not 0 < args.rate <= 1000 or not 1 <= args.telegram_limit <= 1000:
        parser.error("--rate must be in (0, 1000] and --telegram-limit in 1..1000")
    if args.interactive and args.json:
        parser.error("--json does not apply to --interactive")
    if args.interactive and args.report:
        parser.error("--report does not apply to --interactive: ask /broadcast_report ID there")
    if args.report:
        _report_dir(parser, args.report)
    try:
        SegmentCatalog().check(args.segment, args.exclude)
    except SegmentError as error:
        parser.error(str(error))
    return args


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _milliseconds(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _report_dir(parser: argparse.ArgumentParser, path: Path) -> None:
    """Make the report's folder now: a bad one is refused before the broadcast runs."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--report {path}: cannot make a folder there ({error.strerror})")


def main(argv: list[str]) -> int:
    """Entry point of ``python -m bot demo``: 0 done, 1 an invariant broken, 2 refused,
    130 stopped by Ctrl-C."""
    args = parse_args(argv)
    if args.interactive:
        from bot.demo.chat import main as chat  # the chat demo needs more of the bot

        return chat(args)
    display = make_display(sys.stderr if args.json else sys.stdout)
    logs = LogLines(display.note)
    logging.getLogger().addHandler(logs)
    try:
        result = asyncio.run(_run(args, display))
    except EmptyTargetError as error:
        display.close()
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before the broadcast started, or a second Ctrl-C
        display.close()
        print("Interrupted.", file=sys.stderr)
        return INTERRUPTED_EXIT
    finally:
        logging.getLogger().removeHandler(logs)
    if args.json:
        print(json.dumps(result.figures))
    else:
        report(result, args, display, sys.stdout)
    if result.interrupted:
        return INTERRUPTED_EXIT
    return 0 if not args.chaos or not broken(result.figures) else 1


async def _run(args: argparse.Namespace, display: Display) -> DemoResult:
    if args.chaos:
        from bot.demo.chaos import run_chaos

        return await run_chaos(args, display)
    return await run_demo(args, display)


def broken(figures: dict[str, Any]) -> list[str]:
    """The invariants of a chaos run that do not hold, as ``name=value``."""
    wrong = [
        f"{key}={figures[key]}" for key in ("duplicates", "missing", "unknown") if figures[key]
    ]
    if figures.get("ledger_disagrees"):
        wrong.append(f"ledger_disagrees={figures['ledger_disagrees']}")
    if figures["status"] != "completed":
        wrong.append(f"status={figures['status']}")
    return wrong


def report(result: DemoResult, args: argparse.Namespace, display: Display, out: TextIO) -> None:
    """The summary (as the bot's status message ends), then the simulator's record."""
    figures = result.figures
    out.write("\n" + summary_text(result.summary, by=person(None, ADMIN_ID)) + "\n\n")
    out.write(
        f"Simulator's record: {figures['duplicates']} users got it twice, "
        f"{figures['missing']} active targeted users got nothing, "
        f"{figures['flood_waits']} FloodWaits from Telegram; "
        f"{figures['achieved_rate']} msg/s for a limit of {args.rate:g}.\n"
    )
    if result.report is not None:
        files = result.report
        out.write(f"Report: {files.chart} (chart), {files.ledger} (ledger, {files.rows:,} rows).\n")
    out.flush()
    if args.chaos and not result.interrupted:
        _chaos_report(figures, args, display)


def _chaos_report(figures: dict[str, Any], args: argparse.Namespace, display: Display) -> None:
    injected = figures["injected"]
    faults = ", ".join(f"{kind} {n}" for kind, n in injected["db_faults"].items()) or "none"
    outages = ", ".join(f"{s:.1f} s" for s in injected["db_outages_s"]) or "none"
    floods = injected["flood_waits"]
    display.table(
        "Injected",
        [
            ("database faults", f"{sum(injected['db_faults'].values())} ({faults})"),
            ("database outages", outages),
            (
                "lost answers",
                f"{injected['lost_answers']} (resends refused by Telegram as "
                f"duplicates: {injected['duplicates_refused']})",
            ),
            ("FloodWaits", f"{floods['telegram']} from Telegram, {floods['scripted']} scripted"),
            ("restarts", str(injected["restarts"])),
        ],
    )
    display.table(
        "Invariants",
        [
            ("duplicates", f"{figures['duplicates']} (users with more than one copy)"),
            ("missing", f"{figures['missing']} (reachable targeted users with none)"),
            ("unknown", f"{figures['unknown']} (recipients in doubt in the ledger)"),
            ("ledger vs Telegram", f"{figures['ledger_disagrees']} users disagree"),
            ("status", str(figures["status"])),
        ],
    )
    wrong = broken(figures)
    verdict = "All invariants hold." if not wrong else "BROKEN: " + ", ".join(wrong)
    print(f"{verdict} (seed {args.seed})")
