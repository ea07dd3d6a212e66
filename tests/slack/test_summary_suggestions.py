"""Suggested defaults in the weekly summary DM and the **Show YAML** modal, through the real Web API
client to the emulator and, for clicks, signed ``block_actions`` requests to the real Bolt app."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_signoff
from bot.domain.clock import FixedClock
from bot.domain.condition_words import describe_when
from bot.domain.governance import Governance
from bot.domain.suggestions import Suggestion
from bot.domain.surface import Counters, SurfaceReport, Window
from bot.domain.surface_summary import Headline, KindHeadlines, OwnerSurface, SuggestedDefault
from bot.services.runtime import Runtime
from bot.services.surface_summary import queue_surface_summaries
from bot.slack.emulator import SlackEmulator, block_problems
from bot.slack.suggestion_view import (
    ADOPT,
    MAX_BUTTON_VALUE,
    SHOW_YAML,
    Carried,
    read_suggestion_value,
    suggestion_modal,
    suggestion_value,
)
from bot.slack.surface_blocks import surface_summary_blocks
from handlers.suggestions import SUGGESTION_DAMAGED
from tests.conftest import governance_from
from tests.services.test_summary_suggestions import MONDAY, ROUTINE, SUGGESTING, plain_history
from tests.slack.test_app import settings_for
from tests.slack.test_delivery import drain, gateway_for
from tests.slack.test_http_edge import Edge
from tests.slack.wsgi import interaction, signed

BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = "<!channel> *bold* _it_ `tick` ```fence``` <https://evil.example|click>"


@pytest.fixture
def governance() -> Governance:
    return governance_from(SUGGESTING)


@pytest.fixture
def edge(tmp_path: Path, slack: SlackEmulator) -> Iterator[Edge]:
    config = tmp_path / "suggesting.yaml"
    config.write_text(SUGGESTING)
    signoff = build_signoff(settings_for(tmp_path, slack, SIGNOFF_CONFIG=config))
    yield Edge(signoff.wsgi(), slack, signoff)
    signoff.engine.dispose()


def texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def readable(blocks: object) -> str:
    """Every text Slack shows of ``blocks`` (not the buttons' values, which nobody reads), one per line."""
    if isinstance(blocks, dict):
        return "\n".join(
            v if k == "text" and isinstance(v, str) else readable(v) for k, v in blocks.items() if k != "value"
        )
    if isinstance(blocks, list):
        return "\n".join(readable(item) for item in blocks)
    return ""


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b["accessory"] for b in blocks if b.get("accessory", {}).get("action_id") == SHOW_YAML]


def click(edge: Edge, value: str, *, user: str = "U0FINLEAD", trigger: str = "t-yaml") -> float:
    """A signed click on Show YAML in the owner's DM; the seconds until Signoff answered and was done."""
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T0"},
        "channel": {"id": "D0FINLEAD"},
        "container": {"type": "message", "channel_id": "D0FINLEAD"},
        "trigger_id": trigger,
        "response_url": edge.slack.response_url("yaml"),
        "actions": [{"type": "button", "action_id": SHOW_YAML, "block_id": "s", "value": value}],
    }
    body = interaction(payload)
    started = time.monotonic()
    assert edge.post(body, signed(body)).status == 200
    return time.monotonic() - started


def opened(edge: Edge) -> list[dict[str, Any]]:
    return [call.args["view"] for call in edge.slack.calls_to("views.open")]


def refusals(edge: Edge) -> list[str]:
    return [str(args.get("text")) for key, args in edge.slack.responses if key == "yaml"]


def test_the_owner_gets_the_suggestion_with_its_evidence_and_show_yaml_opens_the_rule(
    edge: Edge, slack: SlackEmulator
) -> None:
    clock = FixedClock(MONDAY)
    signoff = edge.signoff
    runtime = Runtime(uow=signoff.runtime.uow, governance=signoff.runtime.governance, clock=clock)
    gateway = gateway_for(slack)
    plain_history(runtime, clock)
    drain(runtime, gateway, clock)
    clock.set(MONDAY)
    queue_surface_summaries(runtime=runtime, timezone_of={}.get)
    drain(runtime, gateway, clock)
    post = next(m for m in slack.messages_in("D0FINLEAD") if m.event_type == "signoff_surface")
    shown = texts(post.blocks)
    assert "*Suggested defaults*" in shown
    (line,) = [b["text"]["text"] for b in post.blocks if b.get("accessory")]
    assert line.startswith("*Approve* `discount` requests when `amount_pct` ≤ 5\nRule `")
    assert (
        f"People approved {ROUTINE} of {ROUTINE} such requests (3 approvers); median wait 2.0 h; "
        "would have resolved 80 % of this kind's human decisions." in line
    )
    assert "`travel` requests" not in shown  # five decisions: too few to suggest anything
    (button,) = buttons(post.blocks)
    assert button["text"]["text"] == "Show YAML" and len(button["value"]) <= MAX_BUTTON_VALUE
    # The legal lead's summary has no suggestion, and no heading for none.
    legal = next(m for m in slack.messages_in("D0LAWLEAD") if m.event_type == "signoff_surface")
    assert "Suggested defaults" not in texts(legal.blocks) and buttons(legal.blocks) == []

    seconds = click(edge, button["value"])
    assert seconds < 3
    (view,) = opened(edge)
    modal = texts(view["blocks"])
    carried = read_suggestion_value(button["value"])
    assert carried is not None and not carried.cut
    rule_id = carried.suggestion.rule_id
    assert f"- id: {rule_id}" in modal and "amount_pct:" in modal and "lte: 5" in modal
    assert "decide: approve" in modal and "tests:" in modal and "expect: approve" in modal
    assert "add it to signoff.yaml in a reviewed change" in modal and ADOPT in modal
    assert block_problems(view["blocks"], limit=100) == []


def test_a_click_by_anyone_but_the_owner_is_refused_and_opens_nothing(edge: Edge) -> None:
    value = suggestion_value(suggestion())
    assert value is not None
    click(edge, value, user="U0FIN1", trigger="t-fin1")  # an approver, say with a forwarded payload
    assert edge.slack.wait_for(lambda s: bool(refusals(edge)), timeout=5)
    assert refusals(edge) == [":no_entry: only <@U0FINLEAD>, who owns discount, may see its suggested defaults"]
    assert opened(edge) == []
    gone = suggestion(kind="gone")
    click(edge, suggestion_value(gone) or "", trigger="t-gone")
    assert edge.slack.wait_for(lambda s: len(refusals(edge)) == 2, timeout=5)
    assert "no longer in the governance file" in refusals(edge)[1] and opened(edge) == []


def test_a_damaged_value_is_answered_in_a_sentence(edge: Edge) -> None:
    click(edge, '{"k":"discount"}', trigger="t-damaged")
    assert edge.slack.wait_for(lambda s: bool(refusals(edge)), timeout=5)
    assert refusals(edge) == [f":warning: {SUGGESTION_DAMAGED}"] and opened(edge) == []


def suggestion(*, kind: str = "discount", tests: int = 2, text: str = "Acme", **changes: Any) -> Suggestion:
    made = Suggestion(
        kind=kind,
        rule_id="routine-small-discount",
        when={"all": [{"amount_pct": {"lte": 5}}, {"tier": {"in": ["partner", "reseller"]}}]},
        decide="approve",
        reason="People approved 80 of 80 such requests.",
        support=80,
        approved=80,
        rejected=0,
        approvers=3,
        coverage=0.8,
        median_wait_hours=2.0,
        examples=("REQ-1", "REQ-2"),
        tests=tuple(
            {"fields": {"account": f"{text} {n}", "amount_pct": 5, "tier": "partner"}, "expect": "approve"}
            for n in range(tests)
        ),
    )
    return replace(made, **changes)


def test_a_value_too_long_for_a_button_drops_the_tests_and_the_modal_says_where_they_are(edge: Edge) -> None:
    many = suggestion(tests=60, text="A long account name that takes room")
    whole = read_suggestion_value(suggestion_value(suggestion()))
    assert whole is not None and not whole.cut and whole.suggestion == suggestion()
    value = suggestion_value(many)
    assert value is not None and len(value) <= MAX_BUTTON_VALUE
    carried = read_suggestion_value(value)
    assert carried is not None and carried.cut and carried.suggestion.tests == ()
    assert carried.suggestion.examples == ("REQ-1", "REQ-2") and carried.suggestion.when == many.when
    click(edge, value, trigger="t-long")
    (view,) = opened(edge)
    modal = texts(view["blocks"])
    assert "routine-small-discount" in modal and "tests:" not in modal
    assert "`signoff suggest --kind discount --write FILE` writes the rule with all its tests" in modal
    # Even the examples go when they alone are too much; nothing fits: no button, the command is named.
    examples = suggestion(tests=60, examples=tuple(f"REQ-{n}" for n in range(300)))
    trimmed = read_suggestion_value(suggestion_value(examples))
    assert trimmed is not None and trimmed.suggestion.examples == () and trimmed.cut
    huge = suggestion(reason="x" * 2500)
    assert suggestion_value(huge) is None
    blocks = surface_summary_blocks(surface(huge), week="2026-W11")
    assert buttons(blocks) == [] and "Too large to show here: `signoff suggest --kind discount`" in texts(blocks)


def surface(*suggestions: Suggestion) -> OwnerSurface:
    fields = governance_from(SUGGESTING).kinds["discount"].contract.fields
    shown = tuple(SuggestedDefault(s, describe_when(s.when, fields, tz=BERLIN)) for s in suggestions)
    figures = Headline(100, 0.0, 100, 2.0, 2.0, 0, (), share_divisor=100)
    month = SurfaceReport(Window(MONDAY - timedelta(days=30), MONDAY), "v", Counters(), ())
    return OwnerSurface("U0FINLEAD", (KindHeadlines("discount", "Discount", figures, figures),), month, shown)


def test_hostile_text_is_escaped_in_the_dm_and_in_the_modal(edge: Edge) -> None:
    hostile = replace(
        suggestion(rule_id="r-" + HOSTILE, when={"account": {"in": [HOSTILE]}, "amount_pct": {"lte": 5}}),
        tests=({"fields": {"account": HOSTILE, "amount_pct": 5}, "expect": "approve"},),
    )
    blocks = surface_summary_blocks(surface(hostile), week="2026-W11")
    dm = readable(blocks)
    for raw in ("<!channel>", "*bold*", "_it_", "`tick`", "```", "<https://"):
        assert raw not in dm
    assert "&lt;!channel&gt; ∗bold∗ ˍitˍ ˋtickˋ" in dm and "when `account` is “&lt;!channel&gt;" in dm
    assert block_problems(blocks, limit=50) == []
    # A rule id the file would refuse is a damaged value when clicked: the modal is shown hostile values.
    (button,) = buttons(surface_summary_blocks(surface(replace(hostile, rule_id="r-hostile")), week="2026-W11"))
    click(edge, button["value"], trigger="t-hostile")
    (view,) = opened(edge)
    # The YAML is in rich-text preformatted blocks, which Slack shows literally: byte for byte as the
    # file would have it (no mrkdwn, mention or link is parsed there), so nothing is escaped or replaced.
    yaml_text = "\n".join(
        element["text"]
        for block in view["blocks"]
        if block["type"] == "rich_text"
        for part in block["elements"]
        for element in part["elements"]
    )
    assert all(
        part["type"] == "rich_text_preformatted" and {e["type"] for e in part["elements"]} == {"text"}
        for block in view["blocks"]
        if block["type"] == "rich_text"
        for part in block["elements"]
    )
    assert yaml_text.count(HOSTILE) >= 2  # in the rule's `when` and in its test, exactly as written
    sections = [b for b in view["blocks"] if b["type"] == "section"]
    assert "<!channel>" not in texts(sections)
    assert block_problems(view["blocks"], limit=100) == []


def test_the_modal_keeps_within_slacks_limits_whatever_it_carries() -> None:
    # What a button could never carry, in case: lines longer than a section, and more than a view holds.
    long_lines = suggestion(tests=40, text="y&<" * 1000)
    blocks = suggestion_modal(Carried(long_lines))["blocks"]
    assert block_problems(blocks, limit=100) == []
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if "text" in b)
    five = surface(*(replace(suggestion(), rule_id=f"r{n}", coverage=0.1 * n) for n in range(5)))
    assert len(buttons(surface_summary_blocks(five, week="2026-W11"))) == 5
