"""The Slack facet of each field type: the form element it gets and how a submitted form is read back.

The core facets of a type are in ``bot.domain.field_types``; the domain imports no Slack code, so
this second registry is keyed by the same ``FieldType`` and ``tests/unit/test_field_types.py``
checks that both cover every type. An element is built from the field's settings and a prefilled
value (typed, or text a person gave); a reader takes one element of a ``view_submission``'s
``view.state.values`` (https://api.slack.com/reference/interaction-payloads/views) and returns
the raw value ``bot.domain.fields.coerce`` reads: text, a list of option values, or a
``MachineNumber`` from a number input. Readers go by the element's type, not the field's, so a
form opened before the governance file changed is still read as it was built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from bot.domain.fields import FieldSpec, FieldType
from bot.domain.numbers import MachineNumber, is_machine_number, render_number
from bot.slack.blocks import Block, clip

#: Slack's limits: a plain_text_input's text, a select's options, an option's text and value.
MAX_INPUT_TEXT, MAX_OPTIONS, MAX_OPTION_TEXT, MAX_OPTION_VALUE = 3000, 100, 75, 150


@dataclass(frozen=True)
class SlackInput:
    """How one field type appears in a form and is read back from it."""

    #: The Block Kit element type (``number_input``, ``static_select``, …).
    element: str
    #: (field settings, prefilled value or None) → the element, without its ``action_id``.
    build: Callable[[FieldSpec, object], Block]
    #: One element of a submitted view's state → the raw value (None or "" when left empty).
    read: Callable[[Mapping[str, Any]], Any]
    #: Whether the input shows the type's description as its hint (a format Slack has no element for).
    hint: bool = False


def _initial_text(value: object) -> str:
    return "" if value is None else str(value)


def _number_input(spec: FieldSpec, value: object) -> Block:
    element: Block = {"type": "number_input", "is_decimal_allowed": not spec.integer}
    if spec.lowest is not None:
        element["min_value"] = render_number(spec.lowest)
    if spec.max is not None:
        element["max_value"] = render_number(spec.max)
    initial = _initial_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        initial = render_number(value)  # reads back as the same value (2.125 as 2.1250)
    if is_machine_number(initial, decimals=not spec.integer):
        # Slack refuses the whole view for an initial value that is not a number ("7%", "1,500"
        # typed in a command): the input then starts empty and the notice says what was wrong.
        element["initial_value"] = initial
    return element


def _option(value: str) -> Block:
    return {"text": {"type": "plain_text", "text": clip(value, MAX_OPTION_TEXT)}, "value": value[:MAX_OPTION_VALUE]}


def _as_list(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [] if value is None else [str(value)]


def _select(spec: FieldSpec, value: object) -> Block:
    options = [_option(o) for o in (spec.options or ())][:MAX_OPTIONS]
    element: Block = {"type": "static_select", "options": options}
    chosen = [o for o in options if o["value"] in _as_list(value)]
    if chosen:
        element["initial_option"] = chosen[0]
    return element


def _multi_select(spec: FieldSpec, value: object) -> Block:
    options = [_option(o) for o in (spec.options or ())][:MAX_OPTIONS]
    element: Block = {"type": "multi_static_select", "options": options}
    chosen = [o for o in options if o["value"] in _as_list(value)]
    if chosen:
        element["initial_options"] = chosen
    return element


def _yes_no(spec: FieldSpec, value: object) -> Block:
    options = [_option("yes"), _option("no")]
    element: Block = {"type": "radio_buttons", "options": options}
    initial = _initial_text(value).lower()
    if initial in ("yes", "true", "no", "false"):
        element["initial_option"] = options[0 if initial in ("yes", "true") else 1]
    return element


def _picker(element_type: str, initial_key: str, *, keep: int | None = None) -> Callable[[FieldSpec, object], Block]:
    """An element Slack has for the type (date picker, people picker, …), prefilled by ``initial_key``."""

    def build(spec: FieldSpec, value: object) -> Block:
        element: Block = {"type": element_type}
        initial = _initial_text(value)
        if initial:
            element[initial_key] = initial[:keep] if keep else initial
        return element

    return build


def _text_input(spec: FieldSpec, value: object) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": bool(spec.multiline)}
    if spec.type is FieldType.TEXT and spec.max_length:
        element["max_length"] = spec.max_length
    initial = _initial_text(value)
    if initial:
        element["initial_value"] = clip(initial, MAX_INPUT_TEXT)
    return element


def _typed(element: Mapping[str, Any]) -> Any:
    return element.get("value")


def _number(element: Mapping[str, Any]) -> Any:
    value = element.get("value")
    if isinstance(value, str) and value:
        return MachineNumber(value)  # Slack's own format, "." always the decimal mark (not typed text)
    return value


def _selected(key: str) -> Callable[[Mapping[str, Any]], Any]:
    def read(element: Mapping[str, Any]) -> Any:
        return element.get(key)

    return read


def _selected_option(element: Mapping[str, Any]) -> Any:
    option = element.get("selected_option")
    return option.get("value") if isinstance(option, Mapping) else None


def _selected_options(element: Mapping[str, Any]) -> Any:
    options = element.get("selected_options")
    return [o.get("value") for o in options if isinstance(o, Mapping)] if isinstance(options, list) else None


_TEXT = SlackInput("plain_text_input", _text_input, _typed)

#: The registry: one Slack facet per ``FieldType``, read only.
SLACK_INPUTS: Mapping[FieldType, SlackInput] = MappingProxyType(
    {
        FieldType.TEXT: _TEXT,
        FieldType.NUMBER: SlackInput("number_input", _number_input, _number),
        FieldType.MONEY: SlackInput("number_input", _number_input, _number),
        FieldType.CHOICE: SlackInput("static_select", _select, _selected_option),
        FieldType.MULTI_CHOICE: SlackInput("multi_static_select", _multi_select, _selected_options),
        FieldType.BOOL: SlackInput("radio_buttons", _yes_no, _selected_option),
        FieldType.DATE: SlackInput(
            "datepicker", _picker("datepicker", "initial_date", keep=10), _selected("selected_date")
        ),
        FieldType.DATETIME: SlackInput("plain_text_input", _text_input, _typed, hint=True),
        FieldType.DURATION: SlackInput("plain_text_input", _text_input, _typed, hint=True),
        FieldType.URL: SlackInput("url_text_input", _picker("url_text_input", "initial_value"), _typed),
        FieldType.EMAIL: SlackInput("email_text_input", _picker("email_text_input", "initial_value"), _typed),
        FieldType.USER: SlackInput("users_select", _picker("users_select", "initial_user"), _selected("selected_user")),
        FieldType.CHANNEL: SlackInput(
            "conversations_select",
            _picker("conversations_select", "initial_conversation"),
            _selected("selected_conversation"),
        ),
    }
)

#: Reader per element type; ``checkboxes`` is read like a multi-select (no type builds one today).
_READERS: Mapping[str, Callable[[Mapping[str, Any]], Any]] = {
    **{facet.element: facet.read for facet in SLACK_INPUTS.values()},
    "checkboxes": _selected_options,
}


def read_element(element: Mapping[str, Any]) -> Any:
    """The raw value of one submitted element, by its ``type``; an unknown type's ``value``."""
    return _READERS.get(str(element.get("type")), _typed)(element)


#: The action id of every field's element (a submitted form is read by block id, whatever it is).
FIELD_ACTION = "value"
#: Elements Slack lets dispatch an action as characters are typed (``dispatch_action_config``,
#: https://api.slack.com/reference/block-kit/composition-objects#dispatch_action_config); the
#: others (selects, pickers, radio buttons) dispatch when a choice is made.
TYPED_ELEMENTS = frozenset({"plain_text_input", "number_input", "url_text_input", "email_text_input"})
_ON_CHARACTER = {"trigger_actions_on": ["on_character_entered"]}


def input_element(spec: FieldSpec, value: object, *, live: bool = False) -> Block:
    """The form element for a field of ``spec``, prefilled with ``value``; ``action_id`` is ``FIELD_ACTION``.

    ``live``: a typed element dispatches a ``block_actions`` payload at each character entered or
    removed (its input block needs ``dispatch_action: true``), for the form's live preview.
    """
    element = {**SLACK_INPUTS[spec.type].build(spec, value), "action_id": FIELD_ACTION}
    if live and element["type"] in TYPED_ELEMENTS:
        element["dispatch_action_config"] = _ON_CHARACTER
    return element
