"""Cards follow eligibility: after a governance reload or a change in the people directory,
every pending request's cards match who may decide it now.

For each pending request it compares who should hold a card (``card_audience``) with where
cards were posted or queued: the missing get one (a ``post_card`` whose key is fixed per
request and recipient, so two workers, or two passes, never queue it twice), and copies
whose buttons no longer match (a member removed, a person deactivated, someone eligible
again) are re-rendered. A group with a channel holds one card there: its membership
changes need no new card. Nothing here calls Slack; the relay delivers what is queued.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from bot.domain.eligibility import missing_cards, stale_copies
from bot.domain.outbox import CardWork, Intent, IntentKind, post_card
from bot.services.routing import directory, pending_with_votes
from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

#: The ``round`` of cards this pass posts: one per (request, recipient), whatever the request's version.
FOLLOW_ROUND = 0


@dataclass(frozen=True)
class FollowReport:
    posted: int = 0
    updated: int = 0
    #: Pending requests with a step whose quorum nobody left can reach.
    stuck: tuple[str, ...] = ()


def cards_follow_eligibility(*, runtime: Runtime) -> FollowReport:
    """Queue the cards and card updates that make every pending request's copies match its eligibility.

    Idempotent: run it after each reload, directory change, and periodically on every worker.
    """
    governance = runtime.governance()
    now = runtime.clock.now()
    today = governance.today(now)
    with runtime.uow(read_only=True) as uow:
        pending, votes = pending_with_votes(uow)
        people = directory(uow, governance, today)
        ids = [r.require_id() for r in pending]
        copies = uow.messages.for_requests(ids)
        work = uow.messages.card_work(ids)
    intents: list[Intent] = []
    posted, updated, stuck = 0, 0, []
    for request in pending:
        kind = governance.kinds.get(request.kind)
        if kind is None or not request.steps:
            continue
        request_id = request.require_id()
        who = people.eligibility(kind, request, votes[request_id])
        if any(step.stuck for step in who.progress):
            stuck.append(request.ref)
        outbox = work.get(request_id, CardWork(set()))
        if outbox.routing:
            continue  # its fan-out has not run yet: that decides who gets cards
        posts = [
            post_card(request_id, r, round_=FOLLOW_ROUND)
            for r in missing_cards(governance, kind, request, who, copies[request_id], outbox.recipients)
        ]
        intents += posts
        posted += len(posts)
        stale = stale_copies(governance, kind, request, who, copies[request_id])
        if stale and not outbox.updating:
            intents.append(_update(request_id, now.isoformat(), stale))
            updated += 1
    if intents:
        with runtime.uow() as uow:
            uow.outbox.add_many(intents, now=now)
            uow.commit()
    if stuck:
        log.warning("no eligible approver left for a step of %s: see the escalation chain and owner", ", ".join(stuck))
    return FollowReport(posted, updated, tuple(stuck))


def _update(request_id: int, at: str, wrong: str) -> Intent:
    """Re-render every copy of the request (the relay decides, per copy, whether it shows buttons).

    When, and which copies are wrong, make the key: two passes that see the same thing at the
    same moment queue it once; a later change of mind gets its own update."""
    digest = hashlib.sha256(wrong.encode()).hexdigest()[:16]
    return Intent(IntentKind.UPDATE_CARDS, f"req:{request_id}:follow:{at}:{digest}", {}, request_id)
