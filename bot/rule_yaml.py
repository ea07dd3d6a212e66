"""Suggested rules written as governance-file YAML (DESIGN §8): what ``suggest --write`` adds to
the file and what the owner's **Show YAML** modal shows, the same text in both places.

An adapter (it uses PyYAML's emitter, never string templates for values, so any text a
suggestion carries is quoted as YAML needs); the domain only builds plain data
(``bot.domain.suggestions.Suggestion``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.domain.suggestions import Suggestion
from bot.governance_file import NUMBER_RESOLVERS, read_yaml

_REQUEST_ID = re.compile(r"REQ-[0-9]{1,12}", re.ASCII)


class _Flow(dict[str, Any]):
    """A mapping written on one line (``when: {amount_pct: {lte: 10}}``), as people write conditions."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)
# Text that ``signoff check``'s reader takes for a number (YAML 1.2: ``1e3``) is quoted, as YAML 1.1's is.
for _tag, _pattern, _first in NUMBER_RESOLVERS:
    _Dumper.add_implicit_resolver(_tag, _pattern, _first)


class _Quoted(_Dumper):
    """Every text double-quoted, so that a line break or a look-alike space is an escape (``\\n``)."""


_Quoted.add_representer(str, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"'))

#: How an item is tried, in order: as people write it; non-ASCII escaped; every text double-quoted
#: and escaped (``"a\\nb"``, ``"\\u2028"``).
_TRIES = ((_Dumper, False), (_Dumper, True), (_Quoted, True))

#: No line is ever folded: a long value stays on its line, so nothing of it depends on folding.
_WIDTH = 10**9
#: Characters that end a line for some reader (``str.splitlines``, YAML 1.1, editors) but "\n":
#: written as such they may read back as a space or split a value; they are written escaped.
_ODD_BREAKS = frozenset("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


class NotWritable(ValueError):
    """A suggestion that no YAML Signoff can write reads back exactly; the message names its rule."""


def _dump(data: Any, *, flow: bool = False, escaped: bool = False, dumper: type[_Dumper] = _Dumper) -> str:
    text: str = yaml.dump(
        data, Dumper=dumper, sort_keys=False, allow_unicode=not escaped, default_flow_style=flow, width=_WIDTH
    )
    return text


def _reads_back(block: str, items: list[Any]) -> bool:
    """Whether ``block`` (items of a list, as written under a key) reads back as exactly ``items``,
    with ``signoff check``'s reader, and holds no line break but "\n"."""
    if _ODD_BREAKS.intersection(block):
        return False
    try:
        data = read_yaml("key:\n" + _indent_by(block, 2))
    except ValueError:
        return False
    return isinstance(data, dict) and set(data) == {"key"} and same(data["key"], items)


def same(read: object, meant: object) -> bool:
    """``read`` is ``meant``, type for type (``True`` is not ``1``, ``"5"`` not ``5``)."""
    if isinstance(meant, Mapping):
        return (
            isinstance(read, Mapping)
            and list(read) == list(meant)
            and all(same(read[key], value) for key, value in meant.items())
        )
    if isinstance(meant, list | tuple):
        return isinstance(read, list) and len(read) == len(meant) and all(map(same, read, meant))
    return type(read) is type(meant) and read == meant


def _exact_items(items: list[Any], what: str) -> str:
    """``items`` as block-list items (``- …``), each written so that it reads back exactly: as
    people write it (``allow_unicode``), else escaped (``_TRIES``: ``"\u2028"`` in double quotes);
    ``NotWritable`` naming ``what`` when none does."""
    out = []
    for item in items:
        for dumper, escaped in _TRIES:
            text = _dump([item], escaped=escaped, dumper=dumper)
            if _reads_back(text, [item]):
                out.append(text)
                break
        else:
            raise NotWritable(f"{what} cannot be written as YAML that reads back as it is; add it by hand")
    return "".join(out)


def _flow_items(items: list[tuple[Any, str]]) -> str:
    """``items`` inside a flow list (``[a, b]``, without the brackets), each reading back exactly;
    ``NotWritable`` naming what an item is when it cannot."""
    out = []
    for item, what in items:
        for dumper, escaped in _TRIES:
            inner = _dump([item], flow=True, escaped=escaped, dumper=dumper).strip()[1:-1]
            if not _ODD_BREAKS.intersection(inner) and "\n" not in inner and _reads_back(f"- [{inner}]\n", [[item]]):
                out.append(inner)
                break
        else:
            raise NotWritable(f"{what} cannot be written as YAML that reads back as it is; add it by hand")
    return ", ".join(out)


def evidence_comment(suggestion: Suggestion) -> list[str]:
    """The evidence as YAML comment lines (``# …``), one fact per line (examples that are not request
    ids, which only a damaged value could carry, are left out: a comment holds one line)."""
    verdict = "approved" if suggestion.decide == "approve" else "rejected"
    agreeing = suggestion.approved if suggestion.decide == "approve" else suggestion.rejected
    lines = [
        f"suggested by `signoff suggest`: people {verdict} {agreeing} of {suggestion.support} such requests",
        f"decided by {suggestion.approvers} approvers; median wait {suggestion.median_wait_hours:.1f} h;",
        f"would have resolved {suggestion.coverage:.0%} of this kind's human decisions",
    ]
    examples = [e for e in suggestion.examples if _REQUEST_ID.fullmatch(e)]
    if examples:
        lines.append("examples: " + ", ".join(examples))
    return [f"# {line}" for line in lines]


def _rule_data(suggestion: Suggestion) -> dict[str, Any]:
    rule = suggestion.rule()
    rule["when"] = _Flow(rule["when"])
    return rule


def _tests_data(suggestion: Suggestion) -> list[dict[str, Any]]:
    return [{k: _Flow(v) if k in ("fields", "shadow") else v for k, v in test.items()} for test in suggestion.tests]


def _named(suggestion: Suggestion) -> str:
    return f"the suggested rule “{suggestion.rule_id}” of {suggestion.kind}"


def rule_yaml(suggestion: Suggestion) -> str:
    """The rule as one item of a kind's ``rules:`` list, preceded by its evidence comment; it reads
    back as exactly the rule (``NotWritable`` naming the rule when no YAML can say it)."""
    rule = _rule_data(suggestion)
    text = "\n".join(evidence_comment(suggestion)) + "\n" + _exact_items([rule], _named(suggestion))
    if not _reads_back(text, [rule]):  # the comment, say, ends a line early
        raise NotWritable(f"{_named(suggestion)} cannot be written as YAML that reads back as it is; add it by hand")
    return text


def tests_yaml(suggestion: Suggestion) -> str:
    """The suggestion's tests as items of a kind's ``tests:`` list ("" when it has none), each reading
    back exactly (``NotWritable`` naming the rule when one cannot)."""
    tests = _tests_data(suggestion)
    return _exact_items(tests, f"a test of {_named(suggestion)}") if tests else ""


def suggestion_yaml(suggestion: Suggestion) -> str:
    """What an owner reviews: the rule under ``rules:`` and its tests under ``tests:``, for ``kind``;
    it reads back as exactly the rule and its tests (``NotWritable`` naming the rule when not)."""
    text = f"# kind: {suggestion.kind}\nrules:\n" + _indent(rule_yaml(suggestion))
    tests = tests_yaml(suggestion)
    if tests:
        text += "tests:\n" + _indent(tests)
    meant: dict[str, Any] = {"rules": [_rule_data(suggestion)]}
    if tests:
        meant["tests"] = _tests_data(suggestion)
    try:
        read = read_yaml(text)
    except ValueError:
        read = None
    if not same(read, meant):
        raise NotWritable(f"{_named(suggestion)} cannot be written as YAML that reads back as it is; add it by hand")
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
    grouped = _by_kind(suggestions)
    for kind, group in grouped.items():
        node = _value(kinds, kind)
        if not isinstance(node, MappingNode) or node.flow_style or not node.value:
            raise ValueError(f"kinds.{kind} is not a block mapping; add the suggested rules by hand")
        _refuse_shared(source, places, node, kind)
        rules = _Items([(_rule_data(s), _named(s)) for s in group], "".join(rule_yaml(s) for s in group))
        tests = _Items(
            [(t, f"a test of {_named(s)}") for s in group for t in _tests_data(s)],
            "".join(tests_yaml(s) for s in group),
        )
        comments = [line for s in group for line in evidence_comment(s)]
        edits += _add_items(source, starts, node, f"kinds.{kind}", "rules", rules, comments, order=0)
        if tests.data:
            edits += _add_items(source, starts, node, f"kinds.{kind}", "tests", tests, [], order=1)
    text = source if source.endswith("\n") else source + "\n"
    for index, _, replacement, removed in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:index] + replacement + text[index + removed :]
    _check_added(text, grouped)
    return text


class _Items(NamedTuple):
    """Items to add to a list of a kind: each as data with what it is (for messages), and all of
    them as block-list text."""

    data: list[tuple[Any, str]]
    block: str


def _check_added(text: str, grouped: Mapping[str, list[Suggestion]]) -> None:
    """Raise ``NotWritable`` naming the first rule of a kind unless ``text`` reads back (with
    ``signoff check``'s reader) with that kind's rules and tests ending in exactly the suggested ones."""
    try:
        data = read_yaml(text)
    except ValueError:
        data = None
    kinds = data.get("kinds") if isinstance(data, dict) else None
    for kind, group in grouped.items():
        spec = kinds.get(kind) if isinstance(kinds, dict) else None
        rules = [_rule_data(s) for s in group]
        tests = [t for s in group for t in _tests_data(s)]
        read_rules = spec.get("rules") if isinstance(spec, dict) else None
        read_tests = (spec.get("tests") or []) if isinstance(spec, dict) else None
        if not (_ends_with(read_rules, rules) and _ends_with(read_tests, tests)):
            raise NotWritable(f"{_named(group[0])} cannot be added so that the file reads it back; add it by hand")


def _ends_with(read: object, items: list[Any]) -> bool:
    return isinstance(read, list) and len(read) >= len(items) and same(read[len(read) - len(items) :], items)


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
    items: _Items,
    comments: list[str],
    *,
    order: int,
) -> list[_Edit]:
    node = _value(kind, key)
    column = kind.value[0][0].start_mark.column
    if isinstance(node, SequenceNode) and node.flow_style:
        inner = _flow_items(items.data)
        close = node.end_mark.index - 1
        joint = ", " if node.value else ""
        key_node = _key(kind, key)
        line_start = starts[key_node.start_mark.line] if key_node is not None else close
        above = "".join(" " * column + line + "\n" for line in comments)
        return [(close, order, joint + inner, 0), (line_start, order, above, 0)]
    if isinstance(node, SequenceNode) and node.value:
        at = _after_line(source, starts, node)
        return [(at, order, _indent_by(items.block, _dash_column(source, starts, node)), 0)]
    if node is not None and not (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        raise ValueError(f"{where}.{key} is not a list")
    at = _after_line(source, starts, kind)
    if node is not None:  # `rules:` with nothing (or `~`, `null`) after it: the items go under it
        key_node = _key(kind, key)
        assert key_node is not None
        line = key_node.start_mark.line + 1
        at = starts[line] if line < len(starts) else len(source) + (0 if source.endswith("\n") else 1)
        removed = node.end_mark.index - node.start_mark.index
        return [(node.start_mark.index, order, "", removed), (at, order, _indent_by(items.block, column + 2), 0)]
    return [(at, order, " " * column + f"{key}:\n" + _indent_by(items.block, column + 2), 0)]


def _dash_column(source: str, starts: list[int], node: SequenceNode) -> int:
    """The column of a block list's first ``-`` (not its start mark: that is an anchor ``&a`` or a
    tag before the list when it has one)."""
    first = node.value[0].start_mark
    dash = source.rindex("-", starts[first.line] if first.column else 0, first.index + 1)
    return dash - source.rindex("\n", 0, dash) - 1


def _indent_by(text: str, columns: int) -> str:
    pad = " " * columns
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))
