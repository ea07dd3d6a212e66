"""Fuzzing Slack's HTTP endpoint: any body, any headers, signed or not, through the real WSGI app.

Every answer is 200, 400, 401 or 413, and nothing is logged at ERROR or with a traceback, also
by work a listener does after its acknowledgement. Bodies are raw bytes, forms, JSON and
Slack-shaped payloads whose parts are replaced by anything (lone surrogates in JSON, ids that are
too long or hold NUL or ESC, oversized trigger ids included); about half are signed with the app's
secret (so they reach Bolt and the listeners), the rest carry missing, malformed or wrong
signature headers. ``SIGNOFF_FUZZ_EXAMPLES`` sets the number of inputs (200 by default).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.app import Signoff, build_signoff
from bot.slack.blocks import AMEND, APPROVE, CHANGES, PICK_KIND, REASON_VIEW, REJECT, REQUEST_VIEW
from bot.slack.emulator import SlackEmulator
from tests.slack.test_app import settings_for
from tests.slack.wsgi import drain, post, signature

EXAMPLES = int(os.environ.get("SIGNOFF_FUZZ_EXAMPLES", "200"))
ANSWERS = {200, 400, 401, 413}


class Recorder(logging.Handler):
    """Every record logged anywhere while the fuzz runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Signoff, Any, Recorder]]:
    recorder = Recorder()
    root = logging.getLogger()
    level = root.level
    root.addHandler(recorder)
    root.setLevel(logging.INFO)
    try:
        with SlackEmulator() as slack:
            signoff = build_signoff(settings_for(tmp_path_factory.mktemp("fuzz"), slack))
            yield signoff, signoff.wsgi(), recorder
            drain(signoff.bolt)
            signoff.engine.dispose()
    finally:
        root.removeHandler(recorder)
        root.setLevel(level)


#: Ids Slack never sends: too long, NUL, ESC, a trailing newline, a look-alike letter, lower case.
odd_ids = st.sampled_from(["U" + "A" * 39, "U0\x00SAM", "U0SAM\x1b[31mRED\x00", "U0SAM\n", "Ü0SAM", "u0sam", "U0"])
odd_triggers = st.sampled_from(["t" * 300, "t-\x00-1", "t 1", "\x1b[2J"])
#: Text JSON can carry but UTF-8 cannot: lone surrogates, mixed with controls and letters.
surrogate_text = st.lists(st.sampled_from(["\ud800", "\udc00", "\udfff", "a", "U0", "\x00", "\x1b["]), max_size=6).map(
    "".join
)
# Anything JSON can hold, small.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | surrogate_text
    | odd_ids,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
request_ids = st.one_of(
    st.integers(min_value=-5, max_value=10**12),
    st.sampled_from(["1", "٤٢", "１２", "REQ-1", "", " 7", "1e3", "00000000000000000001"]),
    json_values,
)
button_values = st.one_of(
    st.builds(lambda r, h: json.dumps({"r": r, "h": h}), request_ids, st.one_of(st.none(), st.text(max_size=64))),
    st.text(max_size=40),
    json_values.map(json.dumps),
)
metadata = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "kind": st.sampled_from(["discount", "contract", "brand", "nope"]) | json_values,
            "category": st.sampled_from(["approval", "exception", "bogus", ""]) | json_values,
            "amend": request_ids,
            "r": request_ids,
            "h": json_values,
            "verdict": st.sampled_from(["reject", "changes"]) | json_values,
        },
    ).map(json.dumps),
    st.text(max_size=30),
)
users = st.one_of(
    st.fixed_dictionaries({"id": st.sampled_from(["U0SAM", "U0FIN1", "U0FIN2", ""]) | odd_ids | json_values}),
    json_values,
)
state_values = st.dictionaries(
    st.sampled_from(["account", "amount_pct", "deal_value", "reason", "counterparty", "asset", "until"]),
    st.dictionaries(
        st.just("value"),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["plain_text_input", "number_input", "datepicker", "static_select"])},
            optional={"value": json_values, "selected_date": json_values, "selected_option": json_values},
        ),
    )
    | json_values,
    max_size=4,
)
views = st.fixed_dictionaries(
    {"type": st.just("modal"), "callback_id": st.sampled_from([REQUEST_VIEW, REASON_VIEW, "other"])},
    optional={
        "id": st.text(max_size=8) | json_values,
        "private_metadata": metadata,
        "state": st.just({}) | st.fixed_dictionaries({"values": state_values}),
    },
)
actions = st.lists(
    st.fixed_dictionaries(
        {"action_id": st.sampled_from([APPROVE, REJECT, CHANGES, AMEND, PICK_KIND, "other"])},
        optional={"value": button_values, "type": st.just("button"), "selected_option": json_values},
    )
    | json_values,
    max_size=2,
)
interactions = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("block_actions"), "actions": actions},
        optional={
            "user": users,
            "trigger_id": st.text(max_size=8) | odd_triggers,
            "view": views | json_values,
            "team": json_values,
        },
    ),
    st.fixed_dictionaries(
        {"type": st.just("view_submission"), "view": views | json_values},
        optional={"user": users, "team": json_values},
    ),
    st.dictionaries(st.sampled_from(["type", "user", "view", "actions", "team", "enterprise", "channel"]), json_values),
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited"])},
    optional={
        "event": st.fixed_dictionaries(
            {"type": st.sampled_from(["app_home_opened", "message", "reaction_added"])},
            optional={"user": odd_ids | json_values, "tab": st.sampled_from(["home", "messages"]) | json_values},
        )
        | json_values,
        "challenge": json_values,
        "team_id": json_values,
        "authorizations": json_values,
    },
)
commands = st.fixed_dictionaries(
    {
        "command": st.sampled_from(["/request", "/exception", "/signoff", "/nope"]),
        "text": st.one_of(
            st.sampled_from(
                [
                    "",
                    "help",
                    "discount account=Acme amount_pct=5",
                    "status REQ-٤٢",
                    "cancel REQ-1",
                    "amend REQ-1 amount_pct=3",
                    "explain discount account=A amount_pct=50",
                    "delegate <@U0FIN2> until 2026-12-24",
                    f"delegate <@U0{'A' * 41}|bob> until 2099-01-01",
                    "discount account=payload amount_pct=5",
                    "delegate off",
                ]
            ),
            st.text(max_size=60),
        ),
    },
    optional={
        "user_id": st.sampled_from(["U0SAM", ""]) | st.text(max_size=5) | odd_ids,
        "trigger_id": st.text(max_size=8) | odd_triggers,
        "user_name": st.sampled_from(["sam", "payloadking"]),
    },
)
#: A command sent as JSON can also carry lone surrogates in its text and ids.
json_commands = st.fixed_dictionaries(
    {"command": st.sampled_from(["/request", "/signoff"]), "text": surrogate_text | st.just("status REQ-\ud800")},
    optional={"user_id": surrogate_text | odd_ids, "trigger_id": surrogate_text},
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    commands.map(lambda c: urlencode(c).encode()),
    json_commands.map(lambda c: json.dumps(c).encode()),
    interactions.map(lambda p: urlencode({"payload": json.dumps(p)}).encode()),
    st.text(max_size=60).map(lambda p: urlencode({"payload": p}).encode()),
    events.map(lambda e: json.dumps(e).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
)
content_types = st.sampled_from(
    ["application/x-www-form-urlencoded", "application/json", "text/plain", "", "application/json; charset=utf-8"]
)
# How the request is signed: properly, not at all, or with a broken part.
signings = st.sampled_from(["signed", "signed", "signed", "unsigned", "stale", "wrong", "junk-stamp", "no-stamp"])
junk = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=40)


def headers_for(body: bytes, content_type: str, signing: str, stamp_junk: str, signature_junk: str) -> dict[str, str]:
    now = str(int(time.time()))
    headers = {"Content-Type": content_type} if content_type else {}
    if signing == "signed":
        return {**headers, "X-Slack-Request-Timestamp": now, "X-Slack-Signature": signature(body, now)}
    if signing == "stale":
        stale = str(int(time.time()) - 600)
        return {**headers, "X-Slack-Request-Timestamp": stale, "X-Slack-Signature": signature(body, stale)}
    if signing == "wrong":
        return {**headers, "X-Slack-Request-Timestamp": now, "X-Slack-Signature": signature_junk}
    if signing == "junk-stamp":
        return {**headers, "X-Slack-Request-Timestamp": stamp_junk, "X-Slack-Signature": signature(body, now)}
    if signing == "no-stamp":
        return {**headers, "X-Slack-Signature": signature(body, now)}
    return headers


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    body=bodies,
    content_type=content_types,
    signing=signings,
    stamp_junk=junk,
    signature_junk=junk,
    length=st.sampled_from(["exact", "exact", "exact", "short", "huge", "junk", "zero-padded"]),
)
def test_any_request_is_answered_200_400_401_or_413_without_a_traceback(
    served: tuple[Signoff, Any, Recorder],
    body: bytes,
    content_type: str,
    signing: str,
    stamp_junk: str,
    signature_junk: str,
    length: str,
) -> None:
    signoff, app, recorder = served
    headers = headers_for(body, content_type, signing, stamp_junk, signature_junk)
    declared = {
        "exact": str(len(body)),
        "short": str(len(body) + 5),
        "huge": str(2**21),
        "junk": "x1",
        "zero-padded": "0" * 30 + str(len(body)),
    }[length]
    answer = post(app, body, headers, content_length=declared)
    drain(signoff.bolt)
    assert answer.status in ANSWERS, (answer, body[:200], headers)
    event(f"answered {answer.status}")  # the spread shows in --hypothesis-show-statistics
    loud = [r for r in recorder.records if r.levelno >= logging.ERROR or r.exc_info is not None]
    assert not loud, [(r.name, r.getMessage()) for r in loud]
    recorder.records.clear()
