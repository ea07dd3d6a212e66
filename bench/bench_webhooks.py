"""Webhook delivery throughput through the outbox relay, beside the same number of bare signed POSTs.

Run:  python -m bench.bench_webhooks [N]   (default 500; SQLite, and PostgreSQL when reachable)

Both sides use the same HTTP client and the same signing (``bot.webhooks.sender.WebhookSender``)
against the same local receiver (a threaded ``http.server`` answering 204). The bare side only
signs and POSTs N messages in a loop; the relay side delivers N queued webhook rows the way
``signoff worker``'s webhook lane does: claimed in batches under a lease (at most one row per
subscription and request at a time), POSTed several at once, the accepted ones recorded as sent
in groups. It prints messages per second for each and the ratio relay / bare, measured in the
same run: three rounds of bare then relay, the median of each side counts. Target: ≥ 0.8×.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.databases import postgres_in_schema
from bot.domain.clock import SystemClock
from bot.domain.outbox import Intent, IntentKind, Lane, OutboxItem, OutboxStatus
from bot.domain.webhook_subscriptions import Subscription
from bot.domain.webhooks import delivery_key, encode_body, message_id
from bot.services.relay import relay_outbox
from bot.services.runtime import Runtime
from bot.webhooks.sender import WebhookSender
from storage.engine import create_db_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA="
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
ROUNDS = 3


class _Quiet(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def body(n: int) -> dict[str, Any]:
    data = {
        "request": f"REQ-{n}",
        "kind": "discount",
        "state": "approved",
        "version": 2,
        "fields": {"account": f"Account {n}", "amount_pct": 5, "region": "emea"},
        "requester": "U0SAM",
        "decided_by": "rule:small-discount",
        "rule": "small-discount",
        "reason": "Discounts up to 10% are pre-approved (Finance policy FIN-7).",
        "governance": "0" * 64,
        "receipt": {
            "outcome": "approve",
            "rule": "small-discount",
            "trace": [{"rule": "small-discount", "matched": True}],
        },
    }
    return {"type": "request.decided", "timestamp": NOW.isoformat(), "data": data}


def bare(sender: WebhookSender, subscription: Subscription, count: int) -> float:
    start = time.perf_counter()
    for n in range(count):
        key = delivery_key(subscription.id, n, "request.decided", 2)
        answer = sender.send(subscription=subscription, message_id=message_id(key), body=encode_body(body(n)))
        assert answer.status == 204, answer
    return count / (time.perf_counter() - start)


def relayed(url: str, sender: WebhookSender, subscription: Subscription, count: int, offset: int) -> float:
    engine = create_db_engine(url)
    upgrade(engine)
    units = SqlUnitOfWorkFactory(engine, webhooks=lambda: (subscription,))
    runtime = Runtime(uow=units, governance=lambda: None, clock=SystemClock())  # type: ignore[arg-type,return-value]
    intents = []
    for n in range(offset, offset + count):
        key = delivery_key(subscription.id, n, "request.decided", 2)
        payload = {"subscription": subscription.id, "message_id": message_id(key), "body": body(n)}
        intents.append(Intent(IntentKind.WEBHOOK, key, payload, n))
    with units() as uow:
        uow.outbox.add_many(intents, now=SystemClock().now())
        uow.commit()
    sent = 0
    unrecorded: list[OutboxItem] = []  # as the worker's webhook loop keeps it (recorded with the next claim)
    start = time.perf_counter()
    while True:
        report = relay_outbox(
            runtime=runtime,
            gateway=None,  # type: ignore[arg-type]
            webhooks=sender,
            lane=Lane.WEBHOOKS,
            unrecorded=unrecorded,
        )
        if not report.handled:  # this last pass recorded the previous batch's deliveries
            break
        sent += report.sent
    rate = count / (time.perf_counter() - start)
    assert sent == count, (sent, count)
    with units() as uow:  # every delivery is recorded as sent once the loop has stopped
        statuses = uow.outbox.statuses([intent.key for intent in intents])
    assert set(statuses.values()) == {OutboxStatus.SENT}, set(statuses.values())
    engine.dispose()
    return rate


def backends(folder: str) -> list[tuple[str, str]]:
    found = [("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}")]
    postgres = postgres_in_schema("bench_webhooks")
    return found + ([("PostgreSQL", postgres)] if postgres else [])


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
    subscription = Subscription("bench", hook, "BENCH_SECRET", frozenset({"request.decided"}), None, "U0OWNER")
    sender = WebhookSender({"BENCH_SECRET": SECRET}.get)
    bare(sender, subscription, 50)  # warm up: imports, the first connections
    print(f"{'backend':<11} {'N':>6} {'bare msg/s':>11} {'relay msg/s':>12} {'relay/bare':>11}")
    with tempfile.TemporaryDirectory() as folder:
        for name, url in backends(folder):
            bares, relays = [], []
            for round_ in range(ROUNDS):
                bares.append(bare(sender, subscription, count))
                relays.append(relayed(url, sender, subscription, count, offset=round_ * count))
            baseline, through_relay = statistics.median(bares), statistics.median(relays)
            print(f"{name:<11} {count:>6} {baseline:>11.0f} {through_relay:>12.0f} {through_relay / baseline:>10.2f}×")
    server.shutdown()
    print("target: relay/bare ≥ 0.80×")


if __name__ == "__main__":
    main()
