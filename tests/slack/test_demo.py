"""`signoff demo` walks a newcomer through Signoff with no workspace."""

from __future__ import annotations

import io

from bot.demo import run_demo


def test_the_demo_shows_each_path_through_signoff() -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    transcript = out.getvalue()
    assert "REQ-1 approved by rule small-discount" in transcript
    assert "→ Slack: card to Fiona (finance): REQ-2" in transcript
    assert "card updated for Farid (finance): ✅ Approved by @Fiona" in transcript
    assert "REQ-3 was rejected by @Farid: Margin is below the floor" in transcript
    assert "card updated for Bo (brand council): brand-council 1/2" in transcript
    assert "REQ-4 was approved by @Bo." in transcript
