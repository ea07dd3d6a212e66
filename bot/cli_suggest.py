"""``signoff suggest [--since …] [--until …] [--kind K] [--min-support 30] [--min-approval 0.99] [--json]
[--write FILE] [--mode live|shadow]`` (DESIGN §8).

Proposes governed defaults where people almost always decided the same way. Prints each suggestion
(its rule as YAML and its evidence in plain words), or per kind why there is none; ``--json`` prints
§8's shape. ``--write FILE`` writes the governance file in force plus the suggested rules and their
tests, after checking that the new text loads and passes its tests; written atomically.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import TextIO

from bot.cli_governance import load, print_problems
from bot.cli_report import Database, window_options
from bot.domain.clock import SystemClock
from bot.domain.filetests import run_file_tests
from bot.domain.governance import ERROR, Governance, GovernanceInvalid, UnknownKind
from bot.domain.suggest import SuggestionReport
from bot.domain.suggest_tests import as_shadow
from bot.domain.suggestions import Suggestion
from bot.domain.surface import parse_window
from bot.governance_file import load_governance_text
from bot.rule_yaml import NotWritable, SharedNode, rule_yaml, tests_yaml, with_suggestions
from bot.services.runtime import Runtime
from bot.services.suggest import suggest_defaults
from storage.uow import SqlUnitOfWorkFactory


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    config_option: Callable[[argparse.ArgumentParser], None],
    config_path: Callable[[str | None], Path],
    database: Database,
) -> None:
    """Add ``signoff suggest``; it reads the governance file from ``config_path`` and the database."""
    suggest = commands.add_parser("suggest", help="governed defaults mined from past human decisions")
    config_option(suggest)
    window_options(suggest)
    suggest.add_argument("--min-support", default="30", help="human decisions a region needs (default: 30)")
    suggest.add_argument("--min-approval", default="0.99", help="share of them that must agree (default: 0.99)")
    suggest.add_argument("--json", action="store_true", help="print JSON (DESIGN §8 shape)")
    suggest.add_argument("--write", metavar="FILE", help="write the governance file in force plus the suggestions")
    suggest.add_argument("--mode", default="live", help="with --write: live rules (default) or shadow")

    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        return run_suggest(args, config_path(getattr(args, "config", None)), database, out, err)

    suggest.set_defaults(run=run)


def parse_bar(min_support: str, min_approval: str) -> tuple[int, float]:
    """The two bars from their option text; ``ValueError`` with one line naming the option."""
    text = min_support.strip()
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(f"--min-support takes a whole number ≥ 1, such as 30; got “{min_support}”")
    try:
        share = float(min_approval.strip()) if "_" not in min_approval else float("nan")  # not 0.9_9
    except ValueError:
        share = float("nan")
    if not 0.5 < share <= 1:  # NaN fails too
        raise ValueError(f"--min-approval takes a share in (0.5, 1], such as 0.99; got “{min_approval}”")
    return int(text), share


def _check_write_options(write: str | None, mode: str) -> None:
    """``ValueError`` with one line for an empty ``--write`` or a ``--mode`` other than live/shadow."""
    if write is not None and not write.strip():
        raise ValueError("--write takes the name of the file to write; got an empty name")
    if mode not in ("live", "shadow"):
        raise ValueError(f"--mode takes live or shadow; got “{mode}”")


def run_suggest(args: argparse.Namespace, config: Path, database: Database, out: TextIO, err: TextIO) -> int:
    """Exit 0 with the suggestions shown (and written); 1 (governance, database, file) or 2 (options)."""
    try:
        min_support, min_approval = parse_bar(args.min_support, args.min_approval)
        _check_write_options(args.write, args.mode)
    except ValueError as exc:
        print(f"signoff suggest: {exc}", file=err)
        return 2
    governance, problems = load(config)
    if governance is None:
        print_problems(config, problems, err)
        return 1
    clock = SystemClock()
    try:
        window = parse_window(args.since, args.until, now=clock.now(), timezone=governance.tz)
        if window.start >= clock.now():
            shown = window.start.astimezone(governance.tz).strftime("%Y-%m-%d %H:%M")
            raise ValueError(f"--since: the window starts {shown}, after now; nothing has been decided in it yet")
    except ValueError as exc:
        print(f"signoff suggest: {exc}", file=err)
        return 2
    with database(err) as engine:
        if engine is None:
            return 1
        runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=clock)
        try:
            report = suggest_defaults(
                runtime, window=window, kinds=args.kind, min_support=min_support, min_approval=min_approval
            )
        except UnknownKind as exc:
            print(f"signoff suggest: {exc}", file=err)
            return 2
    if args.mode == "shadow":
        report = SuggestionReport(
            report.window,
            report.governance,
            report.min_support,
            report.min_approval,
            tuple(as_shadow(governance, report.suggestions)),
            report.kinds,
        )
    out.write(
        json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n" if args.json else text(report, governance.tz)
    )
    if args.write is not None:
        return write_file(governance, report, Path(args.write), clock, err)
    return 0


def text(report: SuggestionReport, tz: tzinfo) -> str:
    """Each suggestion with its rule (YAML) and evidence in plain words; per kind without one, why.
    The window is shown in ``tz`` (the governance timezone), as ``signoff report`` shows it."""
    start, end = (
        moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") for moment in (report.window.start, report.window.end)
    )
    lines = [
        f"requests submitted from {start} to {end} (exclusive, {tz}); governance {report.governance[:12]}: "
        f"{report.requests} read, {report.skipped_invalid} no longer fit their kind's fields",
        f"a suggestion needs at least {report.min_support} human decisions (--min-support), at least "
        f"{report.min_approval:.0%} of them one way (--min-approval), by at least 2 approvers, the busiest of "
        "them at most two thirds, the others alone deciding that way as often; each end of a threshold a value "
        "two approvers decided that way, with no more dissent at it than --min-approval allows",
        "",
    ]
    for summary in report.kinds:
        mine = [s for s in report.suggestions if s.kind == summary.kind]
        governed = f", {summary.governed} already covered by rules of the file" if summary.governed else ""
        lines.append(f"{summary.kind}: {summary.human_decisions} human decisions{governed}")
        if summary.skipped_invalid:
            lines.append(
                f"  {summary.skipped_invalid} requests no longer fit {summary.kind}'s fields: {summary.skipped_because}"
            )
        if not mine:
            lines += [f"  no suggestion: {summary.note}", ""]
        lines += [f"  left with people: {dropped}" for dropped in summary.dropped]
        for suggestion in mine:
            verb = "approved" if suggestion.decide == "approve" else "rejected"
            agreeing = suggestion.approved if suggestion.decide == "approve" else suggestion.rejected
            lines.append(
                f"  suggest `{suggestion.rule_id}` ({suggestion.decide}): people {verb} {agreeing} of "
                f"{suggestion.support} such requests, decided by {suggestion.approvers} approvers, median wait "
                f"{suggestion.median_wait_hours:.1f} h; it would have resolved {suggestion.coverage:.0%} of "
                "this kind's human decisions"
            )
            if suggestion.examples:
                lines.append(f"  examples: {', '.join(suggestion.shown_examples())}")
            lines += [_yaml_block(suggestion), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _yaml_block(suggestion: Suggestion) -> str:
    """The rule and its tests as YAML, indented under the suggestion; one line saying why not when
    no YAML reads back as exactly the rule (``bot.rule_yaml.NotWritable``)."""
    try:
        block = "rules:\n" + _indent(rule_yaml(suggestion))
        tests = tests_yaml(suggestion)
    except NotWritable as exc:
        return f"    ({exc})"
    block += ("tests:\n" + _indent(tests)) if tests else ""
    return _indent(block, 4).rstrip("\n")


def _indent(block: str, columns: int = 2) -> str:
    return "".join(" " * columns + line if line.strip() else line for line in block.splitlines(keepends=True))


def write_file(governance: Governance, report: SuggestionReport, path: Path, clock: SystemClock, err: TextIO) -> int:
    """Write the file in force plus ``report``'s suggestions to ``path`` once the new text loads
    without errors and passes every test in it; else one line on ``err`` and exit 1, nothing written."""
    if not report.suggestions:
        print(f"signoff suggest: no suggestion to write; {path} not written", file=err)
        return 0
    suggestions = list(report.suggestions)
    while True:
        try:
            new_text = with_suggestions(governance.source, suggestions)
            written = load_governance_text(new_text)
            break
        except SharedNode as exc:  # that kind is refused; the others are still written
            print(f"signoff suggest: {exc}", file=err)
            suggestions = [s for s in suggestions if s.kind != exc.kind]
            if not suggestions:
                print(f"signoff suggest: {path} not written", file=err)
                return 1
        except GovernanceInvalid as exc:
            first = next(p for p in exc.problems if p.severity == ERROR)
            where = first.path or "(top level)"  # its line is one of the new text, not of the file in force
            print(
                f"signoff suggest: the file with the suggestions would not load ({where}: {first.message}); "
                f"{path} not written",
                file=err,
            )
            return 1
        except ValueError as exc:
            print(f"signoff suggest: cannot add the suggestions: {exc}; {path} not written", file=err)
            return 1
    changed = [
        name
        for name in governance.kinds
        if name not in {s.kind for s in suggestions}
        and (name not in written.kinds or written.kinds[name].spec != governance.kinds[name].spec)
    ]
    if changed:  # a safety net: only the suggested kinds may change
        print(
            f"signoff suggest: writing would change kinds.{changed[0]}, which was not suggested for; "
            f"{path} not written",
            file=err,
        )
        return 1
    failed = [result for result in run_file_tests(written, now=clock.now()) if not result.passed]
    if failed:
        what = f"{failed[0].title}: {failed[0].failures[0]}"
        print(f"signoff suggest: {len(failed)} test(s) would fail ({what}); {path} not written", file=err)
        return 1
    problem = _unwritable(path)
    if problem is None:
        try:
            _atomic_write(path, new_text)
        except OSError as exc:
            problem = f"cannot write {path}: {exc.strerror or exc}"
    if problem is not None:
        print(f"signoff suggest: {problem}; nothing written", file=err)
        return 1
    print(f"wrote {path}: the file in force plus {len(suggestions)} suggested rule(s)", file=err)
    return 0


def _unwritable(path: Path) -> str | None:
    """Why ``path`` cannot be replaced by a file written next to it (one line), or None."""
    if path.exists() and not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file"
        return f"cannot write {path}: it is {what}"
    folder = path.resolve().parent
    if not folder.is_dir():
        return f"cannot write {path}: there is no folder {folder}"
    if not os.access(folder, os.W_OK):
        return f"cannot write {path}: the folder {folder} does not let a new file be made in it"
    return None


def _atomic_write(path: Path, content: str) -> None:
    """Write to a temporary file next to ``path``, flush it to disk, then rename it over ``path``:
    a reader sees the old file or the new one, never half of one. Keeps an existing file's mode."""
    folder = path.resolve().parent
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        reason = f"a temporary file cannot be made in the folder {folder} ({exc.strerror or exc})"
        raise OSError(exc.errno, reason) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
