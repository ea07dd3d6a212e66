"""When a group's channel cannot be posted to, its card goes to the group's people as DMs.

The bot not being in the channel, the channel archived or gone: the request must still reach
whoever may decide it. Each person the request's eligibility (``bot.domain.eligibility``) lets
approve on behalf of that channel's group gets a DM card, exactly once per round (the card's
usual idempotency key), and the kind's owner is told once per request, channel and error, to
fix the channel.
"""

from __future__ import annotations

from bot.domain.eligibility import people_behind_channel
from bot.domain.lifecycle import State
from bot.domain.notices import Notice
from bot.domain.outbox import DeliveryError, Intent, OutboxItem, notify, post_card
from bot.services.ports import UnitOfWork
from bot.services.routing import deciders
from bot.services.runtime import Runtime


def unreachable_channel_intents(
    runtime: Runtime, uow: UnitOfWork, item: OutboxItem, error: DeliveryError
) -> list[Intent]:
    """DM cards to the channel group's eligible people for this request, and one notice to the owner.

    Empty when the request or its kind is gone. A request no longer pending gets the owner's
    notice only (nobody needs a card to decide it any more).
    """
    channel = str(item.payload.get("recipient", ""))
    request = uow.requests.get(item.request_id) if item.request_id is not None else None
    governance = runtime.governance()
    kind = governance.kinds.get(request.kind) if request is not None else None
    if request is None or kind is None:
        return []
    request_id = request.require_id()
    intents: list[Intent] = []
    if request.state is State.PENDING:
        who = deciders(uow, governance, kind, request, governance.today(runtime.clock.now())).who
        round_ = int(item.payload.get("round", request.version))
        people = people_behind_channel(governance, kind, request, who, channel)
        intents += [post_card(request_id, person, round_=round_) for person in sorted(people)]
    code = error.code or str(error)
    groups = ", ".join(name for name, group in governance.groups.items() if group.channel == channel)
    facts = {"title": kind.title, "channel": channel, "group": groups, "error": code}
    # version 0: one notice per request, channel and error, whatever the round or the card.
    event = f"channel-unreachable-{channel}-{code}"
    intents.append(
        notify(request_id, kind.owner, notice=Notice.CHANNEL_UNREACHABLE, event=event, facts=facts, version=0)
    )
    return intents
