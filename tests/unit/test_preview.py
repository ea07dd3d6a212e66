"""The request form's live preview (DESIGN §2, §3.7): what it says for each outcome, budget, near
miss and incomplete form, and that a ``preview: false`` rule leaves no trace in it for any input."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.contracts import ContractError, FieldProblem
from bot.domain.governance import Governance, GovernanceInvalid
from bot.domain.governance_spec import Outcome, StepSpec
from bot.domain.outcome import LimitUsage, UsageLookup, no_usage, resolve
from bot.domain.preview import Budget, NearMiss, Preview, preview_of, preview_of_problems
from bot.slack.blocks import MAX_SECTION_TEXT
from bot.slack.modals import request_modal
from bot.slack.preview_blocks import PREVIEW_BLOCK, PRIVATE_NOTE, preview_block, preview_lines, with_preview
from tests.conftest import AT, governance_from

DEALS = """
version: 1
timezone: Europe/Berlin
groups:
  finance: {members: [U0FIN1, U0FIN2]}
  cmo-office: {members: [U0CMO]}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true}
      amount_pct: {type: number, required: true, min: 0, max: 100, label: "Discount %"}
      deal_value: {type: money, currency: EUR}
      region: {type: choice, options: [emea, amer, apac]}
    approvers: finance
    rules:
      - id: small-discount
        when: {all: [{amount_pct: {lte: 10}}, {region: {in: [emea, amer]}}]}
        decide: approve
        reason: Discounts up to 10% are pre-approved.
        limit: {count: 5, per: requester, window: 7d}
      - id: too-deep
        when: {amount_pct: {gt: 40}}
        decide: reject
        reason: Discounts above 40% are not permitted.
      - id: big-deal
        when: {deal_value: {gte: 100000}}
        require: {group: cmo-office, approvals: 1}
        reason: Deals of 100k and more also need the CMO office.
      - id: small-deals
        when: {deal_value: {lte: 5000}}
        decide: approve
        reason: Small deals fit the budget.
        limit: {sum: deal_value, max: 10000, per: kind, window: 30d}
"""


@pytest.fixture
def governance() -> Governance:
    return governance_from(DEALS)


def usage_of(count: int = 0, total: float = 0.0) -> UsageLookup:
    def lookup(*, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None) -> LimitUsage:
        return LimitUsage(count=count, total=total)

    return lookup


def preview(governance: Governance, usage: UsageLookup = no_usage, **raw: object) -> Preview:
    kind = governance.kind("discount")
    try:
        values = governance.validate_fields(kind, raw, at=AT)
    except ContractError as exc:
        return preview_of_problems(kind, raw, exc)
    resolution = resolve(governance, kind.public, values, requester="U0SAM", at=AT, usage=usage)
    return preview_of(kind, resolution, usage=usage)


def text(shown: Preview) -> str:
    return "\n".join(preview_lines(shown))


def test_an_auto_approval_names_its_rule_reason_and_the_budget_left(governance: Governance) -> None:
    shown = preview(governance, usage_of(count=2), account="Acme", amount_pct=5, region="emea")
    assert (shown.outcome, shown.rule) == (Outcome.APPROVE, "small-discount")
    assert shown.budgets == (Budget("small-discount", 3, 5, timedelta(days=7), True),)
    assert text(shown) == (
        "*If you submit now*\n"
        ":white_check_mark: Auto-approved by `small-discount` — Discounts up to 10% are pre-approved.\n"
        ":bar_chart: `small-discount`: 3 of 5 left this week"
    )


def test_a_used_up_count_says_people_decide_and_who(governance: Governance) -> None:
    shown = preview(governance, usage_of(count=5), account="Acme", amount_pct=5, region="emea")
    assert shown.outcome is Outcome.ROUTE
    assert text(shown).splitlines()[1:] == [
        ":hourglass_flowing_sand: Needs *finance* (1 approval)",
        ":bar_chart: `small-discount`: 0 of 5 left this week, so people decide",
    ]


def test_an_amount_budget_shows_what_is_left_in_its_currency(governance: Governance) -> None:
    fits = preview(governance, usage_of(total=8000), account="Acme", amount_pct=20, deal_value=1500)
    assert (fits.outcome, fits.rule) == (Outcome.APPROVE, "small-deals")
    assert ":bar_chart: `small-deals`: EUR 2000 of EUR 10000 left this 30 d" in text(fits)
    over = preview(governance, usage_of(total=9000), account="Acme", amount_pct=20, deal_value=1500)
    assert over.outcome is Outcome.ROUTE
    assert (
        ":bar_chart: `small-deals`: EUR 1000 of EUR 10000 left this 30 d; this request needs EUR 1500, so people decide"
        in text(over)
    )


def test_a_rejection_names_its_rule_and_reason(governance: Governance) -> None:
    shown = preview(governance, account="Acme", amount_pct=45, region="emea")
    assert (shown.outcome, shown.rule, shown.budgets, shown.near_miss) == (Outcome.REJECT, "too-deep", (), None)
    assert text(shown).splitlines()[1:] == [":x: Rejected by `too-deep` — Discounts above 40% are not permitted."]


def test_a_route_by_rule_gives_its_steps_and_reason(governance: Governance) -> None:
    shown = preview(governance, account="Acme", amount_pct=20, deal_value=200000)
    assert shown.steps == (StepSpec(group="finance"), StepSpec(group="cmo-office"))
    # The CMO step is needed whatever the discount: a lower one would not be pre-approved.
    assert preview(governance, account="Acme", amount_pct=12, region="emea", deal_value=200000).near_miss is None
    assert text(shown).splitlines()[1] == (
        ":hourglass_flowing_sand: Needs *finance* (1 approval) and *cmo-office* (1 approval)"
        " — Deals of 100k and more also need the CMO office."
    )


def test_a_near_miss_is_one_threshold_every_other_condition_holding(governance: Governance) -> None:
    near = preview(governance, account="Acme", amount_pct=12, region="amer")
    assert near.outcome is Outcome.ROUTE and near.reason is None
    assert near.near_miss == NearMiss("small-discount", "amount_pct ≤ 10")
    # Two conditions fail (the region too): no default almost applied, so none is named.
    assert preview(governance, account="Acme", amount_pct=12, region="apac").near_miss is None
    # Pre-approved but for its used-up count: a near miss of another rule is still named.
    used_up = preview(governance, usage_of(count=5), account="Acme", amount_pct=5, region="emea", deal_value=9000)
    assert (used_up.outcome, [b.rule for b in used_up.budgets]) == (Outcome.ROUTE, ["small-discount"])
    assert used_up.near_miss == NearMiss("small-deals", "deal_value ≤ 5000")
    # A choice is no threshold: nothing to move across.
    assert preview(governance, account="Acme", amount_pct=5, region="apac").near_miss is None


def test_a_near_miss_says_when_the_rule_it_names_has_used_up_its_count(governance: Governance) -> None:
    room = preview(governance, usage_of(count=4), account="Acme", amount_pct=12, region="amer")
    assert text(room).splitlines()[-1] == ":bulb: amount_pct ≤ 10 is pre-approved by `small-discount`"
    used_up = preview(governance, usage_of(count=5), account="Acme", amount_pct=12, region="amer")
    assert used_up.near_miss == NearMiss(
        "small-discount", "amount_pct ≤ 10", Budget("small-discount", 0, 5, timedelta(days=7), False)
    )
    assert text(used_up).splitlines()[1:] == [
        ":hourglass_flowing_sand: Needs *finance* (1 approval)",
        ":bulb: amount_pct ≤ 10 is pre-approved by `small-discount`, but its limit is used up: 0 of 5 left this week",
    ]


def test_a_near_miss_says_when_the_rule_it_names_has_no_budget_left_for_it(governance: Governance) -> None:
    room = preview(governance, usage_of(total=4000), account="Acme", amount_pct=20, deal_value=6000)
    assert text(room).splitlines()[-1] == ":bulb: deal_value ≤ 5000 is pre-approved by `small-deals`"
    spent = preview(governance, usage_of(total=10000), account="Acme", amount_pct=20, deal_value=6000)
    assert spent.outcome is Outcome.ROUTE and spent.near_miss is not None and spent.near_miss.rule == "small-deals"
    assert text(spent).splitlines()[-1] == (
        ":bulb: deal_value ≤ 5000 is pre-approved by `small-deals`, but its limit is used up: EUR 0 of EUR 10000 left"
        " this 30 d"
    )
    short = preview(governance, usage_of(total=9000), account="Acme", amount_pct=20, deal_value=6000)
    assert text(short).splitlines()[-1] == (
        ":bulb: deal_value ≤ 5000 is pre-approved by `small-deals`, but its budget has only EUR 1000 of EUR 10000"
        " left this 30 d"
    )


def test_an_incomplete_form_says_what_is_needed_and_evaluates_nothing(governance: Governance) -> None:
    shown = preview(governance, account="Acme", amount_pct=None, region=None)
    assert shown == Preview(kind="discount", outcome=None, needed=("Discount %",))
    assert text(shown).splitlines()[1:] == [
        ":pencil2: Still needed: Discount %",
        "_Nothing is evaluated until the form is complete and valid._",
    ]


def test_an_invalid_value_is_named_with_what_is_wrong_and_nothing_is_guessed(governance: Governance) -> None:
    shown = preview(governance, account="  ", amount_pct="101", region="emea")
    assert shown.outcome is None and shown.rule is None and shown.budgets == ()
    assert shown.needed == ("Account",)
    assert shown.problems == (FieldProblem("Discount %", "must be at most 100 (got 101)"),)


def test_text_from_the_file_and_from_people_formats_nothing() -> None:
    shown = Preview(
        kind="k",
        outcome=None,
        needed=("<!channel> *Deal*",),
        problems=(FieldProblem("Note", "“<@U0BOSS> `x`” is not valid"),),
    )
    rendered = text(shown)
    assert "<!channel>" not in rendered and "<@U0BOSS>" not in rendered and "`x`" not in rendered
    assert "&lt;!channel&gt; ∗Deal∗" in rendered


def test_the_block_stays_within_slacks_limits() -> None:
    shown = Preview(kind="k", outcome=None, problems=tuple(FieldProblem(f"F{i}", "x" * 400) for i in range(25)))
    block = preview_block(shown)
    assert block["block_id"] == PREVIEW_BLOCK and len(block["text"]["text"]) <= MAX_SECTION_TEXT


def test_a_form_rebuilt_around_its_preview_keeps_its_inputs_ids_and_metadata(governance: Governance) -> None:
    shown = preview(governance, account="Acme", amount_pct=5, region="emea")
    view = {
        "id": "V1",
        "hash": "1.1",
        "team_id": "T1",
        "state": {"values": {}},
        "type": "modal",
        "callback_id": "signoff.request",
        "private_metadata": '{"kind":"discount"}',
        "title": {"type": "plain_text", "text": "Discount"},
        "blocks": [
            {"type": "section", "block_id": "signoff.notice", "text": {"type": "mrkdwn", "text": "old"}},
            {"type": "input", "block_id": "account", "element": {"type": "plain_text_input", "action_id": "value"}},
            {"type": "section", "block_id": PREVIEW_BLOCK, "text": {"type": "mrkdwn", "text": "stale"}},
        ],
    }
    kind = governance.kind("discount")
    form = request_modal(kind=kind.name, title="Other", fields=kind.contract.fields, preview=shown)
    rebuilt = with_preview(view, form)
    assert set(rebuilt) == {"type", "callback_id", "private_metadata", "title", "blocks"}
    assert rebuilt["title"] == view["title"] and rebuilt["private_metadata"] == view["private_metadata"]
    # The blocks are the kind's form, built afresh (not the payload's): same ids, so what was typed stays.
    assert rebuilt["blocks"] == form["blocks"] and rebuilt["blocks"][-1]["block_id"] == PREVIEW_BLOCK
    assert [b["block_id"] for b in rebuilt["blocks"]] == [*kind.contract.fields, PREVIEW_BLOCK]
    assert "Auto-approved" in rebuilt["blocks"][-1]["text"]["text"]


# -- preview: false -------------------------------------------------------------------------------

PRIVATE = DEALS.replace(
    """      - id: too-deep
        when: {amount_pct: {gt: 40}}""",
    """      - id: secret-floor
        when: {amount_pct: {between: [17, 23]}}
        decide: reject
        reason: Never in this band.
        preview: false
      - id: too-deep
        when: {amount_pct: {gt: 40}}""",
)


def test_a_private_rule_still_decides_but_the_preview_never_shows_it() -> None:
    governance = governance_from(PRIVATE)
    kind = governance.kind("discount")
    assert kind.private and [r.id for r in kind.public.rules] == [
        "small-discount",
        "too-deep",
        "big-deal",
        "small-deals",
    ]
    values = governance.validate_fields(kind, {"account": "Acme", "amount_pct": 20}, at=AT)
    assert resolve(governance, kind, values, requester="U0SAM", at=AT).rule == "secret-floor"
    shown = preview(governance, account="Acme", amount_pct=20)
    assert shown.outcome is Outcome.ROUTE and "secret" not in repr(shown) and "band" not in repr(shown)
    assert text(shown).endswith(f"_{PRIVATE_NOTE}_")


def test_preview_false_takes_only_true_or_false_and_is_pointless_on_a_shadow_rule() -> None:
    with pytest.raises(GovernanceInvalid, match=r"rules\[1\]\.preview"):
        governance_from(PRIVATE.replace("preview: false", 'preview: "no"'))
    shadow = governance_from(PRIVATE.replace("preview: false", "preview: false\n        mode: shadow"))
    assert [w.message for w in shadow.warnings if w.path.endswith("preview")] == [
        "rule “secret-floor” is a shadow rule, which the request form's preview never shows: preview: false changes nothing"
    ]
    assert not shadow.kind("discount").private  # a shadow rule never changes an outcome: no note


WITHOUT = governance_from(
    PRIVATE.replace(PRIVATE[PRIVATE.index("      - id: secret-floor") : PRIVATE.index("      - id: too-deep")], "")
)
WITH = governance_from(PRIVATE)

raw_values = st.fixed_dictionaries(
    {
        "account": st.one_of(st.none(), st.sampled_from(["", "Acme", "  "]), st.text(max_size=5)),
        "amount_pct": st.one_of(
            st.none(),
            st.integers(min_value=-5, max_value=110),
            st.floats(min_value=0, max_value=100, allow_nan=False),
            st.sampled_from(["17", "20.5", "abc", "23%"]),
        ),
        "deal_value": st.one_of(st.none(), st.integers(min_value=0, max_value=300000)),
        "region": st.one_of(st.none(), st.sampled_from(["emea", "amer", "apac", "mars"])),
    }
)


@settings(max_examples=300, deadline=None)
@given(raw=raw_values, count=st.integers(min_value=0, max_value=6), total=st.integers(min_value=0, max_value=12000))
def test_a_private_rule_changes_no_preview_but_for_the_fixed_note(
    raw: Mapping[str, object], count: int, total: int
) -> None:
    """For any input and any limit usage, the preview of a kind with a private rule is the preview of the
    same kind with that rule deleted, plus the same value-independent note."""
    usage = usage_of(count=count, total=total)
    with_private, without = preview(WITH, usage, **raw), preview(WITHOUT, usage, **raw)
    assert with_private.private and not without.private
    assert with_private == Preview(**{**without.__dict__, "private": True})
    assert preview_lines(with_private) == [*preview_lines(without), f"_{PRIVATE_NOTE}_"]
