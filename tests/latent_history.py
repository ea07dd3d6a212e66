"""Decision history generated from known ("latent") policies, for ``signoff suggest`` and backtests.

Three kinds follow policies written down here (``LATENT_GOVERNANCE`` is their governance file,
with one live rule and one shadow rule already in it). Each row is generated together with its
latent truth, the region of the policy it falls in, so a test can tell whether the suggested
rules found the routine regions, left the judgement alone, and refused the habit slice.

Regions (``Truth.region``):

- ``routine``: people always approve (up to noise): discount ``amount_pct ≤ 10``, or ``tier:
  partner`` and ``amount_pct ≤ 20``; budget-move ``amount ≤ 5000``, or ``department: engineering``
  and ``amount ≤ 20000``; access-exception ``length ≤ 4h``, or ``system: crm`` and ``length ≤ 3d``;
- ``reject``: people always reject (up to noise): discount ``40 < amount_pct ≤ 60``;
- ``governed``: a rule of ``LATENT_GOVERNANCE`` already covers it (discount ``amount_pct > 60``,
  rejected; budget-move ``amount ≤ 500`` is in a shadow rule and decided by people, approved);
- ``habit``: one approver (``U0FINH``, ``U0BUDH``, ``U0SECH``) alone decides, and always approves:
  discount ``tier: strategic`` and ``10 < amount_pct ≤ 25``; budget-move ``department: hr`` and
  ``5000 < amount ≤ 15000``; access-exception ``system: prod-db`` and ``4h < length ≤ 2d``;
- ``judgement``: everything else; people approve about half of it.

Noise: with probability ``noise`` (0.01 or 0.02) a human decision is a coin flip. About 5 % of
rows are cancelled and 4 % expire (no decision). Deterministic: the same arguments give the same
rows. Rows fit ``signoff history import`` (JSONL: ``write_jsonl``), as in ``tests.history_quarter``.

API::

    for row, truth in month_rows(start=date(2026, 1, 1), count=3000, seed=1): ...
    rows, truths = history(months=[date(2026, 1, 1), …], count=3000, seed=1)   # lists, ids unique
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
KINDS = ("discount", "budget-move", "access-exception")
APPROVERS = {
    "discount": ("U0FIN1", "U0FIN2", "U0FIN3", "U0FINH"),
    "budget-move": ("U0BUD1", "U0BUD2", "U0BUD3", "U0BUDH"),
    "access-exception": ("U0SEC1", "U0SEC2", "U0SEC3", "U0SECH"),
}
#: The approver of each kind who alone approves the habit slice.
HABIT = {kind: approvers[-1] for kind, approvers in APPROVERS.items()}
REQUESTERS = tuple(f"U0REQ{n:02d}" for n in range(1, 31))
REGIONS = ("routine", "reject", "governed", "habit", "judgement")

LATENT_GOVERNANCE = """\
version: 1
timezone: Europe/Berlin
working_hours: always
groups:
  finance:
    members: [U0FIN1, U0FIN2, U0FIN3, U0FINH]
  budget:
    members: [U0BUD1, U0BUD2, U0BUD3, U0BUDH]
  security:
    members: [U0SEC1, U0SEC2, U0SEC3, U0SECH]

kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true, max_length: 80}
      amount_pct: {type: number, required: true, min: 0, max: 100, label: "Discount %"}
      tier: {type: choice, options: [standard, partner, strategic], required: true}
      deal_value: {type: money, currency: EUR}
    approvers: finance
    expire_after: 14d
    rules:
      # the one rule the finance team already wrote
      - id: over-limit
        when: {amount_pct: {gt: 60}}
        decide: reject
        reason: Discounts above 60% are not permitted.
    tests:
      - {fields: {account: Acme, amount_pct: 70, tier: standard}, expect: reject, rule: over-limit}

  budget-move:
    title: Budget move
    owner: U0BUDLEAD
    fields:
      amount: {type: money, currency: EUR, required: true}
      department: {type: choice, options: [marketing, sales, engineering, ops, hr], required: true}
      recurring: {type: bool}
    approvers: budget
    expire_after: 14d
    rules:
      - id: tiny-move
        mode: shadow
        when: {amount: {lte: 500}}
        decide: approve
        reason: Moves up to 500 EUR (on trial).

  access-exception:
    title: Access exception
    category: exception
    owner: U0SECLEAD
    fields:
      system: {type: choice, options: [crm, billing, prod-db], required: true}
      length: {type: duration, required: true}
      until: {type: date, required: true}
    approvers: security
    valid_until: until
    max_duration: 90d
    expire_after: 7d
"""

_LENGTHS = ((1, "1h"), (2, "2h"), (4, "4h"), (8, "8h"), (24, "1d"), (48, "2d"), (72, "3d"), (120, "5d"))
_LONG = ((168, "7d"), (336, "14d"), (720, "30d"), (1440, "60d"))


@dataclass(frozen=True)
class Truth:
    """What the latent policy says of one row: its ``region`` (see the module docstring)."""

    id: str
    kind: str
    region: str
    outcome: str


def month_rows(
    *, start: date, count: int = 3000, seed: int = 1, noise: float = 0.01, prefix: str | None = None
) -> Iterator[tuple[dict[str, Any], Truth]]:
    """``count`` rows submitted in the 28 days from ``start``, in submission order, each with its truth.

    Ids are ``{prefix}-{n:05d}`` (default prefix ``LAT{start:%Y%m}``), so months never share ids.
    """
    rng = random.Random(f"{seed}:{start.isoformat()}:{count}:{noise}")
    tag = prefix or f"LAT{start:%Y%m}"
    step = 28 * 86400 / max(count, 1)
    for n in range(count):
        moment = _moment(rng, start, n * step)
        kind = rng.choices(KINDS, weights=(5, 3, 2))[0]
        fields, region = _draw(rng, kind, moment)
        outcome, approver = _decide(rng, kind, region, noise)
        requester = rng.choice(REQUESTERS)
        decided_by, decided_at = _when_decided(rng, outcome, approver, requester, moment)
        row_id = f"{tag}-{n + 1:05d}"
        yield (
            {
                "id": row_id,
                "kind": kind,
                "requester": requester,
                "submitted_at": moment.isoformat(),
                "outcome": outcome,
                "decided_by": decided_by,
                "decided_at": decided_at.isoformat() if decided_at else None,
                "reason": None,
                "fields": fields,
            },
            Truth(row_id, kind, region, outcome),
        )


def history(
    *, months: Sequence[date], count: int = 3000, seed: int = 1, noise: float = 0.01
) -> tuple[list[dict[str, Any]], list[Truth]]:
    """The rows of several months (``count`` each), in order, and their truths."""
    rows: list[dict[str, Any]] = []
    truths: list[Truth] = []
    for start in months:
        for row, truth in month_rows(start=start, count=count, seed=seed, noise=noise):
            rows.append(row)
            truths.append(truth)
    return rows, truths


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def _moment(rng: random.Random, start: date, offset_seconds: float) -> datetime:
    day = start + timedelta(seconds=offset_seconds)
    local = datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))
    return local.replace(tzinfo=BERLIN)


def _draw(rng: random.Random, kind: str, moment: datetime) -> tuple[dict[str, Any], str]:
    if kind == "discount":
        return _discount(rng)
    if kind == "budget-move":
        return _budget(rng)
    return _access(rng, moment)


def _discount(rng: random.Random) -> tuple[dict[str, Any], str]:
    pct = rng.choice([rng.randint(1, 12), rng.randint(1, 30), rng.randint(1, 70)])
    tier = rng.choices(("standard", "partner", "strategic"), weights=(55, 25, 20))[0]
    fields: dict[str, Any] = {"account": f"Account {rng.randint(1, 500)}", "amount_pct": pct, "tier": tier}
    if rng.random() < 0.5:
        fields["deal_value"] = rng.randint(1, 400) * 250
    if pct > 60:
        return fields, "governed"
    if pct > 40:
        return fields, "reject"
    if pct <= 10 or (tier == "partner" and pct <= 20):
        return fields, "routine"
    if tier == "strategic" and pct <= 25:
        return fields, "habit"
    return fields, "judgement"


def _budget(rng: random.Random) -> tuple[dict[str, Any], str]:
    amount = round(10 ** rng.uniform(2.3, 5.3) / 50) * 50
    department = rng.choice(("marketing", "sales", "engineering", "ops", "hr"))
    fields: dict[str, Any] = {"amount": amount, "department": department}
    if rng.random() < 0.4:
        fields["recurring"] = rng.random() < 0.5
    if amount <= 500:
        return fields, "governed"
    if amount <= 5000 or (department == "engineering" and amount <= 20000):
        return fields, "routine"
    if department == "hr" and amount <= 15000:
        return fields, "habit"
    return fields, "judgement"


def _access(rng: random.Random, moment: datetime) -> tuple[dict[str, Any], str]:
    hours, written = rng.choice(_LENGTHS) if rng.random() < 0.8 else rng.choice(_LONG)
    system = rng.choice(("crm", "billing", "prod-db"))
    until = moment.date() + timedelta(days=hours // 24 + rng.randint(0, 3))
    fields = {"system": system, "length": written, "until": until.isoformat()}
    if hours <= 4 or (system == "crm" and hours <= 72):
        return fields, "routine"
    if system == "prod-db" and hours <= 48:
        return fields, "habit"
    return fields, "judgement"


_SHARE = {"routine": 1.0, "governed": 1.0, "reject": 0.0, "habit": 1.0, "judgement": 0.5}


def _decide(rng: random.Random, kind: str, region: str, noise: float) -> tuple[str, str | None]:
    """The outcome (approved, rejected, cancelled, expired) and who decided (None: nobody)."""
    roll = rng.random()
    if roll < 0.05:
        return "cancelled", None
    if roll < 0.09:
        return "expired", None
    if kind == "discount" and region == "governed":
        share = 0.0  # over 60 %: people rejected them before the rule was written
    else:
        share = _SHARE[region]
    approver = HABIT[kind] if region == "habit" else rng.choice(APPROVERS[kind])
    if rng.random() < noise:
        share = 0.5
    return ("approved" if rng.random() < share else "rejected"), approver


def _when_decided(
    rng: random.Random, outcome: str, approver: str | None, requester: str, submitted: datetime
) -> tuple[str | None, datetime | None]:
    if outcome == "expired":
        return None, None
    at = submitted + timedelta(hours=round(rng.uniform(0.2, 30), 2))
    if outcome == "cancelled":
        return requester, at
    return approver, at


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
