"""Typed errors of the request lifecycle: what a person did that Signoff refuses, and why.

Each one carries what the Slack surface needs to answer in a sentence; none of them is a bug.
"""

from __future__ import annotations

from bot.domain.actors import SYSTEM, rule_of


class SignoffError(Exception):
    """Base of every refusal a user can see.

    ``template`` is the sentence, with a ``{name}`` placeholder for each person (or rule) it
    names, and ``people`` maps those names to actors (a user id, ``rule:<id>``, ``system``), so
    that an adapter can write them as mentions or names. ``str(error)`` is the plain sentence,
    people written ``<@U…>`` as in Slack's plain-text fallbacks.
    """

    def __init__(self, template: str, **people: str):
        self.template = template
        self.people = people
        super().__init__(template.format(**{k: mention(v) for k, v in people.items()}) if people else template)


class RequestNotFound(SignoffError):
    def __init__(self, request_id: int):
        self.request_id = request_id
        super().__init__(f"there is no request REQ-{request_id}")


class NotAllowed(SignoffError):
    """The person may not do this to this request (not the requester, not an approver, …)."""


class AlreadyDecided(SignoffError):
    """The request left the state the action needs; ``by`` is who (or which rule) closed it."""

    def __init__(self, request_id: int, state: str, by: str | None):
        self.request_id = request_id
        self.state = state
        self.by = by
        if by:
            super().__init__(f"REQ-{request_id} was already {state} by {{by}}", by=by)
        else:
            super().__init__(f"REQ-{request_id} was already {state}")


class AlreadyVoted(SignoffError):
    def __init__(self, request_id: int, verdict: str):
        self.request_id = request_id
        self.verdict = verdict
        super().__init__(f"you already voted on REQ-{request_id} ({verdict})")


class WrongCategory(SignoffError):
    """A kind filed with the wrong command: an approval kind with /exception, or the reverse."""


class ConcurrencyConflict(SignoffError):
    """Someone changed the request between reading and writing it; the use case may retry."""

    def __init__(self, request_id: int):
        self.request_id = request_id
        super().__init__(f"REQ-{request_id} changed while you were acting on it; please try again")


class StorageBusy(SignoffError):
    """The database stayed locked longer than an answer to Slack may wait; nothing of the use case was stored.

    Raised by storage for a unit of work with a wait budget (an interactive use case: Slack wants
    its answer within 3 s). Doing it again once the database is free is safe.
    """

    def __init__(self, waited: float):
        self.waited = waited
        super().__init__("Signoff is busy right now and nothing was saved; please try again in a moment")


class TooSlow(StorageBusy):
    """The use case ran past the time its answer was due (Slack's 3 s), so it was rolled back: nothing was stored.

    Raised by storage for a unit of work run before an acknowledgement (``bot.answer_deadline``)
    that reaches its commit, or its start, after the deadline. Doing it again is safe.
    """

    def __init__(self, late: float):
        self.waited = late
        SignoffError.__init__(self, "That took too long, so nothing was saved; please try again")


class DuplicateKey(Exception):
    """Storage refused a second row with the same unique key (an idempotency key, a run key)."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(key)


def mention(actor: str) -> str:
    """Who acted, as Slack text: a person's mention, ``rule <id>``, or Signoff itself."""
    if (rule := rule_of(actor)) is not None:
        return f"rule {rule}"
    if actor == SYSTEM:
        return "Signoff"
    return f"<@{actor}>"
