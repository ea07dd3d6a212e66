"""What the Slack emulator checks and records: calls, faults, messages, the published method list,
Block Kit limits, and how a Web API request body is read. Used by ``bot.slack.emulator``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "files")
#: Methods Slack added after the published description was made (2020), with their required arguments.
NEWER_METHODS: dict[str, frozenset[str]] = {
    "apps.connections.open": frozenset(),
    # The upload flow of ``files_upload_v2`` (bot.slack.emulator_files); files.upload is being retired.
    "files.getUploadURLExternal": frozenset({"filename", "length"}),
    "files.completeUploadExternal": frozenset({"files"}),
}


@dataclass(frozen=True)
class Call:
    """One Web API call as the emulator received it (arguments decoded) and answered it."""

    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None = None
    status: int = 200

    @property
    def event_type(self) -> str:
        """The ``event_type`` of the ``metadata`` the call carried (a post's kind); "" without."""
        metadata = self.args.get("metadata")
        return str(metadata.get("event_type", "")) if isinstance(metadata, dict) else ""


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    updates: int = 0
    metadata: dict[str, Any] | None = None
    #: A file share's files, as conversations.history lists them (``{"id", "name", "title", "size"}``).
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def event_type(self) -> str:
        """The ``event_type`` of the message's metadata (``signoff_card``, ``signoff_digest``, …); "" without."""
        return str((self.metadata or {}).get("event_type", ""))


@cache
def web_api_methods() -> dict[str, frozenset[str]]:
    """Method name → its required arguments (besides ``token``), from Slack's Web API description."""
    spec_file = resources.files("bot.slack") / "spec" / "slack_web_openapi_v2.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    methods: dict[str, frozenset[str]] = {}
    for path, operations in spec["paths"].items():
        required: set[str] = set()
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("required") and parameter.get("name") != "token":
                    required.add(parameter["name"])
        methods[path.lstrip("/")] = frozenset(required)
    return {**NEWER_METHODS, **methods}


def call_block_problems(args: dict[str, Any]) -> list[str]:
    """What Slack would refuse in a call's ``blocks`` (a message) or ``view`` (a modal or Home)."""
    problems: list[str] = []
    if isinstance(args.get("blocks"), list):
        problems += block_problems(args["blocks"], limit=50)
    view = args.get("view")
    if isinstance(view, dict):
        problems += block_problems(view.get("blocks", []), limit=100)
        title = view.get("title", {}).get("text", "")
        if len(title) > 24:
            problems.append(f"view title of {len(title)} characters (at most 24)")
    return problems


def block_problems(blocks: list[Any], *, limit: int) -> list[str]:
    """What Slack would refuse in ``blocks``; empty when they are valid as far as we check."""
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks (at most {limit})")
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"block {index} has no type")
            continue
        text = block.get("text")
        if block["type"] == "section" and isinstance(text, dict) and len(text.get("text", "")) > 3000:
            problems.append(f"block {index}: section text of {len(text['text'])} characters (at most 3000)")
        if block["type"] == "section" and len(block.get("fields", [])) > 10:
            problems.append(f"block {index}: more than 10 section fields")
        for element in _elements(block):
            if element.get("type") == "button" and len(element.get("text", {}).get("text", "")) > 75:
                problems.append(f"block {index}: button text over 75 characters")
            if element.get("type") == "button" and len(str(element.get("value", ""))) > 2000:
                problems.append(f"block {index}: button value over 2000 characters")
            if len(str(element.get("action_id", ""))) > 255:
                problems.append(f"block {index}: action_id over 255 characters")
    return problems


def _elements(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("elements", "accessory", "element"):
        value = block.get(key)
        if isinstance(value, dict):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, dict))


def decode_body(body: bytes, content_type: str, query: str) -> dict[str, Any]:
    args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
    if body:
        if "json" in content_type:
            decoded = json.loads(body.decode() or "{}")
            if isinstance(decoded, dict):
                args.update(decoded)
        else:
            args.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
    for name in JSON_FIELDS:
        if isinstance(args.get(name), str):
            with contextlib.suppress(ValueError):
                args[name] = json.loads(args[name])
    return args
