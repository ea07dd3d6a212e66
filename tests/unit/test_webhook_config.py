"""`webhooks:` in the governance file (DESIGN §9): located errors from `check`, defaults, and the
secrets `serve` and `worker` need at start (a one-line error naming the variable)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain.events import WEBHOOK_TYPES
from bot.domain.governance import GovernanceInvalid, LoadProblem
from bot.domain.webhook_subscriptions import check_webhook_url
from bot.domain.webhooks import SecretInvalid
from bot.governance_file import load_governance_text
from bot.webhooks.sender import check_secrets
from tests.conftest import ROOT
from tests.processes import free_port
from tests.unit.test_check_errors import BASE
from tests.unit.test_links import HOSTILE, SURROUNDED
from tests.webhook_receiver import SECRET


def problems_of(webhooks: str) -> list[LoadProblem]:
    with pytest.raises(GovernanceInvalid) as caught:
        load_governance_text(BASE + webhooks)
    return caught.value.problems


def test_a_subscription_defaults_to_every_event_every_kind_and_the_first_kinds_owner() -> None:
    governance = load_governance_text(
        BASE + "webhooks:\n  - {id: crm, url: https://crm.example.com/hooks, secret_env: CRM_SECRET}\n"
    )
    (crm,) = governance.webhooks
    assert (crm.id, crm.url, crm.secret_env, crm.owner) == (
        "crm",
        "https://crm.example.com/hooks",
        "CRM_SECRET",
        "U0FINLEAD",
    )
    assert crm.events == frozenset(WEBHOOK_TYPES) and crm.kinds is None
    assert crm.wants("request.decided", "anything")


def test_an_unknown_event_is_located_and_the_accepted_events_listed() -> None:
    (problem,) = problems_of(
        "webhooks:\n  - {id: crm, url: https://crm.example.com/h, secret_env: S, events: [request.decided, request.aproved]}\n"
    )
    assert problem.path == "webhooks[0].events[1]" and problem.line == 23
    assert problem.message.startswith("unknown event “request.aproved”")
    assert "request.decided, request.changes_requested" in problem.message and "ping" in problem.message


@pytest.mark.parametrize("setting", ["events", "kinds", "owner"])
def test_a_null_setting_is_refused_not_read_as_its_default(setting: str) -> None:
    (problem,) = problems_of(
        f"webhooks:\n  - {{id: crm, url: https://crm.example.com/h, secret_env: S, {setting}: ~}}\n"
    )
    assert problem.path == f"webhooks[0].{setting}" and problem.line == 23
    assert "leave the setting out" in problem.message


@pytest.mark.parametrize(
    "url",
    ["http://crm.example.com/hooks", "ftp://crm.example.com/x", "crm.example.com/hooks", "http://127.0.0.2/x"],
)
def test_a_url_must_be_https_except_for_loopback_hosts(url: str) -> None:
    (problem,) = problems_of(f"webhooks:\n  - {{id: crm, url: '{url}', secret_env: S}}\n")
    assert problem.path == "webhooks[0].url" and "https://" in problem.message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/h", "http://localhost/h", "http://[::1]:9000/h"])
def test_loopback_hosts_may_use_http(url: str) -> None:
    assert check_webhook_url(url) == url


def test_whole_file_problems_are_located_too() -> None:
    problems = problems_of(
        "webhooks:\n"
        "  - {id: crm, url: https://a.example.com, secret_env: S, kinds: [discount, discuont]}\n"
        "  - {id: crm, url: https://b.example.com, secret_env: lower-case}\n"
    )
    assert [(p.path, p.message) for p in problems] == [
        (
            "webhooks[1].secret_env",
            "must be an environment variable name such as SIGNOFF_WEBHOOK_CRM_SECRET (A-Z, 0-9 and _)",
        ),
    ]
    problems = problems_of(
        "webhooks:\n"
        "  - {id: crm, url: https://a.example.com, secret_env: S, kinds: [discount, discuont]}\n"
        "  - {id: crm, url: https://b.example.com, secret_env: T, owner: nobody}\n"
    )
    assert [p.path for p in problems] == ["webhooks[1].owner"]
    problems = problems_of(
        "webhooks:\n"
        "  - {id: crm, url: https://a.example.com, secret_env: S, kinds: [discount, discuont]}\n"
        "  - {id: crm, url: https://b.example.com, secret_env: T}\n"
    )
    assert [(p.path, p.message) for p in problems] == [
        ("webhooks[0].kinds[1]", "unknown kind “discuont” (kinds: discount)"),
        ("webhooks[1].id", "webhook id “crm” is already used by webhooks[0]"),
    ]


def test_check_validates_the_file_without_the_secret(tmp_path: Path) -> None:
    config = tmp_path / "signoff.yaml"
    config.write_text(
        BASE + "webhooks:\n  - {id: crm, url: https://crm.example.com/h, secret_env: SIGNOFF_NOT_SET_X}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SIGNOFF_NOT_SET_X"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("value", "said"),
    [(None, "SIGNOFF_WH_SECRET is not set"), ("hunter2", "SIGNOFF_WH_SECRET is not a webhook secret"),
     ("whsec_!!!!", "SIGNOFF_WH_SECRET is not a webhook secret"),
     ("whsec_AAAA", "SIGNOFF_WH_SECRET holds a 3-byte key, too short"),
     ("whsec_" + "A" * 31 + "=", "SIGNOFF_WH_SECRET holds a 23-byte key, too short"),
     ("whsec_" + "A" * 120, "SIGNOFF_WH_SECRET holds a 90-byte key, too long")],
)  # fmt: skip
def test_a_missing_or_malformed_secret_stops_serve_and_worker_with_one_line(
    tmp_path: Path, value: str | None, said: str
) -> None:
    config = tmp_path / "signoff.yaml"
    config.write_text(
        BASE + "webhooks:\n  - {id: crm, url: https://crm.example.com/h, secret_env: SIGNOFF_WH_SECRET}\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SIGNOFF_WH_SECRET", "SLACK_APP_TOKEN")}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_SIGNING_SECRET": "s",
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp_path}/db",
    }
    env |= {"SIGNOFF_CONFIG": str(config), "SIGNOFF_PORT": str(free_port())} | (
        {"SIGNOFF_WH_SECRET": value} if value else {}
    )
    for role in ("serve", "worker"):
        done = subprocess.run(
            [sys.executable, "-m", "bot", role, "--host", "127.0.0.1"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"signoff: {said}; webhook “crm” needs a Standard Webhooks secret: whsec_"), line


def test_the_secret_of_each_subscription_must_be_one_the_library_accepts() -> None:
    governance = load_governance_text(
        BASE + "webhooks:\n  - {id: a, url: https://a.example.com, secret_env: A}\n"
        "  - {id: b, url: https://b.example.com, secret_env: B}\n"
    )
    check_secrets(governance.webhooks, {"A": SECRET, "B": SECRET}.get)
    with pytest.raises(SecretInvalid, match=r"^B is not set"):
        check_secrets(governance.webhooks, {"A": SECRET}.get)


@pytest.mark.parametrize("size", [24, 32, 64])
def test_keys_of_24_to_64_bytes_are_accepted(size: int) -> None:
    governance = load_governance_text(BASE + "webhooks:\n  - {id: a, url: https://a.example.com, secret_env: A}\n")
    check_secrets(governance.webhooks, {"A": "whsec_" + base64.b64encode(bytes(range(size))).decode()}.get)


@pytest.mark.parametrize(("url", "named"), HOSTILE + SURROUNDED + [("https://ok.example.com/h#frag", "#fragment")])
def test_a_webhook_url_the_sender_could_not_use_or_could_misread_is_a_located_error(url: str, named: str) -> None:
    (problem,) = problems_of(f"webhooks:\n  - {{id: crm, url: {json.dumps(url)}, secret_env: S}}\n")
    assert (problem.path, problem.line) == ("webhooks[0].url", 23)
    assert named in problem.message and "\n" not in problem.message


def test_check_prints_one_located_line_for_a_url_with_a_leading_space(tmp_path: Path) -> None:
    config = tmp_path / "signoff.yaml"
    config.write_text(BASE + 'webhooks:\n  - {id: lead, url: " https://ok.example.com/h?token=Sup3r", secret_env: S}\n')
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert (
        f"{config}:23: webhooks[0].url: the link “ https://ok.example.com/h?token=REDACTED” holds a space"
        in done.stderr
    )
    assert "Sup3r" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://M\u00fcnchen.example/stra\u00dfe?q=\u00fc", "https://xn--mnchen-3ya.example/stra%C3%9Fe?q=%C3%BC"),
        ("http://127.0.0.1:08080/h", "http://127.0.0.1:8080/h"),
        ("http://LOCALHOST/h", "http://localhost/h"),
    ],
)
def test_a_webhook_url_is_kept_as_the_ascii_url_it_is_sent_to(url: str, sent: str) -> None:
    assert check_webhook_url(url) == sent
