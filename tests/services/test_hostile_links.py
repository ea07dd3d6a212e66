"""A ``url`` field refuses the links ``bot.domain.links`` refuses, whichever way they arrive (a modal's
value, the API's JSON, a Slack link in slash text), naming the field and what was wrong; nothing is stored."""

from __future__ import annotations

import pytest

from bot.domain.contracts import ContractError
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from tests.services.conftest import Tables
from tests.unit.test_links import HOSTILE


@pytest.mark.parametrize(("url", "named"), HOSTILE)
def test_a_url_field_refuses_a_hostile_link_and_stores_nothing(
    runtime: Runtime, tables: Tables, url: str, named: str
) -> None:
    before = tables.snapshot()
    with pytest.raises(ContractError) as caught:
        submit_request(runtime=runtime, kind="brand", requester="U0SAM", fields={"asset": url, "until": "2026-03-10"})
    (problem,) = caught.value.problems
    assert problem.field == "asset"
    if "\n" in url or "\r" in url or "\u2028" in url:
        assert "line break" in problem.message  # the text rules see it first, with their own message
    elif "\x00" in url or "\x1b" in url:
        assert "control character" in problem.message
    else:
        assert named in problem.message
    assert tables.snapshot() == before


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("asset=<https://bank.com@evil.com|bank.com> until=2026-03-10", "has a user or password before “@”"),
        ("asset=<https://ok.example.com:99999/x> until=2026-03-10", "a port is a number from 1 to 65535"),
        ("asset=<https://\u0430pple.com/x|apple.com> until=2026-03-10", "looks like a spoof"),
        ("asset=<https://ok.example.com/a\\b> until=2026-03-10", "holds a backslash"),
    ],
)
def test_a_slack_link_in_slash_text_is_refused_alike(runtime: Runtime, tables: Tables, text: str, named: str) -> None:
    before = tables.snapshot()
    with pytest.raises(ContractError) as caught:
        submit_request(runtime=runtime, kind="brand", requester="U0SAM", text=text)
    (problem,) = caught.value.problems
    assert problem.field == "asset" and named in problem.message
    assert tables.snapshot() == before
