"""Suggest against known policies: three months of latent-policy history imported, ``suggest --write``,
then the next month (never imported) resolved with the written file. Figures print with ``-s``."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.governance_file import load_governance_file
from tests.latent_history import LATENT_GOVERNANCE, history, month_rows, write_jsonl
from tests.suggest_quality import measure

MONTHS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


@pytest.mark.parametrize(
    ("noise", "min_approval", "human_contradictions"),
    # With ε = 0.02 about 1 % of the routine decisions are contrary (coin flips): the default bar of
    # 0.99 sits on the noise itself, so regions qualify by chance: the bar goes just below it (0.98), and a
    # perfect rule contradicts ~1 % of (noisy) human decisions, which the human figure allows for.
    [(0.01, "0.99", 0.01), (0.02, "0.98", 0.015)],
)
def test_suggested_rules_automate_the_routine_and_contradict_almost_nobody(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    noise: float,
    min_approval: str,
    human_contradictions: float,
) -> None:
    caplog.set_level(logging.WARNING, logger="alembic")
    config = tmp_path / "signoff.yaml"
    config.write_text(LATENT_GOVERNANCE)
    monkeypatch.setenv("SIGNOFF_CONFIG", str(config))
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'signoff.db'}")
    rows, _ = history(months=MONTHS, count=3000, seed=7, noise=noise)
    write_jsonl(tmp_path / "history.jsonl", rows)
    assert main(["db", "upgrade"]) == 0
    assert main(["history", "import", str(tmp_path / "history.jsonl")]) == 0
    written = tmp_path / "suggested.yaml"
    window = ["--since", "2026-01-01", "--until", "2026-04-01"]
    assert main(["suggest", *window, "--min-approval", min_approval, "--write", str(written)]) == 0

    governance = load_governance_file(written)
    april = list(month_rows(start=date(2026, 4, 1), count=3000, seed=8, noise=noise))
    quality = measure(governance, [row for row, _ in april], [truth for _, truth in april])
    print(f"\nnoise {noise}, --min-approval {min_approval}:\n{quality.describe()}")
    assert quality.routine_share >= 0.90
    assert quality.contradictions <= human_contradictions
    assert quality.policy_contradictions <= 0.01
    for rule in quality.rejected_by_rule:
        if rule.startswith("suggested-"):
            assert quality.reject_purity(rule) >= 0.97, rule
