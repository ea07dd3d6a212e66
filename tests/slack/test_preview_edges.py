"""The live preview at its edges, through the real app: a long preview keeps its last lines; a
forged or odd payload changes nothing it should not (the form is rebuilt from the kind, a far
future ``action_ts`` counts for nothing, another person's form is left alone)."""

from __future__ import annotations

from pathlib import Path

from bot.app import Signoff, build_signoff
from bot.domain.preview import PRIVATE_NOTE
from bot.slack.emulator import SlackEmulator
from tests.slack.test_app import settings_for
from tests.slack.test_preview import enter, open_form, preview_text


def signoff_with(tmp_path: Path, slack: SlackEmulator, governance: str) -> Signoff:
    path = tmp_path / "edges.yaml"
    path.write_text(governance)
    return build_signoff(settings_for(tmp_path, slack, SIGNOFF_CONFIG=path))


def long_requires() -> str:
    """Eight require rules that all match, each with a reason of 480 characters, and a private rule."""
    rules = "\n".join(
        f"      - {{id: q{i}, when: {{n: {{gte: 0}}}}, require: g{i}, reason: '{chr(65 + i) * 480}'}}" for i in range(8)
    )
    groups = "\n".join(f"  g{i}: {{members: [U0G{i}]}}" for i in range(8))
    return f"""
version: 1
timezone: Europe/Berlin
groups:
  finance: {{members: [U0FIN1]}}
{groups}
kinds:
  k:
    title: K
    owner: U0OWN
    fields:
      n: {{type: number, required: true}}
    approvers: finance
    rules:
{rules}
      - {{id: secret, when: {{n: {{gt: 50}}}}, decide: reject, reason: s, preview: false}}
"""


def test_a_long_preview_keeps_its_outcome_and_the_private_note(tmp_path: Path, slack: SlackEmulator) -> None:
    signoff = signoff_with(tmp_path, slack, long_requires())
    try:
        view_id = open_form(signoff, slack, "k")
        enter(signoff, slack, view_id, "n", "5")
        lines = preview_text(slack, view_id).split("\n")
        assert lines[1].startswith(":hourglass_flowing_sand: Needs *finance* (1 approval) and *g0* (1 approval)")
        assert "*g7* (1 approval) — AAAA" in lines[1] and lines[1].endswith("…")
        assert lines[-1] == f"_{PRIVATE_NOTE}_"
    finally:
        signoff.engine.dispose()
