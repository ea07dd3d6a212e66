"""The emulator's ``conversations.history``, and the message ``metadata`` it checks and keeps.

As Slack documents it: messages newest first, between ``oldest`` and ``latest`` (exclusive
unless ``inclusive``), at most ``limit`` (≤ 999) a page, paged with ``response_metadata.next_cursor``;
each message's ``metadata`` only when ``include_all_metadata`` is set; a file share lists its ``files``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class Posted(Protocol):
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    files: list[dict[str, Any]]


def flag(value: Any) -> bool:
    """A boolean argument as Slack reads it from a form or query string."""
    return str(value).lower() in ("1", "true")


def valid_metadata(metadata: Any) -> bool:
    """Slack's message metadata: an ``event_type`` string and an ``event_payload`` object."""
    return (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and bool(metadata["event_type"])
        and isinstance(metadata.get("event_payload"), dict)
    )


def history_page(messages: Iterable[Posted], args: dict[str, Any], *, bot_user: str) -> dict[str, Any]:
    """The answer to conversations.history over one channel's ``messages`` (any order)."""
    try:
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        limit, start = min(int(args.get("limit") or 100), 999), int(str(args.get("cursor") or "c0")[1:])
    except ValueError:
        return {"ok": False, "error": "invalid_arguments"}
    inclusive = flag(args.get("inclusive"))
    found = [m for m in messages if (oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest)]
    found.sort(key=lambda m: float(m.ts), reverse=True)
    with_metadata = flag(args.get("include_all_metadata"))
    more = start + limit < len(found)
    return {
        "ok": True,
        "messages": [_shown(m, bot_user, with_metadata) for m in found[start : start + limit]],
        "has_more": more,
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": f"c{start + limit}" if more else ""},
    }


def _shown(message: Posted, bot_user: str, with_metadata: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {"type": "message", "user": bot_user, "bot_id": "B0SIGNOFF"}
    shown |= {"text": message.text, "ts": message.ts, "blocks": message.blocks}
    if message.files:  # a file share
        shown |= {"subtype": "file_share", "upload": True, "files": message.files}
    if with_metadata and message.metadata is not None:
        shown["metadata"] = message.metadata
    return shown
