"""Reading ``signoff.yaml``: safe YAML, line numbers for every path, the content hash.

This is the adapter between the file on disk and ``bot.domain.governance``: the domain
validates plain data, this module supplies it together with a way to locate each path in
the file, so that every error can say which line to fix.

Limits, so that no file can exhaust memory, time or the stack of ``check`` or ``serve``; each
one is reported as a located problem like any other mistake in the file. Measured together with
``MAX_RULES`` (``bot.domain.governance_spec``), the largest file they let through loads in about
3 s and 120–170 MB (one core); the 4 MiB files they now refuse took 28 s and 770 MB:

- ``MAX_FILE_BYTES``: a governance file is at most 1 MiB — 2,000 rules written out in block style
  with a sentence of reason each are ~400 KiB; a larger file is refused before it is read.
- ``MAX_VALUES``: at most 60,000 values (each key, text, number, list and mapping counts), those
  YAML aliases (``*name``) add once expanded included — what costs time is the number of
  values, not bytes; a "billion laughs" file needs far more. An alias inside the value it names
  is refused.
- ``MAX_DEPTH``: mappings and lists nest at most 64 levels (a real file nests about 10), what an
  alias names counted at the alias's place.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path as FilePath
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.domain.governance import Governance, GovernanceInvalid, LoadProblem, Path, format_path
from bot.domain.governance_build import build_governance
from bot.domain.json_values import JsonNumber
from bot.domain.numbers import NumberRules, parse_number

#: The largest governance file Signoff reads.
MAX_FILE_BYTES = 1024 * 1024
#: How deeply mappings and lists may nest in the file.
MAX_DEPTH = 64
#: How many values the file may hold, with what YAML aliases add once expanded.
MAX_VALUES = 60_000


class _Limit(Exception):
    """A limit of the reader was reached at ``line``; ``message`` says which and what to do."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


#: YAML 1.2 core schema numbers (https://yaml.org/spec/1.2.2/#1032-tag-resolution): decimal
#: integers and plain floats. YAML 1.1 also reads 010 as 8 (octal), 1:30 as 90 (base 60),
#: 0x1F as 31 and 5_0 as 50; here those stay text, which a number field then refuses.
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
#: Tags that build something other than text, numbers, lists and mappings (bytes, sets, pairs).
_REFUSED_TAGS = {f"tag:yaml.org,2002:{name}": name for name in ("binary", "set", "omap", "pairs")}


class _BoundedLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses, while composing, nesting deeper than ``MAX_DEPTH`` (aliases
    included: the depth is that of the expanded file), more than ``MAX_VALUES`` values (aliases
    expanded), aliases into themselves, and the tags in ``_REFUSED_TAGS``; numbers
    are resolved by the YAML 1.2 core schema."""

    yaml_implicit_resolvers = {  # noqa: RUF012  # PyYAML reads this class attribute; each loader class owns its copy
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._values = 0
        #: Every composed node's size once its aliases are expanded, by ``id``.
        self._sizes: dict[int, int] = {}
        #: Every composed node's height (1 for a scalar), by ``id``: an alias nests that deep.
        self._heights: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None and id(target) not in self._sizes:
                raise _Limit(line, f"the alias *{event.anchor} is inside the value it names: YAML cannot expand it")
            node = super().compose_node(parent, index)  # type: ignore[arg-type]
            if node is not None and self._depth + self._heights[id(node)] > MAX_DEPTH:
                raise _Limit(line, _TOO_DEEP)
            self._values += self._sizes[id(node)] if node is not None else 0
            if self._values > MAX_VALUES:
                raise _Limit(
                    line,
                    f"too many values: expanding the alias *{event.anchor} here brings the file past "
                    f"{MAX_VALUES:,} values; use fewer aliases",
                )
            return node
        self._values += 1
        if self._values > MAX_VALUES:
            raise _Limit(line, f"too many values: the file holds more than {MAX_VALUES:,} here; split or shorten it")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Limit(line, _TOO_DEEP)
        node = super().compose_node(parent, index)  # type: ignore[arg-type]
        self._depth -= 1
        if node is not None:
            children = _children(node)
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in children)
            self._heights[id(node)] = 1 + max((self._heights.get(id(child), 1) for child in children), default=0)
            misread = _misread_number(node)
            if misread is not None:
                raise _Limit(line, misread)
            refused = _REFUSED_TAGS.get(node.tag)
            if refused is not None:
                raise _Limit(
                    line, f"the YAML tag !!{refused} is not allowed: write plain text, numbers, lists and mappings"
                )
        return node


_TOO_DEEP = (
    f"mappings and lists nest deeper than {MAX_DEPTH} levels here (aliases count as what they name); flatten the file"
)
#: How this reader tells numbers from text (tag, pattern, first characters): a writer adds them to
#: its own so that it quotes any text this reader would take for a number (``bot.rule_yaml``).
NUMBER_RESOLVERS = ((_INT_TAG, _INT, list("-+0123456789")), (_FLOAT_TAG, _FLOAT, list("-+0123456789.")))
for _tag, _pattern, _first in NUMBER_RESOLVERS:
    _BoundedLoader.add_implicit_resolver(_tag, _pattern, _first)


#: A YAML float written with digits (not .inf / .nan), the form the strict number reader must see.
_DIGITS_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+|.*[eE].*")


def _misread_number(node: Node) -> str | None:
    """Why a float literal of the file cannot be read without guessing (``1.500``, ``1e3``, 16+ digits), or None.

    The same reader as every value (``bot.domain.numbers``): YAML would take ``2.000`` as 2.0
    where its author may have meant 2000 (README "Values are never guessed").
    """
    if not isinstance(node, ScalarNode) or node.tag != _FLOAT_TAG or not _DIGITS_FLOAT.fullmatch(node.value):
        return None
    try:
        parse_number(JsonNumber(node.value), NumberRules())
    except ValueError as exc:
        return str(exc)
    return None


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def governance_version(content: bytes) -> str:
    """The governance version: sha256 of the file's bytes, so any reviewed change is a new version."""
    return hashlib.sha256(content).hexdigest()


def load_governance_text(text: str | bytes) -> Governance:
    """Parse, validate and compile a governance file's content, or raise ``GovernanceInvalid``."""
    content = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if len(content) > MAX_FILE_BYTES:
        raise GovernanceInvalid([_too_large(len(content))])
    try:
        source = content.decode("utf-8")
    except UnicodeDecodeError:
        raise GovernanceInvalid([LoadProblem("", "the file is not UTF-8 text")]) from None
    try:
        root = _compose(source)
    except _Limit as exc:
        raise GovernanceInvalid([LoadProblem("", exc.message, exc.line)]) from None
    except yaml.YAMLError as exc:
        found = _quote_read_too_far(source, exc) or _bracket_open_at_end(source, exc) or _yaml_problem(exc)
        raise GovernanceInvalid([found]) from None
    except Exception as exc:  # whatever the reader raises is a problem of the file, not a crash
        raise GovernanceInvalid([LoadProblem("", f"not valid YAML: {exc}")]) from None
    if root is None:
        raise GovernanceInvalid([LoadProblem("", "the file is empty; `signoff init` writes a starter file")])
    lines: dict[Path, int] = {}
    duplicates: list[LoadProblem] = []
    _index(root, (), lines, duplicates)
    data = _construct(root)
    if not isinstance(data, dict):
        raise GovernanceInvalid([LoadProblem("", "the file must be a mapping with version, groups and kinds", 1)])

    def locate(path: Path) -> int | None:
        for end in range(len(path), -1, -1):
            line = lines.get(path[:end])
            if line is not None:
                return line
        return None

    try:
        governance = build_governance(data, version=governance_version(content), locate=locate, source=source)
    except GovernanceInvalid as exc:  # a key given twice is one more problem, not the only one
        raise GovernanceInvalid([*duplicates, *exc.problems]) from None
    if duplicates:
        raise GovernanceInvalid([*duplicates, *governance.warnings])
    return governance


def read_yaml(text: str) -> object:
    """The plain data of ``text`` as ``signoff check`` reads a governance file (the same reader,
    limits and YAML 1.2 numbers), for a writer to confirm that what it wrote reads back as it
    meant; ``ValueError`` saying why when it cannot be read."""
    try:
        root = _compose(text)
    except _Limit as exc:
        raise ValueError(exc.message) from None
    except Exception as exc:  # whatever the reader raises means: not readable
        raise ValueError(f"not valid YAML: {exc}") from None
    if root is None:
        return None
    try:
        return _construct(root)
    except GovernanceInvalid as exc:
        raise ValueError(str(exc.problems[0])) from None


def _compose(source: str) -> Node | None:
    loader = _BoundedLoader(source)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _too_large(size: int) -> LoadProblem:
    """``size`` as the file system reports it (0 for a pipe or a device, which never end)."""
    if size <= MAX_FILE_BYTES:
        return LoadProblem(
            "", f"the file is larger than 1 MiB ({MAX_FILE_BYTES:,} bytes), the most a governance file may be"
        )
    return LoadProblem("", f"the file is {size:,} bytes; a governance file is at most 1 MiB ({MAX_FILE_BYTES:,} bytes)")


def load_governance_file(path: str | FilePath) -> Governance:
    """Read and load a governance file; a missing, unreadable, oversized or not regular file (a
    FIFO, a device, a socket, a directory: reading one could block forever) is a
    ``GovernanceInvalid`` too, and is refused without blocking."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise GovernanceInvalid([_not_regular(path)])
        # O_NONBLOCK: should a FIFO replace the file between the check and the open, open does not wait.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise GovernanceInvalid([_not_regular(path)])
            content = file.read(MAX_FILE_BYTES + 1)  # never more: a huge file is refused unread
            if len(content) > MAX_FILE_BYTES:
                raise GovernanceInvalid([_too_large(os.fstat(file.fileno()).st_size)])
    except FileNotFoundError:
        raise GovernanceInvalid(
            [LoadProblem("", f"{path} does not exist; `signoff init` writes a starter file")]
        ) from None
    except OSError as exc:
        raise GovernanceInvalid([LoadProblem("", f"cannot read {path}: {exc.strerror}")]) from None
    return load_governance_text(content)


def _not_regular(path: str | FilePath) -> LoadProblem:
    return LoadProblem("", f"{path} is not a regular file (a FIFO, device, socket or directory); point to a YAML file")


def _construct(root: Node) -> object:
    """The plain data of a composed file; a value YAML cannot build (a tag such as ``!foo``, a date
    such as 2024-02-30) is a ``GovernanceInvalid`` at its line."""
    try:
        return yaml.SafeLoader("").construct_document(root)
    except Exception:
        raise GovernanceInvalid([_bad_value(root)]) from None


def _bad_value(root: Node) -> LoadProblem:
    for node in _nodes(root):
        try:
            yaml.SafeLoader("").construct_object(node, deep=True)
        except Exception as exc:
            return _value_problem(node, exc)
    return LoadProblem("", "not valid YAML: a value cannot be read", root.start_mark.line + 1)


def _nodes(node: Node) -> list[Node]:
    """Every node under ``node``, innermost first, so the first failure is the value to fix."""
    children: list[Node] = []
    if isinstance(node, MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, SequenceNode):
        children = list(node.value)
    return [*(n for child in children for n in _nodes(child)), node]


def _value_problem(node: Node, exc: Exception) -> LoadProblem:
    line = node.start_mark.line + 1
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    if isinstance(exc, yaml.constructor.ConstructorError) and "could not determine a constructor" in str(exc):
        return LoadProblem(
            "", f"the YAML tag {tag} is not allowed: write plain values (quote text that starts with !)", line
        )
    detail = getattr(exc, "problem", None) or exc
    if not isinstance(node, ScalarNode):
        shape = "a mapping" if isinstance(node, MappingNode) else "a list"
        return LoadProblem("", f"{shape} cannot be read as {tag.lstrip('!')}: remove the tag {tag}", line)
    return LoadProblem(
        "", f"“{node.value}” cannot be read as {tag.lstrip('!')}: {detail} — quote it to keep it as text", line
    )


_STRUCTURE = re.compile(r"^\s*(- |[A-Za-z0-9_-]+:(\s|$))")


def _quote_read_too_far(source: str, exc: yaml.YAMLError) -> LoadProblem | None:
    """An unclosed quote that a later quote closes: YAML reads the lines between as one text and
    fails further down. The fix is on the line where the first such quote opened."""
    mark = getattr(exc, "problem_mark", None)
    failed_at = mark.line if mark is not None else len(source)
    lines = source.splitlines()
    try:
        for token in yaml.scan(source, Loader=yaml.SafeLoader):
            if not isinstance(token, yaml.ScalarToken) or token.style not in ('"', "'"):
                continue
            first, last = token.start_mark.line, token.end_mark.line
            if first >= failed_at:
                return None
            if last > first and any(_STRUCTURE.match(line) for line in lines[first + 1 : last + 1]):
                return LoadProblem(
                    "",
                    f"a quote opened on line {first + 1} is never closed "
                    f"(YAML reads on to the quote on line {last + 1})",
                    first + 1,
                )
    except yaml.YAMLError:
        return None
    return None


def _bracket_open_at_end(source: str, exc: yaml.YAMLError) -> LoadProblem | None:
    """A ``[`` or ``{`` the file ends inside: PyYAML fails at the end of the stream ("expected the
    node content, but found '<stream end>'"), on the line after the last. The fix is on the line
    where the innermost open bracket opened."""
    if "<stream end>" not in str(getattr(exc, "problem", None) or ""):
        return None
    opened: list[tuple[str, int]] = []
    try:
        for token in yaml.scan(source, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.FlowSequenceStartToken | yaml.FlowMappingStartToken):
                bracket = "[ … ]" if isinstance(token, yaml.FlowSequenceStartToken) else "{ … }"
                opened.append((bracket, token.start_mark.line + 1))
            elif isinstance(token, yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken) and opened:
                opened.pop()
    except yaml.YAMLError:
        pass  # the tokens read so far tell which brackets are open
    if not opened:
        return None
    bracket, line = opened[-1]
    return LoadProblem("", f"the {bracket} opened on line {line} is not closed: the file ends inside it", line)


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
