"""What a filed request's stored reason and receipt say of a private (``preview: false``) rule
(DESIGN §3.4, §3.7): the near-miss reason is made from the kind's public rules only, so a private
rule that did not decide is never named in it; a requester's view of the receipt leaves out its
trace, while the owner and approvers see all of it."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.governance import Governance
from bot.domain.governance_spec import Outcome
from bot.domain.outcome import LimitUsage, resolve
from bot.domain.preview import receipt_seen_by
from tests.conftest import AT, governance_from
from tests.unit.test_preview import PRIVATE

#: The private rule approves inside its band (its threshold is worth learning), and another,
#: private too, approves above 60 within a limit.
APPROVING = PRIVATE.replace(
    "decide: reject\n        reason: Never in this band.", "decide: approve\n        reason: Fine."
)
APPROVING = APPROVING.replace(
    "      - id: too-deep",
    "      - id: secret-top\n        when: {amount_pct: {gte: 60}}\n        decide: approve\n        reason: Top.\n"
    "        preview: false\n        limit: {count: 1, per: requester, window: 30d}\n      - id: too-deep",
)
WITH = governance_from(APPROVING)
WITHOUT = governance_from(
    APPROVING.replace(
        APPROVING[APPROVING.index("      - id: secret-floor") : APPROVING.index("      - id: too-deep")], ""
    )
)


def filed(governance: Governance, used: int, **raw: object) -> tuple[str, str | None, dict[str, object]]:
    kind = governance.kind("discount")
    values = governance.validate_fields(kind, raw, at=AT)

    def usage(**_: object) -> LimitUsage:
        return LimitUsage(count=used)

    resolution = resolve(governance, kind, values, requester="U0SAM", at=AT, usage=usage)
    return resolution.reason, resolution.rule, resolution.receipt()


@settings(max_examples=200, deadline=None)
@given(
    pct=st.integers(min_value=0, max_value=100),
    region=st.sampled_from(["emea", "apac"]),
    deal=st.integers(min_value=0, max_value=200000),
    used=st.integers(min_value=0, max_value=6),
)
def test_the_reason_never_names_a_private_rule_that_did_not_decide(pct: int, region: str, deal: int, used: int) -> None:
    raw = {"account": "Acme", "amount_pct": pct, "region": region, "deal_value": deal}
    reason, rule, receipt = filed(WITH, used, **raw)
    if rule in ("secret-floor", "secret-top"):
        assert receipt["outcome"] == str(Outcome.APPROVE)
        return
    # Exactly what the file without those rules says: the webhook and API `reason` are this text.
    assert reason == filed(WITHOUT, used, **raw)[0] == receipt["reason"]
    assert "secret" not in reason


def traced(receipt: Mapping[str, object]) -> list[object]:
    trace = receipt["trace"]
    assert isinstance(trace, list)
    return [t["rule"] for t in trace]


def test_the_requester_reads_the_receipt_without_private_rules_that_did_not_decide() -> None:
    kind = WITH.kind("discount")
    _, _, routed = filed(WITH, 5, account="Acme", amount_pct=30, region="emea")
    assert {"secret-floor", "secret-top"} <= set(traced(routed))  # stored whole, for the owner and approvers
    assert receipt_seen_by(kind, routed, full=True) == routed
    shown = receipt_seen_by(kind, routed, full=False)
    assert "secret" not in repr(shown) and traced(shown) == [r for r in traced(routed) if "secret" not in str(r)]
    _, rule, decided = filed(WITH, 0, account="Acme", amount_pct=20, region="emea")
    assert rule == "secret-floor" and "secret-floor" in traced(receipt_seen_by(kind, decided, full=False))
