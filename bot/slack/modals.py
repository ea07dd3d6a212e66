"""Block Kit views (modals): the request form, the kind picker, the reason prompt, a notice.

Pure functions from a kind's data contract (and prefilled values) to ``views.open`` /
``views.update`` payloads, within Slack's view limits. Each field type gets the element Slack
has for it (number input, select, date picker, people picker, …: its Slack facet in
``bot.slack.field_inputs``); text a person typed appears only as an input's initial value or,
in a notice, ``inert``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from bot.domain.fields import REASON_LIMIT, FieldSpec
from bot.domain.preview import Preview
from bot.slack.blocks import (
    MAX_MODAL_TITLE,
    MAX_SECTION_TEXT,
    MAX_VIEW_BLOCKS,
    PICK_KIND,
    REASON_VIEW,
    REQUEST_VIEW,
    Block,
    clip,
    inert,
    section,
)
from bot.slack.field_inputs import SLACK_INPUTS, input_element
from bot.slack.preview_blocks import NOTICE_BLOCK, preview_block


def _input(name: str, spec: FieldSpec, value: object, *, live: bool = False) -> Block:
    """One input block: the field type's element (``bot.slack.field_inputs``), its label and hint.

    ``live``: using the element dispatches a ``block_actions`` payload (the live preview)."""
    block: Block = {
        "type": "input",
        "block_id": name,
        "label": {"type": "plain_text", "text": clip(spec.display_name(name), 2000)},
        "element": input_element(spec, value, live=live),
        "optional": not spec.required,
    }
    if live:
        block["dispatch_action"] = True
    described = SLACK_INPUTS[spec.type].hint or bool(spec.percent)
    hint = spec.help or (spec.describe() + (": type 12.5 for 12.5%" if spec.percent else "") if described else None)
    if hint:
        block["hint"] = {"type": "plain_text", "text": clip(hint, 2000)}
    return block


def request_modal(
    *,
    kind: str,
    title: str,
    fields: Mapping[str, FieldSpec],
    values: Mapping[str, object] | None = None,
    metadata: Mapping[str, Any] | None = None,
    notice: str | None = None,
    preview: Preview | None = None,
    requester: str | None = None,
) -> Block:
    """The modal for one kind: one input per field of its contract, prefilled with ``values``.
    ``requester``: who opened it, kept in ``private_metadata`` as ``by`` (the preview acts only for them).

    With a ``preview``, it ends with the preview block (``bot.slack.preview_blocks``) and its
    inputs dispatch an action as they are used, so that each change updates the preview.
    """
    blocks: list[Block] = []
    if notice:
        blocks.append({**section(f":warning: {inert(notice)}"), "block_id": NOTICE_BLOCK})
    live = preview is not None
    blocks += [_input(name, spec, (values or {}).get(name), live=live) for name, spec in fields.items()]
    blocks = blocks[: MAX_VIEW_BLOCKS - 1]
    if preview is not None:
        blocks.append(preview_block(preview))
    return {
        "type": "modal",
        "callback_id": REQUEST_VIEW,
        "title": {"type": "plain_text", "text": clip(title, MAX_MODAL_TITLE)},
        "submit": {"type": "plain_text", "text": "Submit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(
            {"kind": kind, **({"by": requester} if requester else {}), **(metadata or {})}, separators=(",", ":")
        ),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def notice_view(text: str, *, mrkdwn: bool = False) -> Block:
    """A modal that only says ``text`` (plain unless ``mrkdwn``), with a Done button: a form's last word."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Signoff"},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn" if mrkdwn else "plain_text", "text": clip(text, MAX_SECTION_TEXT)},
            }
        ],
    }


def kind_picker_modal(kinds: Iterable[tuple[str, str]], *, metadata: Mapping[str, Any] | None = None) -> Block:
    """Pick a kind first; choosing one replaces this view with that kind's form."""
    options = [{"text": {"type": "plain_text", "text": clip(title, 75)}, "value": name} for name, title in kinds][:100]
    return {
        "type": "modal",
        "callback_id": REQUEST_VIEW,
        "title": {"type": "plain_text", "text": "New request"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"kind": None, **(metadata or {})}, separators=(",", ":")),
        "blocks": [
            {
                "type": "section",
                "block_id": "kind",
                "text": {"type": "mrkdwn", "text": "What do you need decided?"},
                "accessory": {"type": "static_select", "action_id": PICK_KIND, "options": options},
            }
        ],
    }


def reason_modal(*, verdict: str, request_id: int, ref: str, fields_hash: str | None) -> Block:
    """Reject, or ask for changes: a required reason before anything is recorded."""
    rejecting = verdict == "reject"
    return {
        "type": "modal",
        "callback_id": REASON_VIEW,
        "title": {
            "type": "plain_text",
            "text": clip(f"{'Reject' if rejecting else 'Changes to'} {ref}", MAX_MODAL_TITLE),
        },
        "submit": {"type": "plain_text", "text": "Reject" if rejecting else "Send back"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"r": request_id, "h": fields_hash, "verdict": verdict}, separators=(",", ":")),
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why?" if rejecting else "What needs to change?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": REASON_LIMIT,
                },
            }
        ],
    }
