"""A person decides: approve, reject with a reason, or ask for changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.audit import Action
from bot.domain.errors import AlreadyDecided, AlreadyVoted, NotAllowed
from bot.domain.fields import REASON_LIMIT
from bot.domain.governance import Governance
from bot.domain.lifecycle import Event, State
from bot.domain.notices import Notice
from bot.domain.outbox import Intent, notify, update_cards
from bot.domain.requests import Request, Vote
from bot.domain.routing import Ballot, Delegation, Verdict
from bot.domain.text import normalize_text
from bot.services.routing import Eligibility, exception_lapse
from bot.services.routing import eligibility as eligibility_of
from bot.services.runtime import Runtime
from bot.services.transitions import locked_request, record_transition


@dataclass(frozen=True)
class Decision:
    request_id: int
    ref: str
    state: State
    progress: tuple[str, ...]
    on_behalf_of: str | None


def decide_request(
    *,
    runtime: Runtime,
    request_id: int,
    voter: str,
    verdict: Verdict,
    reason: str | None = None,
    seen_fields_hash: str | None = None,
) -> Decision:
    """Record one person's decision; approve the request once every step is met.

    ``seen_fields_hash`` is the hash of the fields on the card the person clicked: an
    approval binds to exactly what they saw, so a click on a card that an amend made stale is
    refused. Raises ``RequestNotFound``, ``AlreadyDecided``, ``AlreadyVoted`` or ``NotAllowed``
    (not eligible, own request, missing reason, a reason with a control character or longer
    than ``REASON_LIMIT`` characters) and changes nothing then. The reason is kept in text's
    normal form (``bot.domain.text.normalize_text``).
    """
    _check_reason_length(reason or "")  # before normalizing: a huge reason costs nothing
    try:
        note = normalize_text(reason or "", multiline=True) or None
    except ValueError as exc:
        raise NotAllowed(f"the reason {exc}") from None
    _check_reason_length(note or "")  # normalizing may lengthen (NFKC expands some characters)
    if verdict is not Verdict.APPROVE and note is None:
        raise NotAllowed(
            "say why: a reason is required to " + ("reject" if verdict is Verdict.REJECT else "ask for changes")
        )
    governance = runtime.governance()
    now = runtime.clock.now()
    today = governance.today(now)
    with runtime.uow() as uow:
        request = locked_request(uow, request_id)
        votes = uow.votes.for_request(request_id)
        delegations = uow.delegations.active(today=today)
        inactive = uow.people.deactivated()
        who, principals = _may_decide(
            governance, request, votes, delegations, today, voter, seen_fields_hash, inactive=inactive
        )
        kind = governance.kind(request.kind)
        on_behalf_of = None if who.acts_in_own_right(voter) else principals[0]
        ballot = Ballot(voter, verdict, request.fields_hash, on_behalf_of)
        uow.votes.add(request_id, Vote(ballot, now, note))
        data: dict[str, object] = {
            "verdict": str(verdict),
            "reason": note,
            "on_behalf_of": on_behalf_of,
            "fields_hash": request.fields_hash,
        }

        if verdict is Verdict.APPROVE:
            after = eligibility_of(
                governance, kind, request, [*votes, Vote(ballot, now)], delegations, today, inactive=inactive
            )
            data["progress"] = [step.progress() for step in after.progress]
            if after.all_met:
                _close(request, voter, now, None)
                lapse = exception_lapse(governance, kind, request, now)
                if lapse is not None:
                    request.lapses_at, request.lapse_warn_at = lapse
                event, action = Event.APPROVE, Action.APPROVED
            else:
                event, action = Event.VOTE, Action.VOTED
        elif verdict is Verdict.REJECT:
            _close(request, voter, now, note)
            event, action = Event.REJECT, Action.REJECTED
        else:
            request.decision_note = note
            event, action = Event.REQUEST_CHANGES, Action.CHANGES_REQUESTED

        version = request.version + 1
        intents: list[Intent] = [update_cards(request_id, version=version)]
        if event is not Event.VOTE:
            intents.append(_tell_requester(request, event, voter, note, version))
        record_transition(uow, request, event, at=now, actor=voter, action=action, data=data, intents=intents)
        uow.commit()
    runtime.observer.decided(kind=request.kind, by="person", rule=None, verdict=str(verdict))
    progress = tuple(step.progress() for step in (after.progress if verdict is Verdict.APPROVE else who.progress))
    return Decision(request_id, request.ref, request.state, progress, on_behalf_of)


def _check_reason_length(reason: str) -> None:
    if len(reason) > REASON_LIMIT:
        raise NotAllowed(f"the reason is {len(reason)} characters long; shorten it to at most {REASON_LIMIT}")


def check_may_decide(*, runtime: Runtime, request_id: int, voter: str, seen_fields_hash: str | None = None) -> None:
    """Raise what ``decide_request`` would refuse with, before asking the person for a reason.

    Nothing is written: a Reject click by someone who may not decide is answered at once,
    instead of after they typed why.
    """
    governance = runtime.governance()
    today = governance.today(runtime.clock.now())
    with runtime.uow(read_only=True) as uow:
        request = locked_request(uow, request_id)
        votes = uow.votes.for_request(request_id)
        delegations = uow.delegations.active(today=today)
        inactive = uow.people.deactivated()
        _may_decide(governance, request, votes, delegations, today, voter, seen_fields_hash, inactive=inactive)


def _may_decide(
    governance: Governance,
    request: Request,
    votes: list[Vote],
    delegations: list[Delegation],
    today: date,
    voter: str,
    seen_fields_hash: str | None,
    *,
    inactive: frozenset[str],
) -> tuple[Eligibility, tuple[str, ...]]:
    """Who may decide, and whose approval ``voter``'s counts as; the typed refusal otherwise."""
    if request.state is not State.PENDING:
        raise AlreadyDecided(request.require_id(), _state_words(request), request.decided_by)
    if voter == request.requester:
        raise NotAllowed(f"you filed {request.ref}, so someone else has to decide it")
    if seen_fields_hash is not None and seen_fields_hash != request.fields_hash:
        raise NotAllowed(f"{request.ref} was amended after this card was shown; decide on the updated card")
    kind = governance.kind(request.kind)
    who = eligibility_of(governance, kind, request, votes, delegations, today, inactive=inactive)
    principals = who.principals_for(voter)
    if not principals:
        groups = ", ".join(step.group for step in request.steps)
        raise NotAllowed(f"you are not an approver of {request.ref} ({groups} decide it)")
    earlier = next((v for v in votes if v.ballot.voter == voter and v.ballot.fields_hash == request.fields_hash), None)
    if earlier is not None:
        raise AlreadyVoted(request.require_id(), str(earlier.ballot.verdict))
    return who, principals


def _close(request: Request, voter: str, now: datetime, note: str | None) -> None:
    request.decided_by = voter
    request.decided_at = now
    request.decision_note = note
    request.next_escalation_at = None
    request.expires_at = None


def _state_words(request: Request) -> str:
    if request.state is State.CHANGES_REQUESTED:
        return "sent back for changes"
    return str(request.state).replace("_", " ")


_NOTICES = {
    Event.APPROVE: Notice.APPROVED,
    Event.REJECT: Notice.REJECTED,
    Event.REQUEST_CHANGES: Notice.CHANGES_REQUESTED,
}


def _tell_requester(request: Request, event: Event, voter: str, note: str | None, version: int) -> Intent:
    """The requester hears who decided, and the reason they gave (the adapter writes the sentence)."""
    facts = {"actor": voter, "reason": note}
    return notify(
        request.require_id(), request.requester, notice=_NOTICES[event], event=str(event), facts=facts, version=version
    )
