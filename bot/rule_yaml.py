"""Suggested rules written as governance-file YAML (DESIGN §8): what ``suggest --write`` adds to
the file and what the owner's **Show YAML** modal shows, the same text in both places.

An adapter (it uses PyYAML's emitter, never string templates for values, so any text a
suggestion carries is quoted as YAML needs); the domain only builds plain data
(``bot.domain.suggestions.Suggestion``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.domain.suggestions import Suggestion


class _Flow(dict[str, Any]):
    """A mapping written on one line (``when: {amount_pct: {lte: 10}}``), as people write conditions."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)


def _dump(data: Any) -> str:
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    return text


def evidence_comment(suggestion: Suggestion) -> list[str]:
    """The evidence as YAML comment lines (``# …``), one fact per line."""
    verdict = "approved" if suggestion.decide == "approve" else "rejected"
    agreeing = suggestion.approved if suggestion.decide == "approve" else suggestion.rejected
    lines = [
        f"suggested by `signoff suggest`: people {verdict} {agreeing} of {suggestion.support} such requests",
        f"decided by {suggestion.approvers} approvers; median wait {suggestion.median_wait_hours:.1f} h;",
        f"would have resolved {suggestion.coverage:.0%} of this kind's human decisions",
    ]
    if suggestion.examples:
        lines.append("examples: " + ", ".join(suggestion.shown_examples()))
    return [f"# {line}" for line in lines]


def rule_yaml(suggestion: Suggestion) -> str:
    """The rule as one item of a kind's ``rules:`` list, preceded by its evidence comment."""
    rule = suggestion.rule()
    rule["when"] = _Flow(rule["when"])
    return "\n".join(evidence_comment(suggestion)) + "\n" + _dump([rule])


def tests_yaml(suggestion: Suggestion) -> str:
    """The suggestion's tests as items of a kind's ``tests:`` list ("" when it has none)."""
    tests = [{k: _Flow(v) if k in ("fields", "shadow") else v for k, v in test.items()} for test in suggestion.tests]
    return _dump(tests) if tests else ""


def suggestion_yaml(suggestion: Suggestion) -> str:
    """What an owner reviews: the rule under ``rules:`` and its tests under ``tests:``, for ``kind``."""
    text = f"# kind: {suggestion.kind}\nrules:\n" + _indent(rule_yaml(suggestion))
    tests = tests_yaml(suggestion)
    if tests:
        text += "tests:\n" + _indent(tests)
    return text


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(keepends=True))


def with_suggestions(source: str, suggestions: Sequence[Suggestion]) -> str:
    """``source`` (a governance file's text) with each suggestion's rule and tests added to its kind.

    Nothing else of the text changes: comments, order and layout stay. Each rule goes at the end of
    its kind's ``rules:`` list and its tests at the end of ``tests:`` (positions from PyYAML's node
    marks): a block list gets block items at its own indentation, a flow list (``rules: []``) flow
    items before its ``]`` (the evidence comment then goes above the key), a kind without the key
    gets it, after its last line. Raises ``ValueError`` naming the kind when its place cannot be
    found (the file is not a mapping of kinds, or a kind is written in flow style), and
    ``SharedNode`` when the kind, its ``rules`` or its ``tests`` is one YAML node shared with another
    place (an anchor and its aliases, or a merge ``<<``): adding to it would change that place too.
    The caller loads the result and runs its tests before writing it anywhere.
    """
    root = yaml.compose(source, Loader=yaml.SafeLoader)
    kinds = _value(root, "kinds") if isinstance(root, MappingNode) else None
    if not isinstance(kinds, MappingNode):
        raise ValueError("the file has no kinds mapping")
    edits: list[_Edit] = []
    starts = _line_starts(source)
    places = _places(root) if isinstance(root, MappingNode) else {}
    for kind, group in _by_kind(suggestions).items():
        node = _value(kinds, kind)
        if not isinstance(node, MappingNode) or node.flow_style or not node.value:
            raise ValueError(f"kinds.{kind} is not a block mapping; add the suggested rules by hand")
        _refuse_shared(source, places, node, kind)
        rules = "".join(rule_yaml(s) for s in group)
        tests = "".join(tests_yaml(s) for s in group)
        comments = [line for s in group for line in evidence_comment(s)]
        edits += _add_items(source, starts, node, f"kinds.{kind}", "rules", rules, comments, order=0)
        if tests:
            edits += _add_items(source, starts, node, f"kinds.{kind}", "tests", tests, [], order=1)
    text = source if source.endswith("\n") else source + "\n"
    for index, _, replacement, removed in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:index] + replacement + text[index + removed :]
    return text


class SharedNode(ValueError):
    """The place suggest would change is one YAML node shared by several places (an anchor ``&a``
    and its aliases ``*a``, or a merge ``<<``): changing it would change the other kinds too.
    ``kind``: the kind whose suggestions cannot be written."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _places(root: Node) -> dict[int, list[str]]:
    """Every place (``kinds.discount.rules``) each node of the document appears at, in document
    order: a node reached through an alias is the anchored node itself, so it has several."""
    places: dict[int, list[str]] = {}
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
        seen = id(node) in places
        places.setdefault(id(node), []).append(where)
        if seen:
            continue
        children: list[tuple[Node, str]] = []
        if isinstance(node, MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, ScalarNode) else "?"
                children.append((value, f"{where}.{name}" if where else str(name)))
        elif isinstance(node, SequenceNode):
            children += [(item, f"{where}[{n}]") for n, item in enumerate(node.value)]
        stack += reversed(children)
    return places


def _refuse_shared(source: str, places: dict[int, list[str]], kind: MappingNode, name: str) -> None:
    """Raise ``SharedNode`` when the kind, its ``rules`` or its ``tests`` is shared with another place."""
    if _key(kind, "<<") is not None:
        raise SharedNode(
            name, f"kinds.{name} takes entries from another place through a YAML merge (<<); write these rules by hand"
        )
    for key, node in [("", kind), ("rules", _value(kind, "rules")), ("tests", _value(kind, "tests"))]:
        if node is None or len(places.get(id(node), [])) < 2:
            continue
        here = f"kinds.{name}" + (f".{key}" if key else "")
        first, *others = places[id(node)]
        anchor = re.match(r"&([^\s,\[\]{}]+)", source[node.start_mark.index :])
        through = f"the anchor &{anchor.group(1)}" if anchor else "a YAML anchor"
        line = f"line {node.start_mark.line + 1}"
        if here == first:
            raise SharedNode(
                name, f"{here} is shared with {', '.join(others)} through {through} ({line}); write these rules by hand"
            )
        raise SharedNode(name, f"{here} is an alias of {first} ({through}, {line}); write these rules by hand")


#: An edit: (offset in the text, order among edits at the same offset, text inserted, characters removed).
_Edit = tuple[int, int, str, int]


def _by_kind(suggestions: Sequence[Suggestion]) -> dict[str, list[Suggestion]]:
    grouped: dict[str, list[Suggestion]] = {}
    for suggestion in suggestions:
        grouped.setdefault(suggestion.kind, []).append(suggestion)
    return grouped


def _value(mapping: MappingNode, key: str) -> Node | None:
    return next((v for k, v in mapping.value if isinstance(k, ScalarNode) and k.value == key), None)


def _key(mapping: MappingNode, key: str) -> Node | None:
    return next((k for k, _ in mapping.value if isinstance(k, ScalarNode) and k.value == key), None)


def _line_starts(source: str) -> list[int]:
    starts = [0]
    for n, char in enumerate(source):
        if char == "\n":
            starts.append(n + 1)
    return starts


def _after_line(source: str, starts: list[int], node: Node) -> int:
    """The offset where the line after ``node``'s last character starts (its last scalar or flow
    collection: a block collection's own end mark lies at the next token, past any comments)."""
    last = node
    while isinstance(last, MappingNode | SequenceNode) and not last.flow_style and last.value:
        tail = last.value[-1]
        last = tail[1] if isinstance(tail, tuple) else tail
    end = last.end_mark
    line = end.line if end.column == 0 and end.line > last.start_mark.line else end.line + 1
    return starts[line] if line < len(starts) else len(source) + (0 if source.endswith("\n") else 1)


def _add_items(
    source: str,
    starts: list[int],
    kind: MappingNode,
    where: str,
    key: str,
    items: str,
    comments: list[str],
    *,
    order: int,
) -> list[_Edit]:
    node = _value(kind, key)
    column = kind.value[0][0].start_mark.column
    if isinstance(node, SequenceNode) and node.flow_style:
        flow = yaml.safe_dump(
            yaml.safe_load(items), default_flow_style=True, sort_keys=False, width=10**6, allow_unicode=True
        )
        inner = flow.strip()[1:-1]
        close = node.end_mark.index - 1
        joint = ", " if node.value else ""
        key_node = _key(kind, key)
        line_start = starts[key_node.start_mark.line] if key_node is not None else close
        above = "".join(" " * column + line + "\n" for line in comments)
        return [(close, order, joint + inner, 0), (line_start, order, above, 0)]
    if isinstance(node, SequenceNode) and node.value:
        at = _after_line(source, starts, node)
        return [(at, order, _indent_by(items, _dash_column(source, starts, node)), 0)]
    if node is not None and not (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        raise ValueError(f"{where}.{key} is not a list")
    at = _after_line(source, starts, kind)
    if node is not None:  # `rules:` with nothing (or `~`, `null`) after it: the items go under it
        key_node = _key(kind, key)
        assert key_node is not None
        line = key_node.start_mark.line + 1
        at = starts[line] if line < len(starts) else len(source) + (0 if source.endswith("\n") else 1)
        removed = node.end_mark.index - node.start_mark.index
        return [(node.start_mark.index, order, "", removed), (at, order, _indent_by(items, column + 2), 0)]
    return [(at, order, " " * column + f"{key}:\n" + _indent_by(items, column + 2), 0)]


def _dash_column(source: str, starts: list[int], node: SequenceNode) -> int:
    """The column of a block list's first ``-`` (not its start mark: that is an anchor ``&a`` or a
    tag before the list when it has one)."""
    first = node.value[0].start_mark
    dash = source.rindex("-", starts[first.line] if first.column else 0, first.index + 1)
    return dash - source.rindex("\n", 0, dash) - 1


def _indent_by(text: str, columns: int) -> str:
    pad = " " * columns
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))
