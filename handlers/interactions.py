"""Buttons and forms: Approve / Reject / Ask for changes / Amend, the kind picker, and modal submissions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.domain.contracts import ContractError
from bot.domain.errors import SignoffError
from bot.domain.governance import UnknownKind
from bot.domain.routing import Verdict
from bot.services.amend import amend_request
from bot.services.decide import check_may_decide, decide_request
from bot.services.preview import preview_request
from bot.services.runtime import Runtime
from bot.services.status import request_status
from bot.services.submit import submit_request
from bot.slack import blocks
from bot.slack.field_inputs import read_element
from bot.slack.modals import notice_view, reason_modal, request_modal
from handlers.guard import GuardedApp, Tell
from handlers.payloads import (
    FORM_DAMAGED,
    button_of,
    category_in,
    dig,
    metadata_of,
    request_in,
    text,
    trigger_of,
    user_of,
    view_id_of,
    view_of,
)
from handlers.refusals import refusal_plain
from handlers.replies import submission_reply

log = logging.getLogger(__name__)


def register(app: GuardedApp, runtime: Runtime) -> None:
    @app.action(blocks.APPROVE)
    # A refusal (SignoffError) raised here is told to the person by the guard, wherever they clicked.
    def approve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        request_id, seen = button_of(action)
        decide_request(
            runtime=runtime, request_id=request_id, voter=user_of(body), verdict=Verdict.APPROVE, seen_fields_hash=seen
        )

    def ask_reason(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        request_id, seen = button_of(action)
        # Refuse now, not after they typed a reason.
        check_may_decide(runtime=runtime, request_id=request_id, voter=user_of(body), seen_fields_hash=seen)
        verdict = "reject" if action.get("action_id") == blocks.REJECT else "changes"
        client.views_open(
            trigger_id=trigger_of(body),
            view=reason_modal(verdict=verdict, request_id=request_id, ref=f"REQ-{request_id}", fields_hash=seen),
        )

    app.action(blocks.REJECT)(ask_reason)
    app.action(blocks.CHANGES)(ask_reason)

    @app.action(blocks.AMEND)
    def amend(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        request_id, _ = button_of(action)
        status = request_status(runtime=runtime, request_id=request_id, viewer=user_of(body))
        kind = runtime.governance().kinds.get(status.card.kind) if status.card else None
        if kind is None:
            raise Tell(f"`REQ-{request_id}` can no longer be amended.")
        values = status.fields
        shown = preview_request(runtime=runtime, kind=kind.name, requester=user_of(body), raw_values=values)
        modal = request_modal(
            kind=kind.name,
            title=f"Amend REQ-{request_id}",
            fields=kind.contract.fields,
            values=values,
            metadata={"amend": request_id},
            preview=shown,
            requester=user_of(body),
        )
        client.views_open(trigger_id=trigger_of(body), view=modal)

    @app.action(blocks.PICK_KIND)
    def pick_kind(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        picked = text(dig(action, "selected_option", "value"), what="the picked kind", message=FORM_DAMAGED)
        view = view_of(body)
        metadata = metadata_of(view)
        category = category_in(metadata)
        kind = runtime.governance().kind(picked)
        shown = preview_request(runtime=runtime, kind=kind.name, requester=user_of(body), raw_values={})
        modal = request_modal(
            kind=kind.name,
            title=kind.title,
            fields=kind.contract.fields,
            metadata={"category": str(category)} if category else {},
            preview=shown,
            requester=user_of(body),
        )
        view_id = text(view.get("id"), what="the view id", message=FORM_DAMAGED)
        seen = view.get("hash")
        client.views_update(view_id=view_id, hash=seen if isinstance(seen, str) else None, view=modal)

    @app.view(blocks.REQUEST_VIEW)
    def submit_form(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        metadata = metadata_of(view)
        fields = form_values(view)
        user = user_of(body)
        amending = metadata.get("amend") is not None
        try:
            if amending:
                outcome = amend_request(
                    runtime=runtime, request_id=request_in(metadata, "amend"), requester=user, fields=fields
                )
            else:
                category = category_in(metadata)
                kind = text(metadata.get("kind"), what="the form's kind", message=FORM_DAMAGED)
                view_id = view_id_of(view)
                outcome = submit_request(
                    runtime=runtime,
                    kind=kind,
                    fields=fields,
                    requester=user,
                    idempotency_key=f"view:{view_id}",  # a form submitted twice files one request
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
        ack(response_action="update", view=notice_view(submission_reply(outcome, amended=amending), mrkdwn=True))

    @app.view(blocks.REASON_VIEW)
    def give_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        metadata = metadata_of(view)
        request_id = request_in(metadata, "r")
        reason = form_values(view).get("reason") or ""
        verdict = Verdict.REJECT if metadata.get("verdict") == "reject" else Verdict.CHANGES
        seen = metadata.get("h")
        try:
            decide_request(
                runtime=runtime,
                request_id=request_id,
                voter=user_of(body),
                verdict=verdict,
                reason=str(reason),
                seen_fields_hash=seen if isinstance(seen, str) else None,
            )
        except SignoffError as exc:
            ack(response_action="errors", errors={"reason": refusal_plain(exc, client)})
            return
        ack()


def form_values(view: Mapping[str, Any]) -> dict[str, Any]:
    """The value of each input block of a submitted view, by block id; an empty input is None.

    Each element is read by its type's reader (``bot.slack.field_inputs.read_element``).

    An emptied input stays in the result as "not given", so that amending through the form
    clears the field instead of keeping its old value (DESIGN §3.1: empty is not given).
    """
    values: dict[str, Any] = {}
    blocks_ = dig(view, "state", "values")
    for block_id, actions in (blocks_ if isinstance(blocks_, dict) else {}).items():
        for element in actions.values() if isinstance(actions, dict) else ():
            value = read_element(element) if isinstance(element, dict) else None
            values[block_id] = None if value in (None, "", []) else value
    return values
