"""The API's use cases on a real database: filed exactly as the slash command files, idempotent, and kept to the client's kinds."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain.api_clients import IdempotencyMismatch, KindNotAllowed
from bot.domain.clock import FixedClock
from bot.domain.contracts import ContractError
from bot.domain.errors import NotAllowed, RequestNotFound
from bot.domain.governance import UnknownKind
from bot.domain.governance_spec import ApiClientSpec
from bot.domain.lifecycle import State
from bot.domain.routing import Verdict
from bot.services.api_requests import (
    explain_for_client,
    file_for_client,
    list_for_client,
    read_for_client,
)
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.records import AuditEventRecord
from tests.services.conftest import Tables

ROUTED = {"account": "Globex", "amount_pct": 25}


def file(runtime: Runtime, client: ApiClientSpec, fields: dict[str, object] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {"kind": "discount", "requester": "U0SAM", "fields": fields or ROUTED, **kw}
    return file_for_client(runtime=runtime, client=client, **options)  # type: ignore[arg-type]


def submission_data(tables: Tables, request_id: int) -> dict[str, object]:
    with tables.engine.connect() as connection:
        rows = connection.execute(
            select(AuditEventRecord.data)
            .where(AuditEventRecord.request_id == request_id)
            .order_by(AuditEventRecord.seq)
        )
        return dict(json.loads(rows.scalars().first() or "{}"))


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("account=Acme amount_pct=5", {"account": "Acme", "amount_pct": 5}),  # a rule approves
        ("account=Acme amount_pct=50", {"account": "Acme", "amount_pct": 50}),  # a rule rejects
        ("account=Acme amount_pct=25", {"account": "Acme", "amount_pct": 25}),  # people decide
        ("account=Acme amount_pct=20 deal_value=250000", {"account": "Acme", "amount_pct": 20, "deal_value": 250000}),
    ],
)
def test_the_api_decides_exactly_as_the_slash_command(
    runtime: Runtime, crm: ApiClientSpec, tables: Tables, text: str, fields: dict[str, object]
) -> None:
    slash = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text=text)
    api = file(runtime, crm, fields)
    assert (api.state, api.rule, api.reason, api.steps, api.due_at) == (
        slash.state,
        slash.rule,
        slash.reason,
        slash.steps,
        slash.due_at,
    )
    assert api.request_id == slash.request_id + 1 and not api.replayed
    actions = tables.audit_actions()
    assert actions[0] == actions[1]  # the same audit action for both
    keys = tables.outbox_keys()  # req:<id>:route:<round>: the same cards for both
    assert len(keys) in (0, 2) and [k.split(":")[2:] for k in keys[:1]] == [k.split(":")[2:] for k in keys[1:]]


def test_a_request_filed_through_the_api_records_where_it_came_from(
    runtime: Runtime, crm: ApiClientSpec, tables: Tables
) -> None:
    filed = file(runtime, crm)
    data = submission_data(tables, filed.request_id)
    assert data["via"] == "api:crm"
    assert isinstance(data["input_sha256"], str) and len(data["input_sha256"]) == 64
    assert read_for_client(runtime=runtime, client=crm, request_id=filed.request_id).via == "api:crm"
    slack = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25")
    assert "via" not in submission_data(tables, slack.request_id)


def test_the_same_key_twice_files_one_request_and_answers_the_same(
    runtime: Runtime, crm: ApiClientSpec, tables: Tables
) -> None:
    first = file(runtime, crm, idempotency_key="order-7")
    before = tables.snapshot()
    again = file(runtime, crm, {"amount_pct": 25, "account": "Globex"}, idempotency_key="order-7")  # key order aside
    assert tables.snapshot() == before
    assert again.replayed and (again.ref, again.state, again.steps) == (first.ref, first.state, first.steps)


def test_the_same_key_with_another_body_is_refused_and_files_nothing(
    runtime: Runtime, crm: ApiClientSpec, tables: Tables
) -> None:
    first = file(runtime, crm, idempotency_key="order-8")
    before = tables.snapshot()
    with pytest.raises(IdempotencyMismatch, match=f"already filed {first.ref} with a different body"):
        file(runtime, crm, {"account": "Globex", "amount_pct": 26}, idempotency_key="order-8")
    with pytest.raises(IdempotencyMismatch):
        file(runtime, crm, ROUTED, idempotency_key="order-8", requester="U0OTHER")
    assert tables.snapshot() == before


def test_keys_are_each_clients_own(runtime: Runtime, crm: ApiClientSpec) -> None:
    other = ApiClientSpec(id="erp", token_sha256="0" * 64, kinds=["discount"])
    mine = file(runtime, crm, idempotency_key="shared")
    theirs = file(runtime, other, idempotency_key="shared")
    assert mine.ref != theirs.ref and not theirs.replayed
    slack = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25")
    assert slack.ref not in (mine.ref, theirs.ref)


def test_a_retry_finds_its_request_even_once_a_date_in_it_has_passed(
    runtime: Runtime, crm: ApiClientSpec, clock: FixedClock
) -> None:
    today = clock.now().date().isoformat()
    fields = {"asset": "https://cdn.example.com/a.png", "until": today}
    first = file(runtime, crm, fields, kind="brand", idempotency_key="brand-1")
    clock.advance(timedelta(days=3))
    again = file(runtime, crm, fields, kind="brand", idempotency_key="brand-1")
    assert again.replayed and again.ref == first.ref
    with pytest.raises(ContractError):  # without the key, the same body is no longer valid
        file(runtime, crm, fields, kind="brand")


def test_contract_errors_name_every_field_and_store_nothing(
    runtime: Runtime, crm: ApiClientSpec, tables: Tables, clock: FixedClock
) -> None:
    before = tables.snapshot()
    with pytest.raises(ContractError) as caught:
        file(runtime, crm, {"amount_pct": "lots", "colour": "red"}, idempotency_key="k1")
    assert sorted(p.field or "" for p in caught.value.problems) == ["account", "amount_pct", "colour"]
    past = (clock.now().date() - timedelta(days=1)).isoformat()
    with pytest.raises(ContractError) as caught:
        file(runtime, crm, {"asset": "not a url", "until": past}, kind="brand")
    assert sorted(p.field or "" for p in caught.value.problems) == ["asset", "until"]
    assert "must be today or later" in str(caught.value)
    assert tables.snapshot() == before
    assert file(runtime, crm, idempotency_key="k1").state is State.PENDING  # a failed call's key files later


def test_a_client_files_only_its_kinds(runtime: Runtime, crm: ApiClientSpec, legal: ApiClientSpec) -> None:
    with pytest.raises(KindNotAllowed, match="“crm” may not use kind “contract”"):
        file(runtime, crm, {"counterparty": "Initech"}, kind="contract")
    with pytest.raises(UnknownKind) as caught:
        file(runtime, legal, kind="discont")
    assert caught.value.known == ["contract"]  # only the client's own kinds are named
    assert file(runtime, legal, {"counterparty": "Initech"}, kind="Contract").state is State.PENDING


def test_limits_count_requests_from_slack_and_the_api_together(runtime: Runtime, crm: ApiClientSpec) -> None:
    small = {"account": "Acme", "amount_pct": 5}
    assert submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=5").rule
    assert file(runtime, crm, small).state is State.APPROVED
    third = file(runtime, crm, small)  # `small` allows 2 per requester in 30 days
    assert third.state is State.PENDING and third.rule is None


def test_a_slack_user_filing_through_the_api_still_cannot_approve_their_own_request(
    runtime: Runtime, crm: ApiClientSpec
) -> None:
    filed = file(runtime, crm, requester="U0FIN1")  # a finance member asks; finance approves
    with pytest.raises(NotAllowed):
        decide_request(runtime=runtime, request_id=filed.request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
    decision = decide_request(runtime=runtime, request_id=filed.request_id, voter="U0FIN2", verdict=Verdict.APPROVE)
    assert decision.state is State.APPROVED


def test_reading_a_request_shows_votes_receipt_and_times(
    runtime: Runtime, crm: ApiClientSpec, legal: ApiClientSpec
) -> None:
    filed = file(runtime, crm)
    decide_request(
        runtime=runtime, request_id=filed.request_id, voter="U0FIN2", verdict=Verdict.REJECT, reason="Margin"
    )
    detail = read_for_client(runtime=runtime, client=crm, request_id=filed.request_id)
    assert detail.request.state is State.REJECTED and detail.request.decided_by == "U0FIN2"
    assert [(v.ballot.voter, v.ballot.verdict, v.reason) for v in detail.votes] == [
        ("U0FIN2", Verdict.REJECT, "Margin")
    ]
    assert detail.receipt["outcome"] == "route" and detail.receipt["inputs"]["requester"] == "U0SAM"
    with pytest.raises(RequestNotFound):  # another client's kind: not found, so ids cannot be enumerated
        read_for_client(runtime=runtime, client=legal, request_id=filed.request_id)
    for missing in (filed.request_id + 100, 2**31 - 1, 2**31, 10**11 - 1):  # past storage's INTEGER too
        with pytest.raises(RequestNotFound):
            read_for_client(runtime=runtime, client=crm, request_id=missing)


def test_the_list_pages_newest_first_and_new_requests_never_shift_a_page(
    runtime: Runtime, crm: ApiClientSpec, legal: ApiClientSpec
) -> None:
    ids = [file(runtime, crm, {"account": f"A{n}", "amount_pct": 25}).request_id for n in range(5)]
    file(runtime, legal, {"counterparty": "Initech"}, kind="contract")  # not the CRM's kind
    first = list_for_client(runtime=runtime, client=crm, limit=2)
    assert [r.id for r in first.requests] == ids[:2:-1][:2] == [ids[4], ids[3]]
    newer = file(runtime, crm).request_id  # filed between two pages
    second = list_for_client(runtime=runtime, client=crm, limit=2, before=first.next_before)
    third = list_for_client(runtime=runtime, client=crm, limit=2, before=second.next_before)
    assert [r.id for r in second.requests] == [ids[2], ids[1]]
    assert [r.id for r in third.requests] == [ids[0]] and third.next_before is None
    assert list_for_client(runtime=runtime, client=crm, limit=1).requests[0].id == newer


def test_the_list_filters_by_kind_state_and_time(runtime: Runtime, crm: ApiClientSpec, clock: FixedClock) -> None:
    old = file(runtime, crm, {"account": "Old", "amount_pct": 5}).request_id  # approved by a rule
    clock.advance(timedelta(hours=1))
    since = clock.now()
    routed = file(runtime, crm).request_id
    brand = file(runtime, crm, {"asset": "https://x.example/a.png", "until": "2099-01-01"}, kind="brand").request_id

    def ids(**kw: object) -> list[int]:
        return [r.require_id() for r in list_for_client(runtime=runtime, client=crm, **kw).requests]  # type: ignore[arg-type]

    assert ids() == [brand, routed, old]
    assert ids(kind="discount") == [routed, old]
    assert ids(state=State.APPROVED) == [old]
    assert ids(since=since) == [brand, routed]
    with pytest.raises(KindNotAllowed):
        ids(kind="contract")
    with pytest.raises(UnknownKind):
        ids(kind="nope")


def test_explain_answers_what_filing_would_decide_and_stores_nothing(
    runtime: Runtime, crm: ApiClientSpec, tables: Tables
) -> None:
    before = tables.snapshot()
    resolution = explain_for_client(
        runtime=runtime, client=crm, kind="discount", requester="U0SAM", fields={"account": "A", "amount_pct": 5}
    )
    receipt = resolution.receipt()
    assert (receipt["outcome"], receipt["rule"], receipt["reason"]) == ("approve", "small", "Small is fine.")
    assert tables.snapshot() == before
    with pytest.raises(KindNotAllowed):
        explain_for_client(runtime=runtime, client=crm, kind="contract", requester="U0SAM", fields={})
