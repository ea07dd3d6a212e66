"""Buttons and forms: Approve / Reject / Ask for changes / Amend, the kind picker, and modal submissions."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain.contracts import ContractError
from bot.domain.errors import SignoffError
from bot.domain.governance import UnknownKind
from bot.domain.governance_spec import Category
from bot.domain.routing import Verdict
from bot.services.amend import amend_request
from bot.services.decide import check_may_decide, decide_request
from bot.services.runtime import Runtime
from bot.services.status import request_status
from bot.services.submit import submit_request
from bot.slack import blocks
from bot.slack.blocks import parse_button_value, reason_modal, request_modal
from handlers.guard import GuardedApp
from handlers.refusals import refusal_plain, refusal_text
from handlers.replies import submission_reply

log = logging.getLogger(__name__)


def register(app: GuardedApp, runtime: Runtime) -> None:
    @app.action(blocks.APPROVE)
    def approve(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        request_id, seen = parse_button_value(action["value"])
        try:
            decide_request(
                runtime=runtime,
                request_id=request_id,
                voter=body["user"]["id"],
                verdict=Verdict.APPROVE,
                seen_fields_hash=seen,
            )
        except SignoffError as exc:
            respond(text=refusal_text(exc), response_type="ephemeral", replace_original=False)

    def ask_reason(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        request_id, seen = parse_button_value(action["value"])
        try:  # refuse now, not after they typed a reason
            check_may_decide(runtime=runtime, request_id=request_id, voter=body["user"]["id"], seen_fields_hash=seen)
        except SignoffError as exc:
            respond(text=refusal_text(exc), response_type="ephemeral", replace_original=False)
            return
        verdict = "reject" if action["action_id"] == blocks.REJECT else "changes"
        client.views_open(
            trigger_id=body["trigger_id"],
            view=reason_modal(verdict=verdict, request_id=request_id, ref=f"REQ-{request_id}", fields_hash=seen),
        )

    app.action(blocks.REJECT)(ask_reason)
    app.action(blocks.CHANGES)(ask_reason)

    @app.action(blocks.AMEND)
    def amend(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        request_id, _ = parse_button_value(action["value"])
        status = request_status(runtime=runtime, request_id=request_id, viewer=body["user"]["id"])
        kind = runtime.governance().kinds.get(status.card.kind) if status.card else None
        if kind is None:
            respond(
                text=f"`REQ-{request_id}` can no longer be amended.", response_type="ephemeral", replace_original=False
            )
            return
        values = status.fields
        modal = request_modal(
            kind=kind.name,
            title=f"Amend REQ-{request_id}",
            fields=kind.contract.fields,
            values=values,
            metadata={"amend": request_id},
        )
        client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.action(blocks.PICK_KIND)
    def pick_kind(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        kind = runtime.governance().kind(action["selected_option"]["value"])
        metadata = json.loads(body["view"].get("private_metadata") or "{}")
        modal = request_modal(
            kind=kind.name,
            title=kind.title,
            fields=kind.contract.fields,
            metadata={k: v for k, v in metadata.items() if k != "kind"},
        )
        client.views_update(view_id=body["view"]["id"], hash=body["view"].get("hash"), view=modal)

    @app.view(blocks.REQUEST_VIEW)
    def submit_form(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        fields = form_values(view)
        user = body["user"]["id"]
        try:
            if metadata.get("amend"):
                outcome = amend_request(
                    runtime=runtime, request_id=int(metadata["amend"]), requester=user, fields=fields
                )
            else:
                category = Category(metadata["category"]) if metadata.get("category") else None
                outcome = submit_request(
                    runtime=runtime,
                    kind=str(metadata.get("kind")),
                    fields=fields,
                    requester=user,
                    idempotency_key=f"view:{view['id']}",
                    category=category,
                )
        except ContractError as exc:
            known = set(fields)
            errors = {p.field: p.message for p in exc.problems if p.field in known}
            loose = [str(p) for p in exc.problems if p.field not in known]
            if loose and fields:
                first = next(iter(fields))
                errors[first] = "; ".join([errors.get(first, ""), *loose]).strip("; ")
            ack(response_action="errors", errors=errors)
            return
        except (SignoffError, UnknownKind) as exc:
            message = refusal_plain(exc, client) if isinstance(exc, SignoffError) else str(exc)
            ack(response_action="errors", errors={next(iter(fields), "kind"): message})
            return
        done = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Signoff"},
            "close": {"type": "plain_text", "text": "Done"},
            "blocks": [
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": submission_reply(outcome, amended=bool(metadata.get("amend")))},
                }
            ],
        }
        ack(response_action="update", view=done)

    @app.view(blocks.REASON_VIEW)
    def give_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        reason = form_values(view).get("reason") or ""
        verdict = Verdict.REJECT if metadata.get("verdict") == "reject" else Verdict.CHANGES
        try:
            decide_request(
                runtime=runtime,
                request_id=int(metadata["r"]),
                voter=body["user"]["id"],
                verdict=verdict,
                reason=str(reason),
                seen_fields_hash=metadata.get("h"),
            )
        except SignoffError as exc:
            ack(response_action="errors", errors={"reason": refusal_plain(exc, client)})
            return
        ack()


def form_values(view: dict[str, Any]) -> dict[str, Any]:
    """The value of each input block of a submitted view, by block id; an empty input is None.

    An emptied input stays in the result as "not given", so that amending through the form
    clears the field instead of keeping its old value (DESIGN §3.1: empty is not given).
    """
    values: dict[str, Any] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        for element in actions.values():
            value = _element_value(element)
            values[block_id] = None if value in (None, "", []) else value
    return values


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        option = element.get("selected_option")
        return option.get("value") if option else None
    if kind in ("multi_static_select", "checkboxes"):
        return [o.get("value") for o in element.get("selected_options") or []]
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "conversations_select":
        return element.get("selected_conversation")
    return element.get("value")
