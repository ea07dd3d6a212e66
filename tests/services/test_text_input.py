"""A blocked name is never auto-approved, however it is spelled, and bad text stores nothing (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.contracts import ContractError, FieldProblem
from bot.domain.errors import NotAllowed
from bot.domain.lifecycle import State
from bot.domain.routing import Verdict
from bot.services.amend import amend_request
from bot.services.decide import decide_request
from bot.services.explain import explain_request
from bot.services.runtime import Runtime
from bot.services.status import request_status
from bot.services.submit import submit_request
from tests.conftest import governance_from, make_runtime
from tests.services.conftest import Tables

BLOCKLIST = """
version: 1
groups: {finance: {members: [U0FIN1]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      account: {type: text, required: true}
      note: {type: text, multiline: true}
    approvers: finance
    rules:
      - {id: blocked, when: {account: {in: [Evil Corp]}}, decide: reject, reason: We do not sell to Evil Corp.}
      - {id: routine, when: {account: {set: true}}, decide: approve, reason: Routine.}
"""

NUL = "contains the control character U+0000, which is not allowed"
SPOOF = (
    "“Еvil” mixes letters of different scripts (U+0415 CYRILLIC CAPITAL LETTER IE (Cyrillic), "
    "U+0076 LATIN SMALL LETTER V (Latin)), as look-alike spoofs do; type the word in one script"
)


@pytest.fixture
def runtime(engine: Engine, clock: FixedClock) -> Runtime:
    return make_runtime(engine, governance_from(BLOCKLIST), clock)


# (as typed, as stored and shown)
SPELLINGS = [
    ("Evil Corp", "Evil Corp"),
    ("Evil\u200b Corp", "Evil Corp"),
    ("Evil\u00a0Corp", "Evil Corp"),
    ("evil corp", "evil corp"),
    ("EVIL  CORP", "EVIL CORP"),
    ("Ｅｖｉｌ Ｃｏｒｐ", "Evil Corp"),
    ("Evil\u2060 Corp", "Evil Corp"),
    ("Evil Corp\u3164", "Evil Corp"),  # Hangul filler
    ("Evil\u034f Corp", "Evil Corp"),  # combining grapheme joiner
    ("Evil Corp\ufe0f", "Evil Corp"),  # variation selector
    ("Evil\U000e0100 Corp", "Evil Corp"),  # variation selector-17
    ("Evil\u17b4 Corp", "Evil Corp"),  # Khmer inherent vowel
    ("Evil\u180f Corp", "Evil Corp"),  # Mongolian free variation selector
    ("Evil\U000e0041 Corp", "Evil Corp"),  # tag character
    ("Evil\u2800Corp", "Evil Corp"),  # Braille blank
    ("Evil\uffa0Corp", "Evil Corp"),  # halfwidth Hangul filler
]


@pytest.mark.parametrize(("account", "stored"), SPELLINGS)
def test_every_spelling_of_a_blocked_name_is_rejected_by_its_rule(runtime: Runtime, account: str, stored: str) -> None:
    by_modal = submit_request(runtime=runtime, kind="deal", requester="U0SAM", fields={"account": account})
    by_slash = submit_request(runtime=runtime, kind="deal", requester="U0SAM", text=f'account="{account}"')
    for submission in (by_modal, by_slash):
        assert (submission.state, submission.rule) == (State.REJECTED, "blocked")
        status = request_status(runtime=runtime, request_id=submission.request_id, viewer="U0SAM")
        assert status.card is not None and [f.value for f in status.card.fields] == [stored]


def test_a_name_that_is_not_blocked_is_still_approved(runtime: Runtime) -> None:
    submission = submit_request(runtime=runtime, kind="deal", requester="U0SAM", fields={"account": "Газпром"})
    assert (submission.state, submission.rule) == (State.APPROVED, "routine")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"account": "\u0415vil Corp"}, FieldProblem("account", SPOOF)),  # Cyrillic Е
        ({"account": "Evil\x00Corp"}, FieldProblem("account", NUL)),
        (
            {"account": "Acme\n*Amount pct:* 5"},
            FieldProblem("account", "is a single-line field: remove the line break"),
        ),
        ({"account": "Acme", "note": "pre-approved\x00"}, FieldProblem("note", NUL)),
        (
            {"account": "Acme\ud800"},
            FieldProblem(
                "account",
                "contains U+D800, a lone surrogate (half a UTF-16 pair, or a byte that is not UTF-8), which is not allowed",
            ),
        ),
        ({"account": "\u3164"}, FieldProblem("account", "is required (text, up to 3000 characters)")),
    ],
)
def test_text_that_cannot_be_shown_as_typed_is_refused_and_nothing_is_stored(
    runtime: Runtime, tables: Tables, fields: dict[str, str], problem: FieldProblem
) -> None:
    before = tables.snapshot()
    for attempt in ({"fields": fields}, {"text": " ".join(f'{k}="{v}"' for k, v in fields.items())}):
        with pytest.raises(ContractError) as caught:
            submit_request(runtime=runtime, kind="deal", requester="U0SAM", **attempt)  # type: ignore[arg-type]
        assert caught.value.problems == [problem]
    assert tables.snapshot() == before


@pytest.fixture
def routed(engine: Engine, clock: FixedClock) -> Runtime:
    """The same file where a request without a note waits for finance."""
    governance = governance_from(
        BLOCKLIST.replace("{account: {set: true}}, decide: approve", "{note: {set: true}}, decide: approve")
    )
    return make_runtime(engine, governance, clock)


def test_amend_and_explain_see_the_same_text(routed: Runtime) -> None:
    request = submit_request(runtime=routed, kind="deal", requester="U0SAM", fields={"account": "Acme"})
    assert request.state is State.PENDING
    with pytest.raises(ContractError) as caught:
        amend_request(runtime=routed, request_id=request.request_id, requester="U0SAM", text='account="Evil\x00"')
    assert caught.value.problems == [FieldProblem("account", NUL)]
    amended = amend_request(
        runtime=routed, request_id=request.request_id, requester="U0SAM", text='account="EVIL\u00a0corp"'
    )
    assert (amended.state, amended.rule) == (State.REJECTED, "blocked")
    explained = explain_request(runtime=routed, kind="deal", text='account="evil\u200b corp"', requester="U0SAM")
    assert explained.rule == "blocked"


def test_a_reason_with_a_control_character_is_refused_and_kept_normalized_otherwise(routed: Runtime) -> None:
    request = submit_request(runtime=routed, kind="deal", requester="U0SAM", fields={"account": "Acme"})
    with pytest.raises(NotAllowed) as caught:
        decide_request(
            runtime=routed, request_id=request.request_id, voter="U0FIN1", verdict=Verdict.REJECT, reason="no\x00"
        )
    assert str(caught.value) == f"the reason {NUL}"
    decide_request(
        runtime=routed,
        request_id=request.request_id,
        voter="U0FIN1",
        verdict=Verdict.REJECT,
        reason=" Not\u00a0now.\u200b\r\nAsk again  in May. ",
    )
    status = request_status(runtime=routed, request_id=request.request_id, viewer="U0SAM")
    assert status.card is not None and status.card.decision_note == "Not now.\nAsk again in May."
