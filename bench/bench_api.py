"""Latency of ``POST /api/v1/requests`` beside the slash command's ``/request``, in the same run, through the same app.

Run:  python -m bench.bench_api

Builds Signoff as ``signoff serve`` does (``build_signoff``: SQLite, the Slack emulator as the Web
API) and calls its WSGI app in-process, as waitress would hand it a request: the HTTP server
and the network are left out, so what is measured is Signoff's own work per request. Each
round sends one signed ``/request`` (through ``SlackEdge`` and Bolt, answered at the ack) and
one API call (bearer token, JSON body, ``Idempotency-Key``), alternating which goes first, so
both see the same database size and the same warm caches. Two shapes of request: one a rule
approves at once, one routed to people (its cards queued in the outbox; no worker runs here).

Prints p50 and p90 per path and the API's p50 as a multiple of the slash command's.
Target: the API within 1.0x of the slash command (it does the same use case with less
parsing, no Bolt dispatch and no listener thread).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr

from bot.app import build_signoff
from bot.domain.api_clients import token_sha256
from bot.settings import Settings
from bot.slack.emulator import SlackEmulator
from tests.slack.wsgi import environ_for, signature

SECRET = "bench-secret"
TOKEN = "sgf_bench-token-000000000000000000000000000000"
ROUNDS, WARMUP = 400, 50
GOVERNANCE = f"""
version: 1
groups:
  finance: {{members: [U0FIN1, U0FIN2]}}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {{type: text, required: true}}
      amount_pct: {{type: number, required: true, min: 0, max: 100}}
    approvers: finance
    rules:
      - {{id: small, when: {{amount_pct: {{lte: 10}}}}, decide: approve, reason: Small discounts are pre-approved.}}
api_clients:
  - {{id: bench, token_sha256: {token_sha256(TOKEN)}, kinds: [discount]}}
"""


def timed(app: Any, env: dict[str, Any], expect: int) -> float:
    statuses: list[str] = []
    start = time.perf_counter()
    b"".join(app(env, lambda status, headers, exc=None: statuses.append(status)))
    elapsed = time.perf_counter() - start
    assert int(statuses[0].split()[0]) == expect, statuses
    return elapsed


def slash(app: Any, n: int, pct: int) -> float:
    body = urlencode(
        {
            "command": "/request",
            "text": f"discount account=Acme-{n} amount_pct={pct}",
            "user_id": f"U0S{n}",
            "channel_id": "C1",
            "trigger_id": f"t-{n}-{time.monotonic_ns()}",
        }
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(body, stamp, SECRET),
    }
    return timed(app, environ_for(body, headers, path="/slack/events"), 200)


def api(app: Any, n: int, pct: int) -> float:
    body = json.dumps(
        {"kind": "discount", "requester": f"U0A{n}", "fields": {"account": f"Acme-{n}", "amount_pct": pct}}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {TOKEN}",
        "Idempotency-Key": f"bench-{n}-{pct}",
    }
    return timed(app, environ_for(body, headers, path="/api/v1/requests"), 201)


def measure(app: Any, pct: int, rounds: int, offset: int) -> dict[str, list[float]]:
    paths: dict[str, Callable[[Any, int, int], float]] = {
        "/request (signed, Slack edge + Bolt)": slash,
        "POST /api/v1/requests": api,
    }
    results: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    for n in range(rounds):
        order = names if n % 2 == 0 else names[::-1]
        for name in order:
            results[name].append(paths[name](app, offset + n, pct))
    return results


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def report(label: str, results: dict[str, list[float]]) -> None:
    base = statistics.median(next(iter(results.values())))
    print(f"\n{label}: {ROUNDS} requests per path, in-process WSGI, SQLite")
    print(f"{'':38} {'p50 ms':>8} {'p90 ms':>8} {'p50 ratio':>10}")
    for name, latencies in results.items():
        median = statistics.median(latencies)
        print(f"{name:38} {median * 1000:8.2f} {quantile(latencies, 90):8.2f} {median / base:9.2f}x")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, SlackEmulator() as slack:
        config = Path(folder) / "signoff.yaml"
        config.write_text(GOVERNANCE)
        settings = Settings.model_validate(
            {
                "SLACK_BOT_TOKEN": SecretStr("xoxb-bench"),
                "SLACK_SIGNING_SECRET": SecretStr(SECRET),
                "SIGNOFF_CONFIG": config,
                "SIGNOFF_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
                "SIGNOFF_SLACK_API_URL": slack.api_url,
            }
        )
        signoff = build_signoff(settings)
        try:
            app = signoff.wsgi()
            measure(app, 5, WARMUP, 100_000)
            report("auto-approved by a rule", measure(app, 5, ROUNDS, 0))
            report("routed to people (cards queued)", measure(app, 25, ROUNDS, 10_000))
        finally:
            signoff.engine.dispose()
    print("\ntarget: the API's p50 within 1.0x of the slash command's")


if __name__ == "__main__":
    main()
