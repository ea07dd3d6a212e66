"""A person decides: approve, reject with a reason, or ask for changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import AlreadyDecided, AlreadyVoted, NotAllowed
from bot.domain.fields import REASON_LIMIT
from bot.domain.governance import Governance
from bot.domain.lifecycle import State
from bot.domain.requests import Request, Vote
from bot.domain.routing import Ballot, Verdict
from bot.domain.text import normalize_text
from bot.domain.transitions import decision_event
from bot.services.observer import observe
from bot.services.ports import UnitOfWork
from bot.services.routing import Deciders, deciders
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
    with runtime.uow() as uow:
        request = locked_request(uow, request_id)
        loaded, principals = _may_decide(uow, governance, request, now, voter, seen_fields_hash)
        on_behalf_of = None if loaded.who.acts_in_own_right(voter) else principals[0]
        ballot = Ballot(voter, verdict, request.fields_hash, on_behalf_of)
        uow.votes.add(request_id, Vote(ballot, now, note))
        facts: dict[str, object] = {
            "verdict": str(verdict),
            "reason": note,
            "on_behalf_of": on_behalf_of,
            "fields_hash": request.fields_hash,
        }
        who = loaded.who
        if verdict is Verdict.APPROVE:
            kind = governance.kind(request.kind)
            who = loaded.directory.eligibility(kind, request, [*loaded.votes, Vote(ballot, now)])
            facts["progress"] = [step.progress() for step in who.progress]
        event = decision_event(verdict, all_met=who.all_met)
        events = record_transition(uow, governance, request, event, at=now, actor=voter, note=note, facts=facts)
        uow.commit()
    observe(runtime.observer, events)
    progress = tuple(step.progress() for step in who.progress)
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
    with runtime.uow(read_only=True) as uow:
        request = locked_request(uow, request_id)
        _may_decide(uow, governance, request, runtime.clock.now(), voter, seen_fields_hash)


def _may_decide(
    uow: UnitOfWork, governance: Governance, request: Request, now: datetime, voter: str, seen_fields_hash: str | None
) -> tuple[Deciders, tuple[str, ...]]:
    """Who may decide, and whose approval ``voter``'s counts as; the typed refusal otherwise."""
    if request.state is not State.PENDING:
        raise AlreadyDecided(request.require_id(), _state_words(request), request.decided_by)
    if voter == request.requester:
        raise NotAllowed(f"you filed {request.ref}, so someone else has to decide it")
    if seen_fields_hash is not None and seen_fields_hash != request.fields_hash:
        raise NotAllowed(f"{request.ref} was amended after this card was shown; decide on the updated card")
    kind = governance.kind(request.kind)
    loaded = deciders(uow, governance, kind, request, governance.today(now))
    principals = loaded.who.principals_for(voter)
    if not principals:
        groups = ", ".join(step.group for step in request.steps)
        raise NotAllowed(f"you are not an approver of {request.ref} ({groups} decide it)")
    votes = loaded.votes
    earlier = next((v for v in votes if v.ballot.voter == voter and v.ballot.fields_hash == request.fields_hash), None)
    if earlier is not None:
        raise AlreadyVoted(request.require_id(), str(earlier.ballot.verdict))
    return loaded, principals


def _state_words(request: Request) -> str:
    if request.state is State.CHANGES_REQUESTED:
        return "sent back for changes"
    return str(request.state).replace("_", " ")
