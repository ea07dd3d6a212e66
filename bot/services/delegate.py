"""Delegation: my approvals also go to someone else until a date (inclusive)."""

from __future__ import annotations

from datetime import date

from bot.domain.audit import Action
from bot.domain.errors import NotAllowed
from bot.domain.fields import is_user_id
from bot.domain.routing import Delegation
from bot.services.runtime import Runtime


def start_delegation(*, runtime: Runtime, delegator: str, delegate: str, until: date) -> Delegation:
    """From now until the end of ``until`` (governance timezone), ``delegate`` may approve for ``delegator``."""
    governance = runtime.governance()
    now = runtime.clock.now()
    today = governance.today(now)
    if not is_user_id(delegate):
        raise NotAllowed(
            "name the person to delegate to as an @mention, one Slack turns into a user id such as U0123ABCD"
        )
    if delegate == delegator:
        raise NotAllowed("you cannot delegate to yourself")
    if until < today:
        raise NotAllowed(
            f"the delegation would already be over: {until.isoformat()} is before today ({today.isoformat()})"
        )
    delegation = Delegation(delegator, delegate, until)
    with runtime.uow() as uow:
        if delegate in uow.people.deactivated():
            raise NotAllowed("the person you named is deactivated in Slack, so they cannot approve for you")
        uow.delegations.start(delegation, now=now)
        data = {"delegator": delegator, "delegate": delegate, "until": until.isoformat()}
        uow.audit.append(request_id=None, at=now, actor=delegator, action=Action.DELEGATED, data=data)
        uow.commit()
    return delegation


def end_delegation(*, runtime: Runtime, delegator: str) -> Delegation | None:
    """End the delegator's delegation now; None when there was none."""
    now = runtime.clock.now()
    with runtime.uow() as uow:
        ended = uow.delegations.end(delegator, now=now)
        if ended is not None:
            data = {"delegator": delegator, "delegate": ended.delegate}
            uow.audit.append(request_id=None, at=now, actor=delegator, action=Action.DELEGATION_ENDED, data=data)
        uow.commit()
    return ended
