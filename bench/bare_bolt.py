"""The baseline for bench_ack: a Bolt app on the same server whose /request handler only acks."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import waitress
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient


def main() -> None:
    client = WebClient(token="xoxb-bench", base_url=os.environ["SIGNOFF_SLACK_API_URL"])
    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=client,
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=32),
    )

    @app.command("/request")
    def ack_only(ack: Ack) -> None:
        ack("ok")

    waitress.serve(
        SlackRequestHandler(app), host="127.0.0.1", port=int(os.environ["SIGNOFF_PORT"]), threads=16, _quiet=True
    )


if __name__ == "__main__":
    main()
