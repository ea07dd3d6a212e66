"""Block Kit views (modals): the request form, the kind picker, the reason prompt, a notice.

Pure functions from a kind's data contract (and prefilled values) to ``views.open`` /
``views.update`` payloads, within Slack's view limits. Each field type gets the element Slack
has for it (number input, select, date picker, people picker, …); text a person typed appears
only as an input's initial value or, in a notice, ``inert``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from bot.domain.fields import REASON_LIMIT, FieldSpec, FieldType
from bot.domain.numbers import is_machine_number, render_number
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

#: Field types with a Slack element of their own: (element type, the key of its initial value).
_PICKERS: dict[FieldType, tuple[str, str]] = {
    FieldType.DATE: ("datepicker", "initial_date"),
    FieldType.USER: ("users_select", "initial_user"),
    FieldType.CHANNEL: ("conversations_select", "initial_conversation"),
    FieldType.URL: ("url_text_input", "initial_value"),
    FieldType.EMAIL: ("email_text_input", "initial_value"),
}


def _input(name: str, spec: FieldSpec, value: object, *, optional_hint: bool = True) -> Block:
    label = clip(spec.display_name(name), 2000)
    element: Block
    initial = "" if value is None else str(value)
    match spec.type:
        case FieldType.NUMBER | FieldType.MONEY:
            element = {"type": "number_input", "is_decimal_allowed": not spec.integer}
            if spec.lowest is not None:
                element["min_value"] = render_number(spec.lowest)
            if spec.max is not None:
                element["max_value"] = render_number(spec.max)
            if isinstance(value, int | float) and not isinstance(value, bool):
                initial = render_number(value)  # reads back as the same value (2.125 as 2.1250)
            if is_machine_number(initial, decimals=not spec.integer):
                # Slack refuses the whole view for an initial value that is not a number ("7%", "1,500"
                # typed in a command): the input then starts empty and the notice says what was wrong.
                element["initial_value"] = initial
        case FieldType.CHOICE | FieldType.MULTI_CHOICE:
            options = [_option(o) for o in (spec.options or ())][:100]
            multi = spec.type is FieldType.MULTI_CHOICE
            element = {"type": "multi_static_select" if multi else "static_select", "options": options}
            chosen = [o for o in options if o["value"] in _as_list(value)]
            if chosen:
                element["initial_options" if multi else "initial_option"] = chosen if multi else chosen[0]
        case FieldType.BOOL:
            options = [_option("yes"), _option("no")]
            element = {"type": "radio_buttons", "options": options}
            if initial.lower() in ("yes", "true", "no", "false"):
                element["initial_option"] = options[0 if initial.lower() in ("yes", "true") else 1]
        case FieldType.DATE | FieldType.USER | FieldType.CHANNEL | FieldType.URL | FieldType.EMAIL:
            element_type, initial_key = _PICKERS[spec.type]
            element = {"type": element_type}
            if initial:
                element[initial_key] = initial[:10] if spec.type is FieldType.DATE else initial
        case _:
            element = {"type": "plain_text_input", "multiline": bool(spec.multiline)}
            if spec.type is FieldType.TEXT and spec.max_length:
                element["max_length"] = spec.max_length
            if initial:
                element["initial_value"] = clip(initial, 3000)
    element["action_id"] = "value"
    block: Block = {
        "type": "input",
        "block_id": name,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": not spec.required,
    }
    described = spec.type in (FieldType.DATETIME, FieldType.DURATION) or bool(spec.percent)
    hint = spec.help or (spec.describe() + (": type 12.5 for 12.5%" if spec.percent else "") if described else None)
    if hint:
        block["hint"] = {"type": "plain_text", "text": clip(hint, 2000)}
    return block


def _option(value: str) -> Block:
    return {"text": {"type": "plain_text", "text": clip(value, 75)}, "value": value[:150]}


def _as_list(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [] if value is None else [str(value)]


def request_modal(
    *,
    kind: str,
    title: str,
    fields: Mapping[str, FieldSpec],
    values: Mapping[str, object] | None = None,
    metadata: Mapping[str, Any] | None = None,
    notice: str | None = None,
) -> Block:
    """The modal for one kind: one input per field of its contract, prefilled with ``values``."""
    blocks: list[Block] = []
    if notice:
        blocks.append(section(f":warning: {inert(notice)}"))
    blocks += [_input(name, spec, (values or {}).get(name)) for name, spec in fields.items()]
    return {
        "type": "modal",
        "callback_id": REQUEST_VIEW,
        "title": {"type": "plain_text", "text": clip(title, MAX_MODAL_TITLE)},
        "submit": {"type": "plain_text", "text": "Submit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"kind": kind, **(metadata or {})}, separators=(",", ":")),
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
