"""Private thresholds (DESIGN §3.7) through the real app: `/signoff explain` in Slack is a dry run
anyone may probe before filing, so it leaves out `preview: false` rules as the form's preview does,
with the same note whatever the values; the kind's owner, the CLI and receipts see every rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Signoff, build_signoff
from bot.cli import main
from bot.domain.preview import PRIVATE_NOTE
from bot.slack.emulator import SlackEmulator
from tests.services.conftest import LIFECYCLE
from tests.slack.test_app import dispatch, settings_for

PRIVATE = LIFECYCLE.replace(
    "      - {id: over-limit,",
    "      - {id: band, when: {amount_pct: {between: [17, 23]}}, decide: reject, reason: Not in this band.,"
    " preview: false}\n"
    "      - {id: over-limit,",
)
SAM, OWNER = "U0SAM", "U0FINLEAD"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "private.yaml"
    path.write_text(PRIVATE)
    return path


@pytest.fixture
def signoff(tmp_path: Path, slack: SlackEmulator, config: Path) -> Iterator[Signoff]:
    built = build_signoff(settings_for(tmp_path, slack, SIGNOFF_CONFIG=config))
    yield built
    built.engine.dispose()


def explain(signoff: Signoff, user: str, pct: int) -> str:
    text = f"explain discount account=Acme amount_pct={pct}"
    return dispatch(
        signoff, {"user_id": user, "channel_id": "C1", "trigger_id": "t1", "command": "/signoff", "text": text}
    )


def rules_part(reply: str, pct: int) -> str:
    """The reply after its first line (who asked, when), with the value typed taken out."""
    return reply.split("\n", 1)[1].replace(f"amount_pct={pct}", "").replace(f" {pct} ", " _ ").replace(f"got {pct}", "")


@pytest.mark.parametrize("pct", [12, 17, 20, 23, 30])
def test_explain_in_slack_says_nothing_about_a_private_threshold(signoff: Signoff, pct: int) -> None:
    reply = explain(signoff, SAM, pct)
    assert "Outcome: needs people: finance (1 approval)" in reply  # as if the file had no such rule
    shown = rules_part(reply, pct)
    assert "band" not in shown and "17" not in shown and "23" not in shown
    # The same note on every dry run of the kind, inside the band or not: it tells nothing about the values.
    assert reply.endswith(f"```\n_{PRIVATE_NOTE}_\n_Dry run: nothing was stored._")
    assert shown == rules_part(explain(signoff, SAM, 30), 30)


def test_the_owner_explains_with_every_rule(signoff: Signoff) -> None:
    reply = explain(signoff, OWNER, 20)
    assert "Outcome: rejected by rule band" in reply and "✓ band (reject)" in reply
    assert PRIVATE_NOTE not in reply


def test_a_kind_without_private_rules_adds_no_note(signoff: Signoff) -> None:
    text = "explain contract counterparty=Acme"
    reply = dispatch(signoff, {"user_id": SAM, "channel_id": "C1", "command": "/signoff", "text": text})
    assert "Outcome: needs people: legal" in reply and PRIVATE_NOTE not in reply


def test_filing_decides_by_the_private_rule_and_the_receipt_names_it(signoff: Signoff) -> None:
    form = {"user_id": SAM, "channel_id": "C1", "trigger_id": "t2"}
    reply = dispatch(signoff, {**form, "command": "/request", "text": "discount account=Acme amount_pct=20"})
    assert "rejected by rule `band`" in reply
    status = dispatch(signoff, {**form, "command": "/signoff", "text": "status REQ-1"})
    assert "band" in status


def test_the_cli_explain_shows_every_rule(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", "discount", "account=Acme", "amount_pct=20", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 0 and "Outcome: rejected by rule band" in out and PRIVATE_NOTE not in out
