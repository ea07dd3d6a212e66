"""The import contracts of ``pyproject.toml`` break when a layer imports what it must not (DESIGN §6).

Each case copies the packages and ``pyproject.toml`` into a temporary directory, appends one
forbidden import to one module, and runs ``lint-imports`` on the copy as a subprocess: it must
exit non-zero and name the contract that guards that boundary. The untouched copy must pass, which
also shows the copy (not the installed tree) is what gets analysed. All runs go in parallel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

ONE_WAY = "one way: wiring → handlers → services | storage | bot.slack → domain"
PURE_DOMAIN = "the domain imports no I/O, Slack or framework library"
NO_PERSISTENCE = "handlers never touch persistence"
SERVICES_NO_LIBS = "services use no Slack or database library"
PLACED = "every module of bot sits in a layer"


@dataclass(frozen=True)
class Case:
    name: str
    module: str  # a path relative to the root; created when it does not exist
    line: str
    broken: str  # the contract that must be named as broken


CASES = [
    Case("domain→sqlalchemy", "bot/domain/cards.py", "import sqlalchemy", PURE_DOMAIN),
    Case("domain→httpx (not installed)", "bot/domain/cards.py", "import httpx", PURE_DOMAIN),
    Case("domain→bot.slack", "bot/domain/cards.py", "import bot.slack.blocks", ONE_WAY),
    Case("domain→bot.log_context", "bot/domain/cards.py", "import bot.log_context", PLACED),
    Case("handlers→storage", "handlers/home.py", "from storage import uow", NO_PERSISTENCE),
    Case("storage→bot.services", "storage/health.py", "import bot.services.ports", ONE_WAY),
    Case("bot.slack→handlers", "bot/slack/blocks.py", "import handlers.guard", ONE_WAY),
    Case("services→slack_sdk", "bot/services/ports.py", "import slack_sdk", SERVICES_NO_LIBS),
    Case("services→bot.slack", "bot/services/ports.py", "import bot.slack.blocks", ONE_WAY),
    Case("services→bot.webhooks", "bot/services/relay.py", "import bot.webhooks.sender", ONE_WAY),
    Case("bot.webhooks→bot.services", "bot/webhooks/sender.py", "import bot.services.relay", ONE_WAY),
    Case("domain→standardwebhooks", "bot/domain/webhooks.py", "import standardwebhooks", PURE_DOMAIN),
    Case("services→standardwebhooks", "bot/services/webhook_relay.py", "import standardwebhooks", SERVICES_NO_LIBS),
    Case("a new module of bot in no layer", "bot/unplaced.py", "import bot.domain", PLACED),
    Case("domain→matplotlib", "bot/domain/surface.py", "import matplotlib", PURE_DOMAIN),
    Case("services→matplotlib", "bot/services/report.py", "import matplotlib", SERVICES_NO_LIBS),
    Case("domain→bot.charts", "bot/domain/surface.py", "import bot.charts", ONE_WAY),
    Case("bot.charts→bot.services", "bot/charts/png.py", "import bot.services.report", ONE_WAY),
]
UNTOUCHED = Case("untouched", "", "", "")


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str


def _copy_tree(into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, into / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """``lint-imports`` on a copy of the tree per case, all started at once."""
    started: dict[str, subprocess.Popen[str]] = {}
    for case in [UNTOUCHED, *CASES]:
        where = tmp_path_factory.mktemp("contracts")
        _copy_tree(where)
        if case.module:
            with (where / case.module).open("a", encoding="utf-8") as module:
                module.write(f"\n{case.line}  # injected by the test\n")
        started[case.name] = subprocess.Popen(
            [str(LINT_IMPORTS), "--config", str(where / "pyproject.toml"), "--no-cache"],
            cwd=where,
            env={**os.environ, "PYTHONPATH": str(where)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    results = {}
    try:
        for name, process in started.items():
            output, _ = process.communicate(timeout=60)
            results[name] = Run(process.returncode, output)
        yield results
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()


def test_the_untouched_tree_keeps_every_contract(runs: dict[str, Run]) -> None:
    run = runs[UNTOUCHED.name]
    assert run.returncode == 0, run.output
    assert "0 broken" in run.output


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_forbidden_import_breaks_its_contract(case: Case, runs: dict[str, Run]) -> None:
    run = runs[case.name]
    assert run.returncode != 0, f"{case.line} in {case.module} broke no contract:\n{run.output}"
    assert f"{case.broken} BROKEN" in run.output, run.output
