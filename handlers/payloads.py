"""Reading what a listener needs from a signed Slack payload; a part missing or of the wrong shape is ``BadPayload``.

Slack sends these shapes (https://api.slack.com/reference/interaction-payloads), and the
signature says the payload came from Slack, but a payload from an older card or form, a
changed Slack, or a holder of the signing secret may still lack a part. Listeners read every
part through these functions, so a surprise is one typed error that ``handlers.guard``
answers in a sentence (and logs in one line), never a ``KeyError`` traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.domain.fields import USER_ID
from bot.domain.governance_spec import Category
from bot.domain.requests import parse_request_id
from bot.slack.blocks import parse_button_value

#: What the person reads when a form's own data is damaged: nothing was done, and how to go on.
FORM_DAMAGED = "This form lost track of what it was for; nothing was changed. Close it and start again from Slack."
CLICK_DAMAGED = "This button does not name a request Signoff can read; nothing was changed."
WHO = "Slack did not say who you are, so nothing was done; please try again."
NO_TRIGGER = "Slack sent no way to open a form here; please try again."
ODD_USER = "Slack sent a user id Signoff cannot read, so nothing was done; please try again."
ODD_TRIGGER = "Slack sent a trigger_id Signoff cannot read, so nothing was done; please try again."

#: A ``trigger_id`` or a view id: printable ASCII without spaces, at most what storage keeps as an
#: idempotency key (VARCHAR(255); a view's key is ``view:`` and its id). Slack's are about 30 characters.
TRIGGER_ID = re.compile(r"[!-~]{1,255}")
VIEW_ID = re.compile(r"[!-~]{1,64}")


class BadPayload(Exception):
    """A signed payload without a part a listener needs. ``message`` is for the person, ``detail`` for the log."""

    def __init__(self, message: str, detail: str):
        super().__init__(detail)
        self.message = message
        self.detail = detail


def dig(body: object, *keys: str) -> Any:
    """``body[k1][k2]…``, or None where a level is missing or is not an object."""
    for key in keys:
        if not isinstance(body, Mapping):
            return None
        body = body.get(key)
    return body


def text(value: object, *, what: str, message: str) -> str:
    """``value`` when it is non-empty text; else ``BadPayload`` (``what`` names the part in the log)."""
    if isinstance(value, str) and value:
        return value
    raise BadPayload(message, f"{what} is missing or not text")


def user_of(body: Mapping[str, Any]) -> str:
    """Who acts: ``user_id`` of a slash command, ``user.id`` of an interaction, ``event.user`` of an event.

    A Slack user id (``bot.domain.fields.USER_ID``), or ``BadPayload``: an id of any other shape
    (too long, a NUL, a lone surrogate) would be stored as a person, or overflow a column.
    """
    found = text(
        body.get("user_id") or dig(body, "user", "id") or dig(body, "event", "user"), what="the user", message=WHO
    )
    return _shaped(
        found, USER_ID, what="the user id", message=ODD_USER, accepted="U or W, then 2 to 20 capitals or digits"
    )


def trigger_of(body: Mapping[str, Any]) -> str:
    """The ``trigger_id`` a form is opened with (single use, valid for 3 s); ``BadPayload`` unless ``TRIGGER_ID``."""
    found = text(body.get("trigger_id"), what="trigger_id", message=NO_TRIGGER)
    return _shaped(found, TRIGGER_ID, what="trigger_id", message=ODD_TRIGGER, accepted=_ASCII_UP_TO.format(255))


def trigger_key(body: Mapping[str, Any]) -> str | None:
    """The ``trigger_id`` as an idempotency key (the same delivery twice files one request); None when absent."""
    return trigger_of(body) if body.get("trigger_id") else None


def view_id_of(view: Mapping[str, Any]) -> str:
    """A form's view id (its idempotency key is ``view:`` and the id); ``BadPayload`` unless ``VIEW_ID``."""
    found = text(view.get("id"), what="the view id", message=FORM_DAMAGED)
    return _shaped(found, VIEW_ID, what="the view id", message=FORM_DAMAGED, accepted=_ASCII_UP_TO.format(64))


_ASCII_UP_TO = "1 to {} printable ASCII characters"


def _shaped(value: str, shape: re.Pattern[str], *, what: str, message: str, accepted: str) -> str:
    if shape.fullmatch(value):
        return value
    shown = ascii(value[:40]) + ("…" if len(value) > 40 else "")
    raise BadPayload(message, f"{what} {shown} ({len(value)} characters) is not {accepted}")


def button_of(action: Mapping[str, Any]) -> tuple[int, str | None]:
    """The request id and fields hash a card's button carries (``bot.slack.blocks.button_value``)."""
    parsed = parse_button_value(action.get("value"))
    if parsed is None:
        raise BadPayload(CLICK_DAMAGED, "the button value names no request")
    return parsed


def view_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    view = body.get("view")
    if not isinstance(view, Mapping):
        raise BadPayload(FORM_DAMAGED, "the payload has no view")
    return view


def metadata_of(view: Mapping[str, Any]) -> dict[str, Any]:
    """A form's ``private_metadata`` as Signoff wrote it (a JSON object); empty when there is none."""
    raw = view.get("private_metadata") or "{}"
    try:
        metadata = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        metadata = None
    if not isinstance(metadata, dict):
        raise BadPayload(FORM_DAMAGED, "private_metadata is not a JSON object")
    return metadata


def request_in(metadata: Mapping[str, Any], key: str) -> int:
    """The request a form is about (``metadata[key]``), read by ``parse_request_id``."""
    request_id = parse_request_id(metadata.get(key))
    if request_id is None:
        raise BadPayload(FORM_DAMAGED, f"private_metadata names no request in {key!r}")
    return request_id


def category_in(metadata: Mapping[str, Any]) -> Category | None:
    """The command's category a form was opened for (``/exception`` files only exception kinds)."""
    value = metadata.get("category")
    if value in (None, ""):
        return None
    try:
        return Category(value)
    except ValueError:
        accepted = ", ".join(c.value for c in Category)
        raise BadPayload(FORM_DAMAGED, f"private_metadata names category {str(value)[:40]!r} ({accepted})") from None
