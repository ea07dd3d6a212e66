"""Shared helpers: governance from inline YAML, and a fixed moment to evaluate at."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.governance import Governance
from bot.governance_file import load_governance_text

ROOT = Path(__file__).resolve().parent.parent
DESIGN_EXAMPLE = ROOT / "tests" / "fixtures" / "design.yaml"
MARKETING_EXAMPLE = ROOT / "examples" / "marketing-ops.yaml"

#: Wednesday 2026-03-04 10:00 in Berlin.
AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def governance_from(text: str) -> Governance:
    return load_governance_text(textwrap.dedent(text))


@pytest.fixture
def design_governance() -> Governance:
    return load_governance_text(DESIGN_EXAMPLE.read_bytes())
