"""Values through the real app (issue 9, items 1 and 6, and the values findings 5, 6, 13, 14): a misreadable
value is refused and nothing is stored; an emptied optional input of the form is "not given"; a number input
is read as the machine decimal Slack sends; a status shows numbers as they read back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import Signoff, build_signoff
from bot.domain.fields import FieldSpec, FieldType
from bot.slack.blocks import REQUEST_VIEW
from bot.slack.emulator import SlackEmulator
from bot.slack.modals import request_modal
from storage.records import RequestRecord
from tests.slack.test_app import dispatch, settings_for

DEALS = """
version: 1
timezone: Europe/Berlin
groups: {finance: {members: [U0FIN1]}}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true}
      deal_value: {type: money, currency: EUR, required: true}
      note: {type: text}
      seats: {type: number, integer: true}
      share: {type: number, percent: true, min: 0, max: 100}
      rate: {type: number}
      term: {type: duration}
    approvers: finance
    rules:
      - {id: small-deals, when: {deal_value: {lt: 1000}}, decide: approve, reason: Small deals are pre-approved.}
      - {id: short-terms, when: {term: {lte: 1h}}, decide: approve, reason: Short terms are pre-approved.}
"""


@pytest.fixture
def signoff(tmp_path: Path, slack: SlackEmulator) -> Iterator[Signoff]:
    settings = settings_for(tmp_path, slack)
    Path(settings.config).write_text(DEALS)
    built = build_signoff(settings)
    yield built
    built.engine.dispose()


def stored(signoff: Signoff) -> list[dict[str, object]]:
    with signoff.engine.connect() as connection:
        return list(connection.execute(select(RequestRecord.fields)).scalars())


FORMS = "write digits 0-9 with “.” as the decimal mark and “,” only between groups of three, e.g."


@pytest.mark.parametrize(
    ("typed", "notice"),
    [
        (
            '"EUR 150.000,00"',
            f"deal_value: expected an amount in EUR, got “EUR 150.000,00”; {FORMS} 1234.50, 1,234.50 or EUR 1,234.50",
        ),
        (
            "1" + "0" * 399,
            "deal_value: expected an amount in EUR, got “1" + "0" * 55 + "…”, which has more than 15 digits",
        ),
        ("-1000000", "deal_value: must be at least 0 (got -1000000)"),
    ],
)
def test_an_amount_that_could_be_misread_is_refused_and_nothing_is_stored(
    signoff: Signoff, slack: SlackEmulator, typed: str, notice: str
) -> None:
    form = {
        "command": "/request",
        "text": f"discount account=Acme deal_value={typed}",
        "user_id": "U0SAM",
        "channel_id": "C1",
        "trigger_id": "t1",
    }
    dispatch(signoff, form)
    assert slack.wait_for(lambda s: bool(s.calls_to("views.open")), timeout=5)
    modal = slack.calls_to("views.open")[0].args["view"]
    assert modal["blocks"][0]["text"]["text"] == f":warning: {notice}"
    with signoff.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(RequestRecord)).scalar_one() == 0


@pytest.mark.parametrize(
    ("typed", "notice"),
    [
        ("seats=7%", "seats: “7%”: this field takes a plain number, not a percentage; write it without “%”"),
        ("term=\u0661h", "term: expected a duration such as 90s, 15m, 8h, 14d or 2w, got “\u0661h”"),
        ("term=\uff11h", "term: expected a duration such as 90s, 15m, 8h, 14d or 2w, got “\uff11h”"),
        ("share=101%", "share: must be at most 100 (got 101)"),
    ],
)
def test_a_value_that_would_pass_a_rule_misread_is_refused_and_nothing_is_stored(
    signoff: Signoff, slack: SlackEmulator, typed: str, notice: str
) -> None:
    form = {
        "command": "/request",
        "text": f"discount account=Acme deal_value=5000 {typed}",
        "user_id": "U0SAM",
        "channel_id": "C1",
        "trigger_id": "t1",
    }
    dispatch(signoff, form)
    assert slack.wait_for(lambda s: bool(s.calls_to("views.open")), timeout=5)
    modal = slack.calls_to("views.open")[0].args["view"]
    assert modal["blocks"][0]["text"]["text"] == f":warning: {notice}"
    assert stored(signoff) == []


def test_a_percentage_takes_its_sign_and_the_status_shows_numbers_as_they_read_back(signoff: Signoff) -> None:
    form = {"user_id": "U0SAM", "channel_id": "C1", "trigger_id": "t1"}
    text = "discount account=Acme deal_value=5000 share=12.0010% rate=0.0000001"
    reply = dispatch(signoff, {**form, "command": "/request", "text": text})
    assert "REQ-1" in reply
    assert stored(signoff) == [{"account": "Acme", "deal_value": 5000, "share": 12.001, "rate": 1e-07}]
    status = dispatch(signoff, {**form, "command": "/signoff", "text": "status REQ-1"})
    assert "• *Share:* 12.0010\n• *Rate:* 0.0000001\n" in status


def submit_form(
    signoff: Signoff,
    metadata: dict[str, object],
    note: str | None,
    seats: str | None,
    deal_value: str = "5000",
) -> dict[str, Any]:
    values = {
        "account": {"value": {"type": "plain_text_input", "value": "Acme"}},
        "deal_value": {"value": {"type": "number_input", "value": deal_value}},
        "note": {"value": {"type": "plain_text_input", "value": note}},
        "seats": {"value": {"type": "number_input", "value": seats}},
    }
    view = {
        "id": f"V{len(stored(signoff))}",
        "type": "modal",
        "callback_id": REQUEST_VIEW,
        "private_metadata": json.dumps(metadata),
        "state": {"values": values},
    }
    submission = {"type": "view_submission", "user": {"id": "U0SAM"}, "team": {"id": "T0"}, "view": view}
    answer: dict[str, Any] = json.loads(dispatch(signoff, {"payload": json.dumps(submission)}))
    return answer


def test_an_emptied_optional_input_of_the_form_is_not_given(signoff: Signoff) -> None:
    assert submit_form(signoff, {"kind": "discount"}, note="", seats=None)["response_action"] == "update"
    assert stored(signoff) == [{"account": "Acme", "deal_value": 5000}]


def test_emptying_an_input_of_the_amend_form_clears_that_field(signoff: Signoff) -> None:
    submit_form(signoff, {"kind": "discount"}, note="call back", seats="3")
    assert stored(signoff) == [{"account": "Acme", "deal_value": 5000, "note": "call back", "seats": 3}]
    with signoff.engine.connect() as connection:
        request_id = connection.execute(select(RequestRecord.id)).scalar_one()
    answer = submit_form(signoff, {"kind": "discount", "amend": request_id}, note="", seats=None)
    assert answer["response_action"] == "update"
    assert stored(signoff) == [{"account": "Acme", "deal_value": 5000}]


def test_the_form_states_bounds_and_values_as_digits_that_read_back() -> None:
    fields = {
        "deal_value": FieldSpec(type=FieldType.MONEY, currency="EUR"),
        "seats": FieldSpec(type=FieldType.NUMBER, min=-5, max=1e6),
    }
    modal = request_modal(kind="discount", title="Discount", fields=fields, values={"deal_value": 2.125, "seats": 1e6})
    elements = [b["element"] for b in modal["blocks"]]
    assert [(e.get("min_value"), e.get("max_value")) for e in elements] == [("0", None), ("-5", "1000000")]
    # an Amend form starts from values that read back as they are (2.125 alone would be ambiguous)
    assert [e["initial_value"] for e in elements] == ["2.1250", "1000000"]


@pytest.mark.parametrize(
    ("until", "reply"),
    [
        ("9999-12-31", "until: expected a date from 1900-01-01 to 2999-12-31, got “9999-12-31”."),
        ("2026-02-30", "until: “2026-02-30” is not a day of the calendar (expected YYYY-MM-DD)."),
        ("soon", "until: expected a date, YYYY-MM-DD, got “soon”."),
    ],
)
def test_a_delegation_reads_its_date_like_a_date_field(signoff: Signoff, until: str, reply: str) -> None:
    form = {"command": "/signoff", "text": f"delegate <@U0ANA|ana> until {until}", "user_id": "U0FIN1"}
    assert dispatch(signoff, {**form, "channel_id": "C1", "trigger_id": "t2"}) == reply


@pytest.mark.parametrize(
    ("deal_value", "seats", "answer", "fields"),
    [
        # Slack's number input always sends "." as the decimal mark: 1.500 is 1.5, not ambiguous
        ("1.500", None, "update", [{"account": "Acme", "deal_value": 1.5}]),
        ("5000", "3.0", "update", [{"account": "Acme", "deal_value": 5000, "seats": 3}]),
        ("1500.25", None, "update", [{"account": "Acme", "deal_value": 1500.25}]),
        (
            "1,500",
            None,
            {"deal_value": "expected an amount in EUR, got “1,500”; a number input sends digits 0-9 and “.”"},
            [],
        ),
        (
            "10.005",
            None,
            {"deal_value": "expected an amount in EUR, got “10.005”, which has more than 2 decimal places"},
            [],
        ),
        ("5000", "2.5", {"seats": "expected a whole number, got “2.5”"}, []),
        (
            "\uff15000",
            None,
            {"deal_value": "expected an amount in EUR, got “\uff15000”; a number input sends digits 0-9 and “.”"},
            [],
        ),
    ],
)
def test_a_number_input_is_read_as_the_machine_decimal_slack_sends(
    signoff: Signoff, deal_value: str, seats: str | None, answer: object, fields: list[dict[str, object]]
) -> None:
    got = submit_form(signoff, {"kind": "discount"}, note=None, seats=seats, deal_value=deal_value)
    assert got["response_action"] == answer if isinstance(answer, str) else got["errors"] == answer
    assert stored(signoff) == fields


def test_the_form_hints_that_a_percentage_is_typed_without_its_sign() -> None:
    fields = {"share": FieldSpec(type=FieldType.NUMBER, percent=True, min=0, max=100)}
    block = request_modal(kind="discount", title="Discount", fields=fields)["blocks"][0]
    assert block["hint"]["text"] == "a percentage from 0 to 100: type 12.5 for 12.5%"


def test_a_number_input_starts_only_from_a_value_slack_accepts() -> None:
    fields = {
        "deal_value": FieldSpec(type=FieldType.MONEY, currency="EUR"),
        "seats": FieldSpec(type=FieldType.NUMBER, integer=True),
        "share": FieldSpec(type=FieldType.NUMBER, percent=True),
    }
    values = {"deal_value": "EUR 150.000,00", "seats": "2.5", "share": "7%"}
    modal = request_modal(kind="discount", title="Discount", fields=fields, values=values)
    assert ["initial_value" in b["element"] for b in modal["blocks"]] == [False, False, False]
    values = {"deal_value": "150000.50", "seats": "7", "share": 12.001}
    modal = request_modal(kind="discount", title="Discount", fields=fields, values=values)
    assert [b["element"]["initial_value"] for b in modal["blocks"]] == ["150000.50", "7", "12.0010"]
