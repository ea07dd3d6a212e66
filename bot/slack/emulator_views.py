"""Modals as Slack keeps them, for the emulator: each open view with its ``hash`` and the state of its inputs.

As Slack documents it (https://api.slack.com/methods/views.update, https://api.slack.com/surfaces/modals):

- ``views.open`` / ``views.push`` give a view an id and a ``hash``; every ``views.update`` gives it a
  new ``hash``. An update that names a ``hash`` other than the current one is refused with
  ``hash_conflict`` and changes nothing (so a stale update never overwrites a newer view); one
  without ``hash`` always applies. An unknown ``view_id`` is ``not_found``.
- What a person entered in an input is kept across an update when the new view has an input
  block with the same ``block_id`` whose element has the same ``action_id``; other inputs start
  from their element's ``initial_*`` value.
- The view a payload carries (``block_actions`` from a modal, ``view_submission``) has its id,
  ``hash``, ``state.values`` (block id → action id → the element's type and value), blocks,
  ``callback_id`` and ``private_metadata``.

A test acts as the person: ``enter`` types or picks a value in an input and returns the
``block_actions`` payload Slack would send (when the input block has ``dispatch_action``; the
state changes either way), ``submission`` the ``view_submission`` payload of the view as it is.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

View = dict[str, Any]

#: Where each element type keeps its value in ``state.values``, and which ``initial_*`` fills it.
_STATE_KEYS = {
    "plain_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "static_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "multi_static_select": ("selected_options", "initial_options"),
    "checkboxes": ("selected_options", "initial_options"),
    "datepicker": ("selected_date", "initial_date"),
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
}


class UnknownInput(LookupError):
    """A test entered a value in an input the view does not have."""


class ModalViews:
    """The modals the emulator opened, by view id; thread-safe."""

    def __init__(self) -> None:
        self.views: dict[str, View] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._hashes = itertools.count(1)

    def open(self, view: View) -> View:
        """A new view (``views.open`` / ``views.push``): its id, first hash and initial state."""
        with self._lock:
            view_id = f"V{next(self._ids):08d}"
            shown = {**copy.deepcopy(view), "id": view_id, "hash": self._hash()}
            shown["state"] = {"values": _state(shown, {})}
            self.views[view_id] = shown
            return copy.deepcopy(shown)

    def update(self, view_id: str, view: View, seen_hash: str | None) -> tuple[View | None, str | None]:
        """``views.update``: (the new view, None), or (None, Slack's error) with nothing changed."""
        with self._lock:
            current = self.views.get(view_id)
            if current is None:
                return None, "not_found"
            if seen_hash is not None and seen_hash != current["hash"]:
                return None, "hash_conflict"
            shown = {**copy.deepcopy(view), "id": view_id, "hash": self._hash()}
            shown["state"] = {"values": _state(shown, current["state"]["values"])}
            self.views[view_id] = shown
            return copy.deepcopy(shown), None

    def enter(self, view_id: str, block_id: str, value: Any, *, user: str) -> dict[str, Any] | None:
        """The person sets input ``block_id`` to ``value`` (text for a text or number input, an
        option's value for a select or radio buttons, a list of them for a multi-select, a date,
        user or channel id for a picker; None empties it). Returns the ``block_actions`` payload
        Slack sends for it, or None when it sends none: the input block has no ``dispatch_action``,
        or its typed element dispatches only when Enter is pressed (no ``on_character_entered``)."""
        with self._lock:
            view = self.views[view_id]
            block, element = _input(view, block_id)
            kind = str(element.get("type"))
            key = _STATE_KEYS.get(kind, ("value", "initial_value"))[0]
            entered = _entered(element, key, value)
            state = view["state"]["values"].setdefault(block_id, {})
            state[str(element.get("action_id"))] = {"type": kind, key: entered}
            action = {
                "type": kind,
                "block_id": block_id,
                "action_id": element.get("action_id"),
                key: entered,
                "action_ts": f"{time.time():.6f}",
            }
            if not _dispatches(block, element):
                return None
            return {
                "type": "block_actions",
                "user": {"id": user},
                "container": {"type": "view", "view_id": view_id},
                "view": copy.deepcopy(view),
                "actions": [action],
            }

    def submission(self, view_id: str, *, user: str) -> dict[str, Any]:
        """The ``view_submission`` payload of the view as the person sees it now."""
        with self._lock:
            return {"type": "view_submission", "user": {"id": user}, "view": copy.deepcopy(self.views[view_id])}

    def _hash(self) -> str:
        return f"{int(time.time())}.{next(self._hashes):07d}"


def _inputs(view: View) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for block in view.get("blocks") or []:
        element = block.get("element") if isinstance(block, dict) and block.get("type") == "input" else None
        if isinstance(element, dict) and isinstance(block.get("block_id"), str):
            yield block, element


def _input(view: View, block_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for block, element in _inputs(view):
        if block["block_id"] == block_id:
            return block, element
    raise UnknownInput(f"view {view.get('id')} has no input block {block_id!r}")


#: Elements whose ``dispatch_action_config`` says when typing dispatches (default: Enter pressed).
_TYPED = frozenset({"plain_text_input", "number_input", "url_text_input", "email_text_input"})


def _dispatches(block: dict[str, Any], element: dict[str, Any]) -> bool:
    if not block.get("dispatch_action"):
        return False
    if element.get("type") not in _TYPED:
        return True  # a choice made in a select, picker or radio buttons
    triggers = (element.get("dispatch_action_config") or {}).get("trigger_actions_on") or ["on_enter_pressed"]
    return "on_character_entered" in triggers


def _state(view: View, before: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each input's state: what was entered before, kept when its block id and action id are the
    same; else its element's initial value."""
    values: dict[str, dict[str, Any]] = {}
    for block, element in _inputs(view):
        action_id = str(element.get("action_id"))
        kept = before.get(block["block_id"], {}).get(action_id)
        if kept is not None:
            values[block["block_id"]] = {action_id: copy.deepcopy(kept)}
            continue
        kind = str(element.get("type"))
        key, initial = _STATE_KEYS.get(kind, ("value", "initial_value"))
        values[block["block_id"]] = {action_id: {"type": kind, key: copy.deepcopy(element.get(initial))}}
    return values


def _entered(element: dict[str, Any], key: str, value: Any) -> Any:
    """``value`` as the element's state holds it: options as the element lists them."""
    if value is None or key not in ("selected_option", "selected_options"):
        return value
    options = {o.get("value"): o for o in element.get("options") or [] if isinstance(o, dict)}
    if key == "selected_option":
        return copy.deepcopy(options[value])
    return [copy.deepcopy(options[v]) for v in value]
