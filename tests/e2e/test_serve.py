"""End to end: `signoff serve` over HTTP, requests signed as Slack signs them, the Web API emulated."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.slack.blocks import APPROVE, CHANGES, REJECT
from bot.slack.emulator import Message, SlackEmulator
from tests.e2e.conftest import SECRET, SignoffProcess, has_buttons, request_cards

WAIT = 15.0


def cards_of(slack: SlackEmulator, ref: str) -> list[Message]:
    return request_cards(slack, ref=ref)


def wait_cards(served: SignoffProcess, ref: str, count: int) -> list[Message]:
    assert served.slack.wait_for(lambda s: len(cards_of(s, ref)) >= count, timeout=WAIT), (
        f"{ref}: fewer than {count} cards"
    )
    return cards_of(served.slack, ref)


def button(message: Message, action_id: str) -> str:
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button on the card")


def ref_in(text: str) -> str:
    start = text.index("`REQ-") + 1
    return text[start : text.index("`", start)]


def dms_to(slack: SlackEmulator, user: str) -> list[str]:
    return [m.text for m in slack.messages_in("D" + user[1:])]


def test_a_bad_or_stale_signature_is_refused(served: SignoffProcess) -> None:
    body = b"command=%2Frequest&text=help&user_id=U0SAM"
    assert served.post(body, "application/x-www-form-urlencoded", secret="wrong").status == 401
    stale = int(time.time()) - 6 * 60
    assert served.post(body, "application/x-www-form-urlencoded", timestamp=stale).status == 401
    assert served.post(body, "application/x-www-form-urlencoded").status == 200


def test_routine_requests_are_decided_in_the_acknowledgement(served: SignoffProcess) -> None:
    approved = served.command("/request", "discount account=Acme amount_pct=5", user="U0AUTO1")
    assert approved.status == 200
    assert "approved by rule `small`: Small is fine. (owner <@U0FINLEAD>)" in approved.body
    assert "`REQ-" in approved.body
    rejected = served.command("/request", "discount account=Acme amount_pct=50", user="U0AUTO1")
    assert "rejected by rule `over-limit`: Too much." in rejected.body


def test_route_then_approve_updates_every_card_and_tells_the_requester_once(served: SignoffProcess) -> None:
    reply = served.command("/request", 'discount account="Globex Corp" amount_pct=25', user="U0REQ1")
    assert "sent to *finance*" in reply.body
    ref = ref_in(reply.body)
    cards = wait_cards(served, ref, 2)
    assert {c.channel for c in cards} == {"D0FIN1", "D0FIN2"}
    first, second = button(cards[0], APPROVE), button(cards[1], APPROVE)
    assert served.click(APPROVE, first, user="U0FIN1").status == 200
    assert served.slack.wait_for(lambda s: all(not has_buttons(c) for c in cards_of(s, ref)), timeout=WAIT)
    assert all("Approved* by <@U0FIN1>" in json.dumps(c.blocks) for c in cards_of(served.slack, ref))
    assert served.slack.wait_for(lambda s: any(ref in t for t in dms_to(s, "U0REQ1")), timeout=WAIT)
    assert [t for t in dms_to(served.slack, "U0REQ1") if ref in t] == [f"{ref} was approved by <@U0FIN1>."]
    again = served.click(APPROVE, second, user="U0FIN2")  # a click on the other copy, just after
    assert again.status == 200
    assert served.slack.wait_for(
        lambda s: any("already approved by <@U0FIN1>" in str(r[1]) for r in s.responses), timeout=WAIT
    )


def reason_form(served: SignoffProcess, ref: str) -> dict[str, Any]:
    """The reason form opened for ``ref`` (it opens just after the click is answered)."""

    def forms(slack: SlackEmulator) -> list[dict[str, Any]]:
        views = [c.args["view"] for c in slack.calls_to("views.open")]
        return [v for v in views if v.get("callback_id") == "signoff.reason" and ref in v["title"]["text"].split()]

    assert served.slack.wait_for(lambda s: bool(forms(s)), timeout=WAIT)
    return forms(served.slack)[-1]


def test_reject_asks_for_a_reason_and_passes_it_on(served: SignoffProcess) -> None:
    ref = ref_in(served.command("/request", "discount account=Initech amount_pct=30", user="U0REQ2").body)
    card = wait_cards(served, ref, 1)[0]
    served.click(REJECT, button(card, REJECT), user="U0FIN2")
    view = reason_form(served, ref)
    empty = served.submit_view(view, {"reason": {"type": "plain_text_input", "value": ""}}, user="U0FIN2")
    assert empty.json()["response_action"] == "errors"
    done = served.submit_view(
        view, {"reason": {"type": "plain_text_input", "value": "Margin below floor"}}, user="U0FIN2"
    )
    assert done.status == 200 and done.body in ("", "{}")
    assert served.slack.wait_for(lambda s: any("Margin below floor" in t for t in dms_to(s, "U0REQ2")), timeout=WAIT)


def test_ask_for_changes_then_amend_then_approve(served: SignoffProcess) -> None:
    ref = ref_in(served.command("/request", "discount account=Umbrella amount_pct=35", user="U0REQ3").body)
    card = wait_cards(served, ref, 1)[0]
    served.click(CHANGES, button(card, CHANGES), user="U0FIN1")
    view = reason_form(served, ref)
    served.submit_view(
        view, {"reason": {"type": "plain_text_input", "value": "Attach the signed quote"}}, user="U0FIN1"
    )
    assert served.slack.wait_for(
        lambda s: any("asked for changes" in t and ref in t for t in dms_to(s, "U0REQ3")), timeout=WAIT
    )
    amended = served.command("/signoff", f"amend {ref} amount_pct=30", user="U0REQ3")
    assert "amended and sent to *finance*" in amended.body
    assert served.slack.wait_for(lambda s: any(has_buttons(c) for c in cards_of(s, ref)), timeout=WAIT)
    fresh = [c for c in cards_of(served.slack, ref) if has_buttons(c)]
    served.click(APPROVE, button(fresh[0], APPROVE), user="U0FIN2")
    assert served.slack.wait_for(lambda s: any(f"{ref} was approved" in t for t in dms_to(s, "U0REQ3")), timeout=WAIT)


def test_quorum_self_approval_and_strangers(served: SignoffProcess) -> None:
    reply = served.command("/exception", "brand asset=https://cdn.example.com/a.png until=2099-12-31", user="U0BR1")
    assert "sent to *brand-council* (2 approvals)" in reply.body
    ref = ref_in(reply.body)
    card = wait_cards(served, ref, 2)[0]
    value = button(card, APPROVE)
    served.click(APPROVE, value, user="U0BR1")  # the requester
    served.click(APPROVE, value, user="U0NOBODY")
    assert served.slack.wait_for(
        lambda s: any("someone else has to decide it" in str(r[1]) for r in s.responses), timeout=WAIT
    )
    assert served.slack.wait_for(
        lambda s: any("you are not an approver" in str(r[1]) for r in s.responses), timeout=WAIT
    )
    served.click(APPROVE, value, user="U0BR2")
    assert served.slack.wait_for(
        lambda s: any("brand-council 1/2" in json.dumps(c.blocks) for c in cards_of(s, ref)), timeout=WAIT
    )
    served.click(APPROVE, value, user="U0BR3")
    assert served.slack.wait_for(lambda s: any(f"{ref} was approved" in t for t in dms_to(s, "U0BR1")), timeout=WAIT)


def test_exception_commands_and_categories(served: SignoffProcess) -> None:
    wrong = served.command("/exception", "discount account=A amount_pct=5")
    assert "discount is an approval kind: file it with /request" in wrong.body
    assert "file it with /request" in served.command("/exception", "discount").body  # not a form either
    anything = served.command("/request", "brand asset=https://a.io/b.png until=2099-01-31", user="U0REQ7")
    assert "sent to *brand-council* (2 approvals)" in anything.body  # /request files any kind
    trigger = served.trigger()
    past = served.command("/exception", "brand asset=https://a.io/x.png until=2001-01-01", trigger=trigger)
    assert past.status == 200
    assert served.slack.wait_for(
        lambda s: any(c.args.get("trigger_id") == trigger for c in s.calls_to("views.open")), timeout=WAIT
    )
    view = next(c for c in served.slack.calls_to("views.open") if c.args.get("trigger_id") == trigger).args["view"]
    assert "until: must be today or later" in view["blocks"][0]["text"]["text"]


def test_missing_fields_open_the_form_with_the_errors(served: SignoffProcess) -> None:
    trigger = served.trigger()
    reply = served.command("/request", "discount amount_pct=500", trigger=trigger)
    assert reply.status == 200
    assert served.slack.wait_for(
        lambda s: any(c.args.get("trigger_id") == trigger for c in s.calls_to("views.open")), timeout=WAIT
    )
    view = next(c for c in served.slack.calls_to("views.open") if c.args.get("trigger_id") == trigger).args["view"]
    notice = view["blocks"][0]["text"]["text"]
    assert "account: is required" in notice and "amount_pct: must be at most 100 (got 500)" in notice
    amount = next(b for b in view["blocks"] if b.get("block_id") == "amount_pct")
    assert amount["element"]["initial_value"] == "500"


def test_unknown_kind_lists_the_kinds(served: SignoffProcess) -> None:
    reply = served.command("/request", "refund amount=5")
    assert "There is no kind `refund`. Kinds: `brand`, `contract`, `discount`" in reply.body


def test_app_home_is_published(served: SignoffProcess) -> None:
    served.command("/request", "discount account=HomeCo amount_pct=20", user="U0REQ4")
    assert served.event({"type": "app_home_opened", "user": "U0FIN2", "tab": "home"}).status == 200
    assert served.slack.wait_for(lambda s: "U0FIN2" in s.home_views, timeout=WAIT)
    assert "HomeCo" in json.dumps(served.slack.home_views["U0FIN2"])


def test_mrkdwn_injection_is_shown_literally_on_the_card(served: SignoffProcess) -> None:
    reply = served.command(
        "/request", "discount account=&lt;!channel&gt; &lt;https://evil.example|bank&gt; amount_pct=22", user="U0REQ5"
    )
    card = wait_cards(served, ref_in(reply.body), 1)[0]
    cells = [cell for block in card.blocks if block["type"] == "section" for cell in block.get("fields", [])]
    mrkdwn = json.dumps([cell for cell in cells if cell["type"] == "mrkdwn"])
    assert "<!channel>" not in mrkdwn and "<https://evil" not in mrkdwn
    # The value as typed, in a plain_text object: Slack shows it literally, never as markup.
    assert {"type": "plain_text", "text": "<!channel> <https://evil.example|bank>", "emoji": False} in cells


def test_huge_bodies_are_refused(served: SignoffProcess) -> None:
    """A body over 1 MB is answered 413 from its headers alone, before any of it is read."""
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: signoff\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {1024 * 1024 + 1}\r\n\r\n".encode()
        )  # the headers only: the server must answer without waiting for the body
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"413", status_line


def test_the_form_path_pick_a_kind_fill_it_in_and_amend_from_the_dm(served: SignoffProcess) -> None:
    trigger = served.trigger()
    served.command("/request", "", user="U0REQ6", trigger=trigger)
    assert served.slack.wait_for(
        lambda s: any(c.args.get("trigger_id") == trigger for c in s.calls_to("views.open")), timeout=WAIT
    )
    picker = next(c for c in served.slack.calls_to("views.open") if c.args.get("trigger_id") == trigger).args["view"]
    opened = next(v for v in served.slack.views.values() if v.get("private_metadata") == picker["private_metadata"])
    served.interact(
        {
            "type": "block_actions",
            "user": {"id": "U0REQ6"},
            "view": opened,
            "actions": [
                {"action_id": "signoff.pick_kind", "selected_option": {"value": "discount"}, "type": "static_select"}
            ],
        }
    )
    assert served.slack.wait_for(
        lambda s: any(c.args.get("view_id") == opened["id"] for c in s.calls_to("views.update")), timeout=WAIT
    )
    form = next(c for c in served.slack.calls_to("views.update") if c.args.get("view_id") == opened["id"]).args["view"]
    assert [b["block_id"] for b in form["blocks"]] == ["account", "amount_pct", "deal_value", "signoff.preview"]
    invalid = served.submit_view(
        {**form, "id": opened["id"]},
        {
            "account": {"type": "plain_text_input", "value": "Hooli"},
            "amount_pct": {"type": "number_input", "value": "120"},
        },
        user="U0REQ6",
    )
    assert invalid.json() == {"response_action": "errors", "errors": {"amount_pct": "must be at most 100 (got 120)"}}
    done = served.submit_view(
        {**form, "id": opened["id"]},
        {
            "account": {"type": "plain_text_input", "value": "Hooli"},
            "amount_pct": {"type": "number_input", "value": "33"},
        },
        user="U0REQ6",
    )
    assert done.json()["response_action"] == "update"
    ref = ref_in(done.json()["view"]["blocks"][0]["text"]["text"])
    card = wait_cards(served, ref, 1)[0]
    served.click(CHANGES, button(card, CHANGES), user="U0FIN1")
    assert served.slack.wait_for(
        lambda s: any(ref in c.args["view"]["title"]["text"] for c in s.calls_to("views.open")), timeout=WAIT
    )
    reason = [c for c in served.slack.calls_to("views.open") if ref in c.args["view"]["title"]["text"]][-1].args["view"]
    served.submit_view(reason, {"reason": {"type": "plain_text_input", "value": "Lower it a bit"}}, user="U0FIN1")
    assert served.slack.wait_for(
        lambda s: any(ref in m.text and "asked for changes" in m.text for m in s.messages_in("D0REQ6")), timeout=WAIT
    )
    dm = next(m for m in served.slack.messages_in("D0REQ6") if ref in m.text and "asked for changes" in m.text)
    amend_value = button(dm, "signoff.amend")
    served.click("signoff.amend", amend_value, user="U0REQ6")
    assert served.slack.wait_for(
        lambda s: any(f"Amend {ref}" == c.args["view"]["title"]["text"] for c in s.calls_to("views.open")), timeout=WAIT
    )
    amend_form = next(
        c for c in served.slack.calls_to("views.open") if c.args["view"]["title"]["text"] == f"Amend {ref}"
    ).args["view"]
    prefilled = {b["block_id"]: b["element"].get("initial_value") for b in amend_form["blocks"] if b["type"] == "input"}
    assert prefilled["account"] == "Hooli" and prefilled["amount_pct"] == "33"
    amended = served.submit_view(
        {**amend_form, "id": "VAMEND"},
        {
            "account": {"type": "plain_text_input", "value": "Hooli"},
            "amount_pct": {"type": "number_input", "value": "8"},
        },
        user="U0REQ6",
    )
    assert "amended and approved by rule `small`" in json.dumps(amended.json())


def test_the_signoff_command_summary_status_explain_delegate_cancel(served: SignoffProcess) -> None:
    ref = ref_in(served.command("/request", "discount account=Stark amount_pct=26", user="U0REQ8").body)
    summary = served.command("/signoff", "", user="U0FIN1").body
    assert "*Waiting on you*" in summary and f"`{ref}`" in summary
    insider = served.command("/signoff", f"status {ref}", user="U0REQ8").body
    assert (
        "*Discount approval*" in insider
        and "Account:* Stark" in insider
        and "finance 0/1" in insider
        and "_Receipt:" in insider
    )
    outsider = served.command("/signoff", f"status {ref}", user="U0STRANGER").body
    assert outsider.startswith(f"`{ref}` is pending.") and "Stark" not in outsider
    explained = served.command("/signoff", "explain discount account=X amount_pct=50", user="U0REQ8").body
    assert "Outcome: rejected by rule over-limit" in explained and "Dry run: nothing was stored" in explained
    delegated = served.command("/signoff", "delegate <@U0DANA|dana> until 2099-12-31", user="U0FIN1").body
    assert "Until the end of 2099-12-31, <@U0DANA> may approve wherever you may." in delegated
    assert f"`{ref}`" in served.command("/signoff", "", user="U0DANA").body  # it now waits on Dana too
    assert "Delegation to <@U0DANA> ended." in served.command("/signoff", "delegate off", user="U0FIN1").body
    assert "can cancel it" in served.command("/signoff", f"cancel {ref}", user="U0FIN1").body
    assert f"`{ref}` is cancelled" in served.command("/signoff", f"cancel {ref}", user="U0REQ8").body
    assert "Which request?" in served.command("/signoff", "status", user="U0REQ8").body
    assert "I don't know `frobnicate`" in served.command("/signoff", "frobnicate", user="U0REQ8").body


def raw_post(served: SignoffProcess, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(f"{served.url}/slack/events", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize(
    ("body", "content_type", "signed", "status", "answer"),
    [
        (b"payload={nope", "application/x-www-form-urlencoded", False, 401, "the request is not signed"),
        (b"\xff\xfe\xfd", "application/x-www-form-urlencoded", False, 401, "the request is not signed"),
        (b"[1, 2]", "application/json", False, 401, "the request is not signed"),
        (b"payload={nope", "application/x-www-form-urlencoded", True, 400, "the payload is not JSON"),
        (b"\xff\xfe\xfd", "application/x-www-form-urlencoded", True, 400, "the body is not UTF-8 text"),
        (b"[1, 2]", "application/json", True, 400, "the JSON body is not a JSON object"),
    ],
)
def test_the_issue_examples_over_real_http(
    served: SignoffProcess, body: bytes, content_type: str, signed: bool, status: int, answer: str
) -> None:
    """Through waitress: refused before parsing, one log line each (``stop`` asserts no traceback on stderr)."""
    stamp = str(int(time.time()))
    headers = {"Content-Type": content_type}
    if signed:
        mac = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        headers |= {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={mac}"}
    got_status, got_answer = raw_post(served, body, headers)
    assert (got_status, got_answer.startswith(answer)) == (status, True), got_answer


def test_a_chunked_body_over_1_mib_is_413(served: SignoffProcess) -> None:
    """No Content-Length to trust: waitress counts the chunks and stops at 1 MiB."""

    def chunks() -> Iterator[bytes]:
        for _ in range(33):
            yield b"a" * 32768

    request = urllib.request.Request(
        f"{served.url}/slack/events", data=chunks(), headers={"Content-Type": "text/plain"}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    refused.value.close()
    assert refused.value.code == 413
