"""What Signoff says back, in words: acknowledgements, help, status. Pure functions → mrkdwn text."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.cards import Card
from bot.domain.contracts import ContractError
from bot.domain.errors import mention
from bot.domain.governance import Governance
from bot.domain.lifecycle import State
from bot.domain.routing import StepRoute
from bot.domain.slash_text import decode_slack_value
from bot.services.status import StatusView, Summary
from bot.services.submit import Submission
from bot.slack.blocks import decided_line, escape, field_value, inert, inert_line, slack_time
from bot.slack.preview_blocks import route_text


def submission_reply(submission: Submission, *, amended: bool = False) -> str:
    """The acknowledgement of a submission: the request id and what happened to it."""
    ref = f"`{submission.ref}`"
    verb = "amended and " if amended else ""
    if submission.state is State.APPROVED and submission.rule:
        validity = f" It holds until {slack_time(submission.lapses_at)}." if submission.lapses_at else ""
        return (
            f":white_check_mark: {ref} {verb}approved by rule `{submission.rule}`: {inert(submission.reason)} "
            f"(owner {mention(submission.owner)}).{validity}"
        )
    if submission.state is State.REJECTED:
        owner = mention(submission.owner)
        return f":x: {ref} {verb}rejected by rule `{submission.rule}`: {inert(submission.reason)} (owner {owner})."
    routes = submission.routes or tuple(StepRoute(step, (step.group,)) for step in submission.steps)
    steps = " and ".join(route_text(route, count_one=False) for route in routes)  # as the preview says it
    due = f", due {slack_time(submission.due_at)}" if submission.due_at else ""
    again = " (already filed: this is the same request)" if submission.replayed else ""
    reason = inert(submission.reason)
    return f":hourglass_flowing_sand: {ref} {verb}sent to {steps}{due}.{again}\n" + (
        reason if "\n" in reason else f"_{reason}_"
    )


def contract_problems(error: ContractError, governance: Governance) -> str:
    lines = [f"That {error.kind} request is not valid:"]
    lines += [
        f"• `{escape(p.field)}`: {inert(p.message)}" if p.field else f"• {inert(p.message)}" for p in error.problems
    ]
    kind = governance.kinds.get(error.kind)
    if kind is not None:
        lines.append(f"\nUsage: `/request {kind.name} field=value …`\n" + usage_lines(governance, kind.name))
    return "\n".join(lines)


def usage_lines(governance: Governance, kind: str) -> str:
    contract = governance.kind(kind).contract
    return "\n".join(
        f"• `{name}` — {inert_line(spec.describe())}{'' if spec.required else ' (optional)'}"
        for name, spec in contract.fields.items()
    )


def help_text(governance: Governance, *, command: str = "/request") -> str:
    lines = [
        "*Signoff* files requests and exceptions, decides routine ones by rule, and routes the rest.",
        f"• `{command}` — pick a kind in a form   • `{command} KIND` — that kind's form",
        f"• `{command} KIND field=value …` — file it at once (quote values with spaces)",
        "• `/signoff` — what waits on you   • `/signoff status REQ-42` · `cancel REQ-42` · `amend REQ-42 field=value`",
        "• `/signoff explain KIND field=value …` — what would happen, and why (stores nothing)",
        "• `/signoff delegate @someone until YYYY-MM-DD` · `/signoff delegate off`",
        "\n*Kinds*",
    ]
    for name, kind in sorted(governance.kinds.items()):
        fields = ", ".join(f"`{f}`" + ("" if s.required else "?") for f, s in kind.contract.fields.items())
        lines.append(f"• `{name}` ({kind.category}) — {inert_line(kind.title)}: {fields}")
    return "\n".join(lines)


def unknown_kind(name: str, known: Sequence[str]) -> str:
    shown = inert(decode_slack_value(name, None))
    return f"There is no kind `{shown}`. Kinds: " + ", ".join(f"`{k}`" for k in known) + ". Try `/request help`."


def status_reply(view: StatusView) -> str:
    if view.card is None:
        return (
            f"`{view.ref}` is {str(view.state).replace('_', ' ')}. (Only its requester, approvers and owner see more.)"
        )
    card = view.card
    lines = [
        f"*{inert_line(card.title)}* `{card.ref}` from {mention(card.requester)} — {str(card.state).replace('_', ' ')}"
    ]
    lines += [f"• *{inert_line(f.label)}:* {field_value(f, 3000)}" for f in card.fields]
    if card.progress:
        lines.append(" · ".join(inert_line(p) for p in card.progress))
    if card.state is not State.PENDING:
        lines.append(decided_line(card))
    if view.receipt:
        governance = str(view.receipt.get("governance", ""))[:12]
        rule = view.receipt.get("rule")
        lines.append(
            f"_Receipt: {inert(str(view.receipt.get('reason', '')))} (rule {rule or '—'}, governance {governance})_"
        )
    # Rule ids are a-z, 0-9, - and _ (``bot.domain.shadow``): nothing in them for mrkdwn to read.
    lines += [f"Shadow: {verdict.describe()} (a trial: it decided nothing)" for verdict in view.shadow]
    return "\n".join(lines)


def summary_reply(summary: Summary) -> str:
    lines = ["*Waiting on you*"]
    lines += [_line(c) for c in summary.waiting_on_me] or ["Nothing. :sparkles:"]
    lines.append("*Your open requests*")
    lines += [_line(c) for c in summary.my_requests] or ["None."]
    return "\n".join(lines)


def _line(card: Card) -> str:
    progress = f" — {' · '.join(card.progress)}" if card.progress else ""
    return f"• `{card.ref}` {inert_line(card.title)} from {mention(card.requester)}{inert_line(progress)}"
