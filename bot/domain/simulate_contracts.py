"""Contract changes a backtest cannot see in the values (``signoff simulate`` warnings).

A stored request is replayed with its stored values: a value that no longer fits the candidate's
contract (a narrower ``min``/``max``, a renamed option, a new required field, another type) is
skipped with its reason. Some changes keep every stored value valid yet change what it *means*:
an amount stored in EUR is read as USD once the field's currency is USD; a whole number field
that now takes decimals, a number that becomes a percentage or money. ``contract_changes`` names
each such change per field so the text and JSON can warn that the comparison mixes meanings.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.domain.fields import FieldSpec, FieldType
from bot.domain.governance import Governance

_NUMERIC = frozenset({FieldType.NUMBER, FieldType.MONEY})


def contract_changes(current: Governance, candidate: Governance, kinds: Collection[str] | None = None) -> list[str]:
    """One line per field (of ``kinds``, None: all) both files have whose stored values stay valid
    but mean something else under ``candidate``: ``"discount.amount: currency EUR → USD; stored
    amounts are replayed as USD amounts (values carry no currency)"``; in file order."""
    lines: list[str] = []
    for name, kind in candidate.kinds.items():
        before = current.kinds.get(name)
        if before is None or (kinds is not None and name not in kinds):
            continue
        for field, spec in kind.contract.fields.items():
            old = before.contract.fields.get(field)
            if old is not None:
                lines += [f"{name}.{field}: {change}" for change in _changes(old, spec)]
    return lines


def _changes(old: FieldSpec, new: FieldSpec) -> list[str]:
    if old.type not in _NUMERIC or new.type not in _NUMERIC:
        return []
    changes = []
    if old.type != new.type:
        changes.append(f"{old.type} → {new.type}; stored values are replayed as {new.type} values")
    if new.type == FieldType.MONEY and old.type == FieldType.MONEY and old.currency != new.currency:
        was, now = old.currency or "no currency", new.currency or "no currency"
        changes.append(
            f"currency {was} → {now}; stored amounts are replayed as {now} amounts (values carry no currency)"
        )
    if bool(old.integer) != bool(new.integer):
        shape = ("whole numbers", "decimals") if old.integer else ("decimals", "whole numbers")
        changes.append(f"{shape[0]} → {shape[1]}; stored values were entered under the old rule")
    if bool(old.percent) != bool(new.percent):
        changes.append(
            "now a percentage; stored values were plain numbers"
            if new.percent
            else "no longer a percentage; stored values were percentages"
        )
    return changes
