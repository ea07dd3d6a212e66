"""Numbers people write anywhere Signoff reads them — the governance file, settings — are never guessed at.

The same kind of fault as a JSON ``1.500`` (QA finding A1) or ``limit=5_0`` (E18): YAML reads
``2.000`` as 2.0, and ``int()`` / Pydantic read ``5_0`` as 50 and ``٥`` as 5.
"""

from __future__ import annotations

import pytest

from bot.domain.governance import GovernanceInvalid
from bot.governance_file import load_governance_text
from bot.settings import SettingsError, load_settings

FILE = """version: 1
timezone: UTC
groups:
  finance: {{members: [U0FIN1, U0FIN2]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      amount: {{type: money, currency: EUR, max: {max}}}
    approvers: finance
    rules:
      - {{id: small, when: {{amount: {{lte: {lte}}}}}, decide: approve, reason: Small.}}
"""


@pytest.mark.parametrize(
    ("max_", "lte", "says"),
    [
        ("100000", "2.000", "“2.000” is ambiguous: write 2 or 2000"),
        ("100.000", "2000", "“100.000” is ambiguous: write 100 or 100000"),
        ("1e5", "2000", "1e5, which has an exponent"),
        ("100000", "2000.0000000000000001", "which has more than 15 digits"),
    ],
)
def test_a_float_the_file_could_mean_two_ways_is_refused_at_its_line(max_: str, lte: str, says: str) -> None:
    with pytest.raises(GovernanceInvalid) as caught:
        load_governance_text(FILE.format(max=max_, lte=lte))
    [problem] = caught.value.problems
    assert says in problem.message and problem.line == (10 if max_ != "100000" else 13), problem


def test_plain_floats_in_the_file_still_load() -> None:
    governance = load_governance_text(FILE.format(max="100000.50", lte="2000.5"))
    assert governance.kinds["deal"].contract.fields["amount"].max == 100000.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNOFF_PORT", "5_0"),
        ("SIGNOFF_PORT", "\u0663\u0660\u0660\u0660"),
        ("SIGNOFF_PORT", "+3000"),
        ("SIGNOFF_RETENTION_DAYS", "9_0"),
        ("SIGNOFF_RETRY_BACKOFF", "1e1"),
        ("SIGNOFF_DIGEST_CHECK_SECONDS", "6_0"),
    ],
)
def test_a_number_setting_is_ascii_digits_only(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.lines[0].startswith(f"{name}={value!r} is not valid; it accepts")


def test_a_number_setting_with_spaces_around_is_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNOFF_PORT", " 3001 ")
    assert load_settings().port == 3001
