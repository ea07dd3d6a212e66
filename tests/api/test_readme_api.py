"""The README's HTTP API section, run as written against the `signoff init` starter file (QA findings G20–G22)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import Signoff, build_signoff
from bot.domain.api_clients import token_sha256
from bot.settings import Settings
from bot.slack.emulator import SlackEmulator
from handlers.api_openapi import openapi_document
from tests.api.http import call

README = Path(__file__).resolve().parents[2] / "README.md"
TOKEN = "sgf_readme-test-token-00000000000000000000000"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## HTTP API") : text.index("## Webhooks")]


def curl_lines() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", section(), re.DOTALL)
    assert block is not None
    return block.group(1).replace("\\\n", " ").splitlines()


@pytest.fixture
def starter(tmp_path: Path) -> Iterator[Signoff]:
    config = tmp_path / "signoff.yaml"
    starter_file = resources.files("bot").joinpath("templates/signoff.yaml").read_text(encoding="utf-8")
    entry = f"\napi_clients:\n  - id: crm\n    token_sha256: {token_sha256(TOKEN)}\n    kinds: [discount]\n"
    config.write_text(starter_file + entry)
    with SlackEmulator() as slack:
        values: dict[str, object] = {
            "SLACK_BOT_TOKEN": SecretStr("xoxb-test"),
            "SLACK_SIGNING_SECRET": SecretStr("secret"),
            "SIGNOFF_CONFIG": config,
            "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'readme.db'}",
            "SIGNOFF_SLACK_API_URL": slack.api_url,
        }
        built = build_signoff(Settings.model_validate(values))
        yield built
        built.engine.dispose()


def test_the_readme_curl_examples_work_as_written_against_the_starter_file(starter: Signoff) -> None:
    app: Any = starter.wsgi()
    lines = [line for line in curl_lines() if line.startswith("curl")]
    first = lines[0]
    body = re.search(r"-d '(.*?)'", first)
    key = re.search(r"-H 'Idempotency-Key: (.*?)'", first)
    assert body is not None and key is not None
    headers = {"Idempotency-Key": key.group(1), "Content-Type": "application/json"}
    filed = call(app, "POST", "/api/v1/requests", body=body.group(1).encode(), token=TOKEN, headers=headers)
    assert filed.status == 201, filed.body
    shown = json.loads(
        "".join(line.removeprefix("# ").strip() for line in curl_lines() if line.startswith(("#  ", '# {"'))).replace(
            "…", ""
        )
    )
    got = filed.json()
    assert (got["state"], got["steps"], got["replayed"]) == (shown["state"], shown["steps"], shown["replayed"])
    for line in lines[1:]:
        url = re.search(r'curl -s "?localhost:3000([^" ]+)"?', line)
        assert url is not None, line
        path, _, query = url.group(1).replace("REQ-43", got["request"]).partition("?")
        reply = call(app, "GET", path, token=TOKEN, query=query)
        assert reply.status == 200, (line, reply.body)
    cursor = re.search(r"cursor=([A-Za-z0-9_-]+)", section())
    assert cursor is not None
    assert json.loads(base64.urlsafe_b64decode(cursor.group(1) + "==")) == {"before": 41}


def test_the_readme_error_table_lists_every_status_the_api_documents() -> None:
    table = {int(m) for m in re.findall(r"^\| (\d{3}) \|", section(), re.MULTILINE)}
    documented = {
        int(status)
        for item in openapi_document()["paths"].values()
        for operation in item.values()
        for status in operation["responses"]
        if int(status) >= 400
    }
    assert documented <= table, documented - table
