"""A receiver's token in a webhook URL's query is never shown: not by `webhooks list` or `test`, not in a
log line, not in the owner's Slack message (one redaction, ``bot.domain.links.redact_url``); and
`webhooks test` answers one line, never a traceback, whatever the sender meets."""

from __future__ import annotations

import argparse
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.cli import main
from bot.cli_webhooks import _test
from bot.domain.notices import Notice, Notification
from bot.domain.webhook_subscriptions import Subscription
from bot.logs import JsonLineFormatter, TextFormatter
from bot.slack.messages import notification_text
from storage.engine import create_db_engine
from storage.migrate import upgrade
from tests.processes import free_port
from tests.unit.test_check_errors import BASE
from tests.webhook_receiver import SECRET, Receiver, receiving

TOKEN = "Sup3rSecretReceiverToken"


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with receiving() as receiver:
        (tmp_path / "signoff.yaml").write_text(
            BASE + "webhooks:\n"
            f"  - {{id: crm, url: '{receiver.url('/crm')}?token={TOKEN}', secret_env: SIGNOFF_CLI_SECRET}}\n"
            f"  - {{id: down, url: 'http://127.0.0.1:{free_port()}/h?token={TOKEN}', secret_env: SIGNOFF_CLI_SECRET}}\n"
        )
        monkeypatch.setenv("SIGNOFF_CONFIG", str(tmp_path / "signoff.yaml"))
        monkeypatch.setenv("SIGNOFF_CLI_SECRET", SECRET)
        monkeypatch.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'signoff.db'}")
        monkeypatch.chdir(tmp_path)
        yield receiver


def test_list_and_test_never_print_the_query_token(
    receiver: Receiver, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'signoff.db'}")
    upgrade(engine)
    engine.dispose()
    assert main(["webhooks", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{receiver.url('/crm')}?token=REDACTED" in listed and TOKEN not in listed

    assert main(["webhooks", "test", "crm"]) == 0
    (ping,) = receiver.arrivals
    assert ping.verified and ping.path == f"/crm?token={TOKEN}"  # the real URL is what is POSTed to
    assert main(["webhooks", "test", "down"]) == 1
    shown = capsys.readouterr()
    assert TOKEN not in shown.out + shown.err
    assert shown.err.startswith("signoff webhooks test: no answer from down:") and len(shown.err.splitlines()) == 1


@pytest.mark.parametrize(
    "url",
    [f"http://127.0.0.1:1/a b?token={TOKEN}", f"http://127.0.0.1:1/a\nb?token={TOKEN}", "http://127.0.0.1:99999/"],
)
def test_test_prints_one_line_for_a_url_the_sender_cannot_use(url: str) -> None:
    """Defence in depth: ``check`` refuses such URLs; a subscription built past it still gets one line."""
    with pytest.raises(ValueError, match="link"):
        Subscription("bad", url, "SIGNOFF_CLI_SECRET", frozenset(), None, "")  # the domain lets none through
    bad = Subscription("bad", "http://127.0.0.1:1/", "SIGNOFF_CLI_SECRET", frozenset(), None, "")
    object.__setattr__(bad, "url", url)  # as if a future path skipped the check
    governance = SimpleNamespace(webhooks=(bad,))
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIGNOFF_CLI_SECRET", SECRET)
        code = _test(argparse.Namespace(id="bad"), governance, None, out, err)  # type: ignore[arg-type]
    assert code == 1 and out.getvalue() == ""
    (line,) = err.getvalue().splitlines()
    assert line.startswith("signoff webhooks test: ") and "Traceback" not in line and TOKEN not in line


@pytest.mark.parametrize("notice", [Notice.WEBHOOK_DEAD, Notice.WEBHOOK_DISABLED])
def test_the_owners_slack_message_never_shows_the_query_token(notice: Notice) -> None:
    url = f"https://crm.example.com/h?token={TOKEN}"
    facts = {"subscription": "crm", "url": url, "type": "request.decided", "error": f"{url}: no answer (timeout)"}
    text = notification_text(Notification("U0OPS", notice, "REQ-1", "e", facts))
    assert "token=REDACTED" in text and TOKEN not in text


@pytest.mark.parametrize("formatter", [TextFormatter("%(message)s"), JsonLineFormatter()])
def test_a_log_line_never_shows_the_query_token(formatter: logging.Formatter) -> None:
    url = f"https://crm.example.com/h?token={TOKEN}"
    record = logging.LogRecord("signoff", logging.ERROR, __file__, 1, "outbox 7 is dead: %s: no answer", (url,), None)
    line = formatter.format(record)
    assert TOKEN not in line and "https://crm.example.com/h?token=REDACTED: no answer" in (
        line if isinstance(formatter, TextFormatter) else json.loads(line)["message"]
    )
