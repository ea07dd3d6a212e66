"""One deadline per webhook POST, all of it: a receiver that trickles its answer is cut off, and a
URL or answer Python's HTTP client cannot handle is one failed delivery, never a crash."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.domain.webhook_subscriptions import Subscription
from bot.domain.webhooks import ReceiverUnreachable
from bot.webhooks.sender import MAX_ANSWER_BYTES, WebhookSender
from tests.webhook_receiver import SECRET

DEADLINE = 1.0


@contextmanager
def trickling(head: bytes, drip: bytes) -> Iterator[str]:
    """A raw receiver: reads the request, sends ``head``, then ``drip`` every 0.1 s until the sender leaves."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(head)
                while not stop.wait(0.1):
                    connection.sendall(drip)
            except OSError:
                pass  # the sender hung up: what the test wants

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    finally:
        stop.set()
        server.close()
        thread.join(5)


def subscription(url: str) -> Subscription:
    return Subscription("slow", url, "SECRET_ENV", frozenset({"request.decided"}), None, "U0OPS")


def send_within(url: str, limit: float) -> object:
    """The answer (or the error) of one POST; fails if it took longer than ``limit`` seconds."""
    sender = WebhookSender({"SECRET_ENV": SECRET}.get, timeout=DEADLINE)
    outcome: list[object] = []

    def post() -> None:
        try:
            outcome.append(sender.send(subscription=subscription(url), message_id="msg_1", body="{}"))
        except ReceiverUnreachable as error:
            outcome.append(error)

    started = time.monotonic()
    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"the POST was still running after {limit} s"
    assert time.monotonic() - started >= DEADLINE * 0.9 or outcome
    return outcome[0]


def test_an_answer_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline() -> None:
    with trickling(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b"x") as url:
        answer = send_within(url, limit=DEADLINE + 2)
    assert getattr(answer, "status", None) == 200  # the status came in time: the receiver took it
    assert len(getattr(answer, "body", "")) < 50


def test_headers_trickled_a_line_at_a_time_are_no_answer() -> None:
    with trickling(b"HTTP/1.1 200 OK\r\n", b"X-Slow: 1\r\n") as url:
        error = send_within(url, limit=DEADLINE + 2)
    assert isinstance(error, ReceiverUnreachable) and f"within {DEADLINE:g} s" in str(error)


def test_only_a_bounded_prefix_of_a_huge_answer_is_read() -> None:
    with trickling(b"HTTP/1.1 500 Oops\r\nContent-Length: 10000000\r\n\r\n" + b"y" * 1_000_000, b"y") as url:
        answer = send_within(url, limit=DEADLINE + 2)
    assert getattr(answer, "status", None) == 500 and len(getattr(answer, "body", "")) == MAX_ANSWER_BYTES


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/a b", "http://127.0.0.1:9/a\nb", "http://127.0.0.1:99999/h"])
def test_a_url_the_http_client_refuses_is_one_failed_delivery(url: str) -> None:
    with pytest.raises(ValueError, match="the link"):
        subscription(url)  # the domain never builds a subscription with such a URL …
    unusable = subscription("http://127.0.0.1:9/ok")
    object.__setattr__(unusable, "url", url)  # … and were one to get through, the sender still copes
    with pytest.raises(ReceiverUnreachable):
        WebhookSender({"SECRET_ENV": SECRET}.get, timeout=DEADLINE).send(
            subscription=unusable, message_id="msg_1", body="{}"
        )
