"""Acknowledgement latency of /request under 20 concurrent clients, beside a bare Bolt app.

Run:  python -m bench.bench_ack

Starts `signoff serve` (HTTP, SQLite, the Slack emulator) and, as the baseline measured in the
same run, a Bolt app on the same server (waitress, same thread counts) whose handler only
acks. 20 client threads send signed slash commands; every request's time to the HTTP answer
is recorded, under two loads:

- paced: each client sends 4 requests a second (80/s in all, far beyond what a workspace
  sends), so latency is what one request costs when the server keeps up;
- flat out: each client sends its next request as soon as the last is answered, so the
  server is saturated and latency is mostly queueing behind the other 19 clients.

Target: Signoff's p50 ≤ 0.5× the bare app's (in Bolt's default mode) paced, ≤ 1.0× flat out,
and p99 far inside Slack's 3 s.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from bot.slack.emulator import SlackEmulator

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"  # signs the benchmark's own requests
CLIENTS, PER_CLIENT, WARMUP = 20, 15, 20
GOVERNANCE = """
version: 1
groups:
  finance: {members: [U0FIN1, U0FIN2]}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true}
      amount_pct: {type: number, required: true, min: 0, max: 100}
    approvers: finance
    rules:
      - {id: small, when: {amount_pct: {lte: 10}}, decide: approve, reason: Small discounts are pre-approved.}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{command} did not start")


def send(url: str, text: str, user: str) -> float:
    body = urlencode(
        {
            "command": "/request",
            "text": text,
            "user_id": user,
            "channel_id": "C1",
            "trigger_id": f"t-{user}-{time.monotonic_ns()}",
        }
    ).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        url,
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        },
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
        assert response.status == 200
    return time.perf_counter() - start


def load(url: str, text: str, tag: str, *, pace: float | None) -> list[float]:
    """Latencies of CLIENTS × PER_CLIENT requests; ``pace`` seconds between one client's sends, or flat out."""
    for n in range(WARMUP):
        send(url, text, f"U0W{tag}{n}")
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        barrier.wait()
        if pace is not None:
            time.sleep(pace * number / CLIENTS)  # spread the clients' first sends over one period
        mine = []
        for n in range(PER_CLIENT):
            started = time.perf_counter()
            mine.append(send(url, text, f"U0{tag}{number}X{n}"))
            if pace is not None:
                time.sleep(max(0.0, pace - (time.perf_counter() - started)))  # the load's shape, not a wait
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if q < 100 else max(values) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, SlackEmulator() as slack:
        config = Path(folder) / "signoff.yaml"
        config.write_text(GOVERNANCE)
        signoff_port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SIGNOFF_SLACK_API_URL": slack.api_url,
            "SIGNOFF_CONFIG": str(config),
            "SIGNOFF_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
            "SIGNOFF_LOG_LEVEL": "WARNING",
        }
        env.pop("SLACK_APP_TOKEN", None)
        signoff = start(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"],
            {**env, "SIGNOFF_PORT": str(signoff_port)},
            signoff_port,
        )
        bare = start([sys.executable, "-m", "bench.bare_bolt"], {**env, "SIGNOFF_PORT": str(bare_port)}, bare_port)
        bare_url = f"http://127.0.0.1:{bare_port}/slack/events"
        signoff_url = f"http://127.0.0.1:{signoff_port}/slack/events"
        try:
            for label, pace in (("paced: 4 requests/s per client", 0.25), ("flat out", None)):
                tag = "P" if pace else "F"
                results = {
                    "bare Bolt app (ack only)": load(bare_url, "discount account=A amount_pct=5", f"B{tag}", pace=pace),
                    "signoff, auto-approved": load(
                        signoff_url, "discount account=A amount_pct=5", f"A{tag}", pace=pace
                    ),
                    "signoff, routed": load(signoff_url, "discount account=A amount_pct=25", f"R{tag}", pace=pace),
                }
                report(label, results)
        finally:
            for process in (signoff, bare):
                process.terminate()
                process.wait(timeout=15)
    print("target: Signoff p50 ≤ 0.5x the bare app paced, ≤ 1.0x flat out; p99 far inside Slack's 3,000 ms")


def report(label: str, results: dict[str, list[float]]) -> None:
    base = statistics.median(results["bare Bolt app (ack only)"]) * 1000
    print(f"\n{CLIENTS} concurrent clients × {PER_CLIENT} signed /request each, {label}")
    print(f"{'':28} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p50 ratio':>10}")
    for name, latencies in results.items():
        median = statistics.median(latencies) * 1000
        print(f"{name:28} {median:8.1f} {p(latencies, 99):8.1f} {p(latencies, 100):8.1f} {median / base:9.2f}x")


if __name__ == "__main__":
    main()
