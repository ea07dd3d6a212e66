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
    if duplicates:
        raise GovernanceInvalid(duplicates)
    data = yaml.load(content.decode("utf-8"), Loader=yaml.SafeLoader)
    if not isinstance(data, dict):
        raise GovernanceInvalid([LoadProblem("", "the file must be a mapping with version, groups and kinds", 1)])

    def locate(path: Path) -> int | None:
        for end in range(len(path), -1, -1):
            line = lines.get(path[:end])
            if line is not None:
                return line
        return None

    return build_governance(data, version=governance_version(content), locate=locate, source=content.decode("utf-8"))


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
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    line = mark.line + 1 if mark is not None else None
    return LoadProblem("", f"not valid YAML: {problem}", line)


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
