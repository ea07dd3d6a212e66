"""Who did something to a request, as the audit log and events name them (DESIGN §4 "Audit log").

A Slack user id (``U…``), a governed default (``rule:<id>``), or Signoff itself (``system``).
"""

from __future__ import annotations

#: The actor of what Signoff did on its own (a sweep): an expiry, an escalation, a lapse.
SYSTEM = "system"
#: The actor of a request brought in from another system (``signoff history import``, DESIGN §8).
IMPORT = "import"
#: How a governed default is named as an actor: ``rule:<id>`` (DESIGN §4 "Audit log").
RULE_PREFIX = "rule:"


def rule_actor(rule: str) -> str:
    """The actor that names governed default ``rule``: ``rule:<id>``."""
    return RULE_PREFIX + rule


def rule_of(actor: str | None) -> str | None:
    """The rule id when ``actor`` is a governed default (``rule:<id>``), else None (a person, ``system``)."""
    return actor.removeprefix(RULE_PREFIX) if actor and actor.startswith(RULE_PREFIX) else None
