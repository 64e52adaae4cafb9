"""The tree is the architecture: each package imports only what its docstring allows.

Read from the source (every ``import``, also inside functions and ``TYPE_CHECKING``
blocks), so a lazy import cannot hide a wrong direction, and the module graph
has no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("bot", "scheduler", "segments", "config")
DRIVERS = ("pymongo", "motor", "bson", "mongomock", "mongomock_motor")
TELEGRAM = ("hydrogram", "tgcrypto")
#: Metrics are served by bot.ops only; the core and the adapters know nothing of them.
METRICS = ("prometheus_client",)


@dataclass(frozen=True, slots=True)
class Rule:
    """What the modules under ``package`` may import: our packages, and forbidden libraries."""

    package: str
    may_import: tuple[str, ...]
    forbidden_libraries: tuple[str, ...] = ()


#: The most specific rule applies (``bot.demo.simulator`` before ``bot.demo``).
RULES = (
    Rule("config", ("config",), (*DRIVERS, *TELEGRAM, "apscheduler", *METRICS)),
    Rule(
        "segments",
        ("segments", "bot.delivery.errors"),
        (*DRIVERS, *TELEGRAM, "apscheduler", *METRICS),
    ),
    Rule("bot.delivery", ("bot.delivery",), (*DRIVERS, *TELEGRAM, "apscheduler", *METRICS)),
    Rule(
        "bot.storage",
        ("bot.storage", "bot.delivery", "segments"),
        (*TELEGRAM, "apscheduler", *METRICS),
    ),
    Rule(
        "bot.telegram",
        ("bot.telegram", "bot.delivery", "bot.storage"),
        ("apscheduler", *METRICS),
    ),
    Rule(
        "scheduler",
        ("scheduler", "bot.delivery", "bot.storage", "segments"),
        (*TELEGRAM, *METRICS),
    ),
    Rule("bot.ops", ("bot.ops", "bot.delivery", "config"), (*DRIVERS, *TELEGRAM, "apscheduler")),
    Rule(
        "bot.reports",
        ("bot.reports", "bot.delivery"),
        (*DRIVERS, *TELEGRAM, "apscheduler", *METRICS),
    ),
    Rule("bot.app", ("bot", "scheduler", "segments", "config")),
    Rule("bot.admin", ("bot", "scheduler", "segments", "config")),
    Rule("bot.demo.simulator", ("bot.demo.simulator",), (*DRIVERS, "apscheduler")),
    Rule("bot.demo", ("bot", "scheduler", "segments", "config")),
    Rule("bot.__main__", ("bot", "config", "segments")),
    Rule("bot", ("bot",)),
)
#: Packages a rule of ``bot.app``/``bot.admin``/``bot`` still may not reach.
NEVER = {
    "bot.app": ("bot.admin", "bot.demo"),
    "bot.admin": ("bot.demo",),
    "bot.__main__": ("bot.admin.handlers",),
    "bot": ("bot.admin", "bot.demo", "bot.app"),
}


def module_name(path: Path) -> str:
    """``bot/delivery/run.py`` -> ``bot.delivery.run``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, *, is_package: bool) -> Iterator[str]:
    """Every module name ``source`` imports (relative imports resolved)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def rule_for(module: str) -> Rule:
    """The most specific rule whose package is ``module`` or contains it."""
    matching = [r for r in RULES if module == r.package or module.startswith(r.package + ".")]
    return max(matching, key=lambda r: len(r.package))


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(module: str, imported: set[str], known: set[str]) -> list[str]:
    """What ``module`` imports against its rule; ``known`` are our modules."""
    rule = rule_for(module)
    found = []
    for name in sorted(imported):
        top = name.split(".")[0]
        if top in rule.forbidden_libraries:
            found.append(f"{module} imports {name} (no {top} in {rule.package})")
        if top not in OURS or name not in known:
            continue
        allowed = any(within(name, p) for p in rule.may_import)
        never = any(within(name, p) for p in NEVER.get(rule.package, ()))
        if not allowed or never:
            found.append(f"{module} imports {name} ({rule.package} may import {rule.may_import})")
    return found


def our_modules() -> dict[str, Path]:
    found = {}
    for top in OURS:
        for path in (ROOT / top).rglob("*.py"):
            found[module_name(path)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Our modules and the modules of ours each imports."""
    modules = our_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported = imports_of(path.read_text(), name, is_package=path.name == "__init__.py")
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def test_every_package_imports_only_what_its_rule_allows() -> None:
    modules = our_modules()
    problems = []
    for name, path in sorted(modules.items()):
        source = path.read_text()
        imported = set(imports_of(source, name, is_package=path.name == "__init__.py"))
        problems += violations(name, imported, set(modules))
    assert problems == []


def test_the_module_graph_has_no_cycle() -> None:
    graph = import_graph()
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            cycle = path[path.index(node) :] + [node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if node in done:
            return
        path.append(node)
        for child in sorted(graph[node]):
            # A package's __init__ importing its own submodules is how packages export.
            if not child.startswith(node + "."):
                visit(child)
        path.pop()
        done.add(node)

    for module in sorted(graph):
        visit(module)


def test_every_package_says_what_it_owns_and_may_import() -> None:
    for init in sorted(ROOT.glob("*/**/__init__.py")):
        if init.parts[len(ROOT.parts)] not in OURS:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "May import" in doc, f"{init.relative_to(ROOT)} does not say what it may import"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("bot.delivery.run", "import hydrogram"),
        ("bot.delivery.run", "from pymongo.errors import AutoReconnect"),
        ("bot.delivery.run", "from bot.admin.queue import BroadcastQueue"),
        ("bot.delivery.run", "from prometheus_client import Counter"),
        ("bot.delivery.dispatch", "from bot.ops.metrics import Metrics"),
        ("bot.ops.metrics", "from bot.admin.queue import BroadcastQueue"),
        ("bot.ops.logs", "import hydrogram"),
        ("scheduler.runtime", "import prometheus_client"),
        ("bot.delivery.run", "def f():\n    from bot.demo import audience"),
        ("bot.storage.ledger", "from bot.telegram.sender import HydrogramSender"),
        ("scheduler.book", "from bot.admin.status import StatusMessage"),
        ("bot.app", "from bot.admin import install"),
        ("bot.demo.simulator.world", "from bot.delivery.errors import SendError"),
        ("segments.compiler", "from bot.storage.users import MongoUserDirectory"),
        ("bot.reports.build", "from bot.storage.ledger import MongoDeliveryLedger"),
        ("bot.reports.chart", "import hydrogram"),
        ("bot.delivery.report", "from bot.reports.chart import render_png"),
    ],
)
def test_a_forbidden_import_is_caught(module: str, source: str) -> None:
    modules = set(our_modules())
    imported = set(imports_of(source, module, is_package=False))
    assert violations(module, imported, modules), f"{source!r} in {module} went unnoticed"
