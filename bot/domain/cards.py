"""What an approval card says, as data: the Slack renderer turns a ``Card`` into Block Kit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.fields import FIELD_TYPES, FieldSpec, render_value
from bot.domain.lifecycle import State


@dataclass(frozen=True)
class CardField:
    label: str
    value: str
    #: What the value names: "user" or "channel" (a Slack id, shown as a mention), or None (text).
    names: str | None = None


@dataclass(frozen=True)
class Card:
    request_id: int
    ref: str
    kind: str
    title: str
    requester: str
    state: State
    fields: tuple[CardField, ...]
    reason: str
    progress: tuple[str, ...]
    due_at: datetime | None
    fields_hash: str
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    escalation_level: int = 0
    created_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Buttons show only while people can still decide."""
        return self.state is State.PENDING


def card_fields(specs: dict[str, FieldSpec], values: dict[str, object]) -> tuple[CardField, ...]:
    """The request's fields in contract order, labelled as the contract names them, each value
    rendered by ``fields.render_value`` (stored JSON: numbers, text, lists, booleans)."""
    shown = []
    for name, value in values.items():
        spec = specs.get(name)
        label = spec.display_name(name) if spec is not None else name
        text = render_value(value, one_line=False)
        names = str(spec.type) if spec is not None and FIELD_TYPES[spec.type].mention else None
        shown.append(CardField(label, text, names))
    return tuple(shown)
