"""Reading ``signoff.yaml``: safe YAML, line numbers for every path, the content hash.

This is the adapter between the file on disk and ``bot.domain.governance``: the domain
validates plain data, this module supplies it together with a way to locate each path in
the file, so that every error can say which line to fix.
"""

from __future__ import annotations

import hashlib
from pathlib import Path as FilePath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.domain.governance import Governance, GovernanceInvalid, LoadProblem, Path, build_governance, format_path


def governance_version(content: bytes) -> str:
    """The governance version: sha256 of the file's bytes, so any reviewed change is a new version."""
    return hashlib.sha256(content).hexdigest()


def load_governance_text(text: str | bytes) -> Governance:
    """Parse, validate and compile a governance file's content, or raise ``GovernanceInvalid``."""
    content = text.encode() if isinstance(text, str) else text
    try:
        root = yaml.compose(content.decode("utf-8"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        raise GovernanceInvalid([LoadProblem("", "the file is not UTF-8 text")]) from None
    except yaml.YAMLError as exc:
        raise GovernanceInvalid([_yaml_problem(exc)]) from None
    if root is None:
        raise GovernanceInvalid([LoadProblem("", "the file is empty; `signoff init` writes a starter file")])
    lines: dict[Path, int] = {}
    duplicates: list[LoadProblem] = []
    _index(root, (), lines, duplicates)
    data = yaml.load(content.decode("utf-8"), Loader=yaml.SafeLoader)
    if not isinstance(data, dict):
        raise GovernanceInvalid([LoadProblem("", "the file must be a mapping with version, groups and kinds", 1)])

    def locate(path: Path) -> int | None:
        for end in range(len(path), -1, -1):
            line = lines.get(path[:end])
            if line is not None:
                return line
        return None

    try:
        governance = build_governance(
            data, version=governance_version(content), locate=locate, source=content.decode("utf-8")
        )
    except GovernanceInvalid as exc:  # a key given twice is one more problem, not the only one
        raise GovernanceInvalid([*duplicates, *exc.problems]) from None
    if duplicates:
        raise GovernanceInvalid([*duplicates, *governance.warnings])
    return governance


def load_governance_file(path: str | FilePath) -> Governance:
    """Read and load a governance file; a missing or unreadable file is a ``GovernanceInvalid`` too."""
    try:
        content = FilePath(path).read_bytes()
    except FileNotFoundError:
        raise GovernanceInvalid(
            [LoadProblem("", f"{path} does not exist; `signoff init` writes a starter file")]
        ) from None
    except OSError as exc:
        raise GovernanceInvalid([LoadProblem("", f"cannot read {path}: {exc.strerror}")]) from None
    return load_governance_text(content)


def _yaml_problem(exc: yaml.YAMLError) -> LoadProblem:
    """A YAML syntax error in plain words, at the line to fix (where a quote or bracket opened)."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    problem = str(getattr(exc, "problem", None) or exc)
    context = str(getattr(exc, "context", None) or "")
    line = problem_mark.line + 1 if problem_mark is not None else None
    opened = context_mark.line + 1 if context_mark is not None else line
    if "quoted scalar" in context and "end of stream" in problem:
        return LoadProblem("", f"a quote opened on line {opened} is never closed", opened)
    if "flow sequence" in context or "flow mapping" in context:
        bracket = "[ … ]" if "sequence" in context else "{ … }"
        return LoadProblem("", f"the {bracket} opened on line {opened} is not closed, or a comma is missing", opened)
    return LoadProblem("", _plain_yaml_message(problem, context, opened), line)


def _plain_yaml_message(problem: str, context: str, opened: int | None) -> str:
    if "'\\t'" in problem or "\t" in problem:
        return "a tab character: YAML indents with spaces only"
    if problem.startswith("mapping values are not allowed"):
        return "a mapping value is not allowed here — check the indentation or quote the value"
    if problem.startswith(("expected <block end>", "did not find expected key")) or "block" in context:
        return (
            f"the indentation does not line up with the block that starts on line {opened} — "
            "indent entries of the same mapping or list by the same number of spaces"
        )
    if problem.startswith("could not find expected ':'"):
        return "a key without a colon — write `key: value`, or quote the text"
    if problem.startswith("found undefined alias"):
        return f"{problem.removeprefix('found ')}: `*name` needs an anchor `&name` above it"
    if problem.startswith("found unknown escape character"):
        return f"{problem.removeprefix('found ')} in double quotes — use single quotes, or write \\\\ for a backslash"
    return f"not valid YAML: {problem}" + (f" ({context} on line {opened})" if context else "")


def _index(node: Node, path: Path, lines: dict[Path, int], problems: list[LoadProblem]) -> None:
    """Record the line of every path; report keys given twice (YAML would silently keep the last)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key: Any = key_node.value if isinstance(key_node, ScalarNode) else None
            if key == "<<":
                continue
            sub = (*path, key) if key is not None else path
            if key in seen:
                line = key_node.start_mark.line + 1
                problems.append(LoadProblem(format_path(sub), "is given twice; the last one would silently win", line))
            seen.add(key)
            lines[sub] = key_node.start_mark.line + 1
            _index(value_node, sub, lines, problems)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines, problems)
