"""The weekly decision-surface summary through the real Web API client to the emulator, and App Home's
"Your kinds" through the real Bolt app."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from matplotlib import image

from bot.app import build_signoff
from bot.domain.clock import FixedClock
from bot.domain.condition_words import Part, Token
from bot.domain.outbox import DeliveryError
from bot.domain.routing import Verdict
from bot.domain.suggestions import Suggestion
from bot.domain.surface import ApproverFigures, Counters, SurfaceReport, Window
from bot.domain.surface_summary import Headline, KindHeadlines, OwnerSurface, SuggestedDefault
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.surface_summary import queue_surface_summaries
from bot.slack.blocks import home_view
from bot.slack.emulator import SlackEmulator, block_problems
from bot.slack.gateway import SlackGateway
from bot.slack.surface_blocks import surface_summary_blocks, your_kinds_blocks
from tests.services.test_surface_summary import NOBODY_ABROAD, history
from tests.slack.test_app import settings_for
from tests.slack.test_delivery import drain, gateway_for
from tests.slack.test_http_edge import Edge
from tests.slack.wsgi import signed

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NEXT_MONDAY = datetime.fromisoformat("2026-03-09T09:00:00+01:00")


def texts(blocks: list[dict[str, object]]) -> str:
    """Every mrkdwn and plain text of ``blocks``, one string."""
    return json.dumps(blocks, ensure_ascii=False)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (the first, right after the signature)."""
    assert data[:8] == PNG_SIGNATURE
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert (length, chunk) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def summary_in(slack: SlackEmulator, channel: str) -> list[str]:
    """What the owner's DM shows, oldest first: ``summary`` for the figures post, ``file:<name>`` per file share."""
    return [
        "summary" if m.event_type == "signoff_surface" else ",".join(f"file:{f['name']}" for f in m.files)
        for m in slack.messages_in(channel)
    ]


def test_the_owner_gets_the_figures_of_their_kinds_and_a_chart_in_their_dm(
    runtime: Runtime, slack: SlackEmulator, clock: FixedClock
) -> None:
    gateway = gateway_for(slack)
    history(runtime, clock)
    drain(runtime, gateway, clock)
    clock.set(NEXT_MONDAY)
    queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
    drain(runtime, gateway, clock)
    assert summary_in(slack, "D0FINLEAD") == ["summary", "file:decision-surface-2026-W11.png"]
    post, _ = slack.messages_in("D0FINLEAD")
    shown = texts(post.blocks)
    assert "Your decision surface, week 11 2026" in shown
    assert "*Discount approval* `discount`" in shown
    week, month = next(b["fields"] for b in post.blocks if "fields" in b)
    assert week["text"] == (
        "*Last 7 days*\nRequests: *5*\nResolved by defaults: *60 %*\nHuman decisions: *2*\n"
        "Time to decision: p50 3.0 h · p90 10.0 h\nSLA breaches: 1\nBusiest: <@U0FIN1> (1), <@U0FIN2> (1)"
    )
    assert month["text"].startswith("*Last 30 days*\nRequests: *6*\nResolved by defaults: *67 %*\n")
    assert "Suggested defaults" not in shown  # none yet: that place renders nothing
    (chart,) = slack.files_in("D0FINLEAD")
    assert chart.data is not None
    width, height = png_size(chart.data)
    assert 600 <= width <= 2000 and 200 <= height <= 2000
    pixels = image.imread(io.BytesIO(chart.data), format="png")
    assert pixels.shape[:2] == (height, width)
    assert [c.args["channel_id"] for c in slack.calls_to("files.completeUploadExternal")] == ["D0FINLEAD"]
    # Nothing in 30 days for the other owners' kinds: no DM for them.
    assert slack.messages_in("D0LAWLEAD") == [] and slack.messages_in("D0BRANDLEAD") == []


def test_a_failed_upload_is_retried_without_posting_the_summary_twice(
    runtime: Runtime, slack: SlackEmulator, clock: FixedClock
) -> None:
    gateway = gateway_for(slack)
    history(runtime, clock)
    drain(runtime, gateway, clock)
    clock.set(NEXT_MONDAY)
    queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
    slack.fail("files.completeUploadExternal", status=500)
    drain(runtime, gateway, clock)
    assert summary_in(slack, "D0FINLEAD") == ["summary", "file:decision-surface-2026-W11.png"]
    assert len(slack.files_in("D0FINLEAD")) == 1
    assert len(slack.calls_to("upload")) == 2  # the first upload was never shared: the owner never sees it


def test_an_upload_whose_answer_was_lost_is_found_and_not_shared_again(
    runtime: Runtime, slack: SlackEmulator, clock: FixedClock
) -> None:
    class AnswerLostOnce(SlackGateway):
        lost = False

        def share_surface_chart(self, *, user: str, surface: OwnerSurface, filename: str) -> None:
            super().share_surface_chart(user=user, surface=surface, filename=filename)
            if not self.lost:  # Slack shared it; the answer never came back
                self.lost = True
                raise DeliveryError("files_upload_v2: TimeoutError: timed out")

    gateway = AnswerLostOnce(gateway_for(slack).client)
    history(runtime, clock)
    drain(runtime, gateway, clock)
    clock.set(NEXT_MONDAY)
    queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
    drain(runtime, gateway, clock)
    assert gateway.lost
    assert summary_in(slack, "D0FINLEAD") == ["summary", "file:decision-surface-2026-W11.png"]
    assert len(slack.calls_to("files.getUploadURLExternal")) == 1
    assert slack.calls_to("conversations.history")  # the retry looked before sending anything again


def worst_case() -> OwnerSurface:
    busiest = tuple(ApproverFigures(f"U0{'X' * 18}{n}", 10**6, 10**6, 0, 9999.0) for n in range(3))
    figures = Headline(10**7, 0.999, 10**6, 9999.0, 99999.0, 10**6, busiest, share_divisor=10**7)
    kinds = tuple(KindHeadlines(f"kind-{n}", "<!channel> *" + "T" * 300, figures, figures) for n in range(40))
    mined = Suggestion("kind-0", "r" * 80, {"f": {"lte": 1}}, "approve", "why", 10**6, 10**6, 0, 99, 1.0, 9999.0)
    suggestion = SuggestedDefault(
        mined, (Token("f", Part.NAME), Token(" ≤ "), Token("<@U1> " + "x" * 3000, Part.VALUE))
    )
    month = SurfaceReport(Window(NEXT_MONDAY - timedelta(days=30), NEXT_MONDAY), "v", Counters(), ())
    return OwnerSurface("U0OWNER", kinds, month, suggestions=(suggestion,) * 20)


def test_the_summary_and_home_keep_within_block_kit_limits_and_escape_titles(slack: SlackEmulator) -> None:
    surface = worst_case()
    blocks = surface_summary_blocks(surface, week="2026-W53")
    assert block_problems(blocks, limit=50) == []
    shown = texts(blocks)
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert "<@U1>" not in shown and "…and 28 more kinds" in shown
    assert "Suggested defaults" in shown and shown.count("would have resolved 100 %") == 5  # the first five
    assert all(len(cell["text"]) <= 2000 for b in blocks for cell in b.get("fields", []))
    view = home_view(waiting=[], mine=[], delegation=None, kinds=your_kinds_blocks(surface))
    assert block_problems(view["blocks"], limit=100) == []
    assert your_kinds_blocks(None) == []
    web = gateway_for(slack).client
    assert web.chat_postMessage(channel="D0OWNER", text="x", blocks=blocks)["ok"]
    assert web.views_publish(user_id="U0OWNER", view=view)["ok"]


@pytest.fixture
def edge(tmp_path: Path, slack: SlackEmulator) -> Iterator[Edge]:
    signoff = build_signoff(settings_for(tmp_path, slack))
    yield Edge(signoff.wsgi(), slack, signoff)
    signoff.engine.dispose()


def open_home(edge: Edge, user: str) -> str:
    body = json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "user": user, "tab": "home"}})
    assert edge.post(body.encode(), signed(body.encode(), "application/json")).status == 200
    assert edge.slack.wait_for(lambda s: user in s.home_views, timeout=10)
    return texts(edge.slack.home_views[user]["blocks"])


def test_home_shows_an_owner_the_figures_of_their_kinds(edge: Edge) -> None:
    runtime = edge.signoff.runtime
    for requester, pct in (("U0A1", 5), ("U0A2", 50)):
        submit_request(runtime=runtime, kind="discount", requester=requester, text=f"account=X amount_pct={pct}")
    routed = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=S amount_pct=25")
    decide_request(runtime=runtime, request_id=routed.request_id, voter="U0FIN2", verdict=Verdict.APPROVE)
    home = open_home(edge, "U0FINLEAD")
    assert '"text": "Your kinds"' in home
    assert "*Discount approval* `discount`" in home
    assert "*Last 7 days*\\nRequests: *3*\\nResolved by defaults: *67 %*\\nHuman decisions: *1*" in home
    assert "Busiest: <@U0FIN2> (1)" in home
    assert "Your kinds" not in open_home(edge, "U0SAM")  # owns no kind: no section


def _headlines(name: str, requests: int) -> KindHeadlines:
    figures = Headline(requests, 0.5, requests, 1.0, 2.0, 0, (), share_divisor=requests)
    return KindHeadlines(name, name.upper(), figures, figures)


def _surface(kinds: tuple[KindHeadlines, ...]) -> OwnerSurface:
    month = SurfaceReport(Window(NEXT_MONDAY - timedelta(days=30), NEXT_MONDAY), "v", Counters(), ())
    return OwnerSurface("U0OWNER", kinds, month)


def _shown_kinds(blocks: list[dict[str, object]]) -> list[str]:
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]  # type: ignore[index]
    return [text.rsplit("`", 2)[1] for text in sections if text.endswith("`")]


def test_the_busiest_kinds_come_first_and_idle_kinds_are_only_named() -> None:
    # 30 kinds; only the last one and five in between had requests, in no particular order.
    counts = {29: 4, 3: 1, 17: 9, 20: 1, 8: 2, 11: 1}
    surface = _surface(tuple(_headlines(f"k{n}", counts.get(n, 0)) for n in range(30)))
    for blocks in (surface_summary_blocks(surface, week="2026-W11"), your_kinds_blocks(surface)):
        assert _shown_kinds(blocks) == ["k17", "k29", "k8", "k3", "k11", "k20"]  # most first, ties in file order
        shown = texts(blocks)
        assert "…and 24 kinds with no requests in the last 30 days: `k0`, `k1`, `k2`, `k4`" in shown


def test_the_cut_at_max_kinds_hides_only_the_least_busy() -> None:
    surface = _surface(tuple(_headlines(f"k{n}", n) for n in range(30)))  # k0 idle, k29 busiest
    blocks = surface_summary_blocks(surface, week="2026-W11")
    assert _shown_kinds(blocks) == [f"k{n}" for n in range(29, 17, -1)]
    shown = texts(blocks)
    assert (
        "…and 17 more kinds with fewer requests" in shown
        and "1 kind with no requests in the last 30 days: `k0`" in shown
    )


def test_home_promises_no_dm_to_an_owner_whose_kinds_had_no_requests() -> None:
    quiet = texts(your_kinds_blocks(_surface((_headlines("k0", 0),))))
    assert "Every Monday" not in quiet and "no weekly DM" in quiet
    assert "Every Monday" in texts(your_kinds_blocks(_surface((_headlines("k0", 1),))))


def test_a_kind_with_nothing_decided_shows_no_share_rather_than_zero() -> None:
    pending = Headline(3, 0.0, 0, 0.0, 0.0, 0, (), share_divisor=0)  # three requests, all pending
    blocks = surface_summary_blocks(_surface((KindHeadlines("pend", "Pending", pending, pending),)), week="2026-W11")
    shown = texts(blocks)
    assert "Resolved by defaults: *—* (nothing decided yet)" in shown and "0 %" not in shown


def test_kind_titles_in_the_summary_and_home_format_nothing() -> None:
    titled = KindHeadlines("k1", "*bold* _it_ ~s~ `c`", _headlines("k1", 2).week, _headlines("k1", 2).month)
    for blocks in (
        surface_summary_blocks(_surface((titled,)), week="2026-W11"),
        your_kinds_blocks(_surface((titled,))),
    ):
        assert "*∗bold∗ ˍitˍ ∼s∼ ˋcˋ* `k1`" in texts(blocks) and "_it_" not in texts(blocks)
