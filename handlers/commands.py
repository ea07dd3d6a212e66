"""Slash commands: /request, /exception and /signoff. Parse, call one service, answer in the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.domain.contracts import ContractError
from bot.domain.errors import SignoffError
from bot.domain.explain import render_explanation
from bot.domain.governance import UnknownKind
from bot.domain.governance_spec import Category
from bot.domain.moments import parse_date
from bot.domain.preview import PRIVATE_NOTE, preview_of_problems
from bot.domain.requests import parse_request_id, why_not_a_request_id
from bot.domain.slash_text import SlashTextError, decode_slack_value, split_slash_text
from bot.services.amend import amend_request
from bot.services.cancel import cancel_request
from bot.services.delegate import end_delegation, start_delegation
from bot.services.explain import dry_run_for
from bot.services.preview import preview_request
from bot.services.runtime import Runtime
from bot.services.status import request_status, summary_for
from bot.services.submit import submit_request
from bot.slack.blocks import escape, inert
from bot.slack.modals import kind_picker_modal, request_modal
from handlers.guard import GuardedApp
from handlers.payloads import trigger_key, trigger_of, user_of
from handlers.refusals import refusal_text
from handlers.replies import contract_problems, help_text, status_reply, submission_reply, summary_reply, unknown_kind

log = logging.getLogger(__name__)


def register(app: GuardedApp, runtime: Runtime) -> None:
    def file_request(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        # /request files any kind; /exception only exception kinds (the kind checks which).
        category = Category.EXCEPTION if command["command"].endswith("exception") else None
        _file(runtime, ack, command, client, category)

    for name in ("/request", "/exception"):
        app.command(name)(file_request)

    @app.command("/signoff")
    def signoff(ack: Ack, command: dict[str, Any]) -> None:
        ack(_signoff(runtime, command))


def _file(runtime: Runtime, ack: Ack, command: dict[str, Any], client: WebClient, category: Category | None) -> None:
    governance = runtime.governance()
    text = _text_of(command)
    word, _, rest = text.partition(" ")
    if word.lower() in ("help", "?"):
        ack(help_text(governance, command=command["command"]))
        return
    requester = user_of(command)
    if not word:
        trigger = trigger_of(command)
        ack()
        kinds = [(n, k.title) for n, k in sorted(governance.kinds.items()) if category in (None, k.category)]
        modal = kind_picker_modal(kinds, metadata={"category": str(category)} if category else {})
        client.views_open(trigger_id=trigger, view=modal)
        return
    try:
        kind = governance.kind(word)
        if not rest.strip():
            kind.check_filed_with(category)
            trigger = trigger_of(command)
            ack()
            metadata = {"category": str(category)} if category else {}
            shown = preview_request(runtime=runtime, kind=kind.name, requester=requester, raw_values={})
            modal = request_modal(
                kind=kind.name,
                title=kind.title,
                fields=kind.contract.fields,
                metadata=metadata,
                preview=shown,
                requester=requester,
            )
            client.views_open(trigger_id=trigger, view=modal)
            return
        submission = submit_request(
            runtime=runtime,
            kind=word,
            text=rest,
            requester=requester,
            idempotency_key=trigger_key(command),
            category=category,
        )
    except UnknownKind as exc:
        ack(unknown_kind(exc.name, exc.known))
    except ContractError as exc:
        # Nothing was stored. Show the form with what they typed and what is wrong.
        ack()
        kind = governance.kind(word)
        notice = "; ".join(str(p) for p in exc.problems)
        modal = request_modal(
            kind=kind.name,
            title=kind.title,
            fields=kind.contract.fields,
            values=exc.partial_values,
            notice=notice,
            preview=preview_of_problems(kind, exc.partial_values, exc),
            requester=requester,
        )
        client.views_open(trigger_id=trigger_of(command), view=modal)
    except SignoffError as exc:
        ack(refusal_text(exc))
    else:
        ack(submission_reply(submission))


def _signoff(runtime: Runtime, command: dict[str, Any]) -> str:
    governance = runtime.governance()
    user = user_of(command)
    text = _text_of(command)
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    try:
        if verb == "":
            return summary_reply(summary_for(runtime=runtime, user=user))
        if verb in ("help", "?"):
            return help_text(governance)
        if verb in ("status", "cancel", "amend"):
            ref, _, more = rest.strip().partition(" ")
            request_id = parse_request_id(ref)
            if request_id is None:
                return _which_request(verb, ref)
            if verb == "status":
                return status_reply(request_status(runtime=runtime, request_id=request_id, viewer=user))
            if verb == "cancel":
                cancel_request(runtime=runtime, request_id=request_id, requester=user)
                return f"`REQ-{request_id}` is cancelled; its cards are updated."
            return submission_reply(
                amend_request(runtime=runtime, request_id=request_id, requester=user, text=more), amended=True
            )
        if verb == "explain":
            kind, _, fields = rest.strip().partition(" ")
            dry = dry_run_for(runtime=runtime, kind=kind, text=fields, person=user)
            explained = escape(render_explanation(governance, dry.resolution).replace("```", "'''"))
            private = f"\n_{PRIVATE_NOTE}_" if dry.private else ""
            return f"```{explained}```{private}\n_Dry run: nothing was stored._"
        if verb == "delegate":
            return _delegate(runtime, user, rest)
    except UnknownKind as exc:
        return unknown_kind(exc.name, exc.known)
    except ContractError as exc:
        return contract_problems(exc, governance)
    except SignoffError as exc:
        return refusal_text(exc)
    return f"I don't know `{inert(decode_slack_value(verb, None))}`.\n" + help_text(governance)


def _text_of(command: dict[str, Any]) -> str:
    text = command.get("text")
    return text.strip() if isinstance(text, str) else ""


def _which_request(verb: str, ref: str) -> str:
    """The answer to ``/signoff status|cancel|amend`` without a request id it can read."""
    example = f"`/signoff {verb} REQ-42`"
    if not ref:
        return f"Which request? Try {example}."
    shown = inert(decode_slack_value(ref[:40], None))
    return f"`{shown}` is not a request id: {why_not_a_request_id(ref)}. Try {example}."


def _delegate(runtime: Runtime, user: str, rest: str) -> str:
    if rest.strip().lower() == "off":
        ended = end_delegation(runtime=runtime, delegator=user)
        return f"Delegation to <@{ended.delegate}> ended." if ended else "You had no delegation."
    try:
        words = split_slash_text(rest).words
    except SlashTextError as exc:
        return f"{inert(decode_slack_value(str(exc), None))}. Try `/signoff delegate @dana until 2026-12-24`."
    delegate = next((w[2:].split("|")[0].rstrip(">") for w in words if w.startswith("<@")), None)
    until_text = words[words.index("until") + 1] if "until" in words and words.index("until") + 1 < len(words) else None
    if delegate is None or until_text is None:
        return "Try `/signoff delegate @dana until 2026-12-24` (or `/signoff delegate off`)."
    try:
        until = parse_date(decode_slack_value(until_text, None))
    except ValueError as exc:
        return f"until: {inert(str(exc))}."
    delegation = start_delegation(runtime=runtime, delegator=user, delegate=delegate, until=until)
    return f"Until the end of {delegation.until.isoformat()}, <@{delegation.delegate}> may approve wherever you may."
