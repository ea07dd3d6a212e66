"""`signoff demo`: a scripted walk-through against the built-in Slack emulator. No workspace needed.

It runs the real Bolt app, the real use cases, a real (temporary) SQLite database and the
outbox relay; only Slack is emulated. Every request is signed like Slack signs it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

from pydantic import SecretStr
from slack_bolt.request import BoltRequest

from bot.app import Signoff, build_signoff
from bot.domain.outbox import Lane
from bot.services.relay import relay_outbox
from bot.settings import Settings
from bot.slack.blocks import APPROVE, REASON_VIEW, REJECT
from bot.slack.emulator import Call, SlackEmulator

SECRET = "demo-signing-secret"  # noqa: S105 - signs the demo's own requests to its in-process app
NAMES = {
    "U0SAM": "Sam (sales)",
    "U0FINLEAD": "Flo (finance lead)",
    "U0FIN1": "Fiona (finance)",
    "U0FIN2": "Farid (finance)",
    "U0BRAND1": "Bea (brand council)",
    "U0BRAND2": "Bo (brand council)",
    "U0BRAND3": "Bram (brand council)",
}


class Demo:
    def __init__(self, signoff: Signoff, slack: SlackEmulator, out: TextIO):
        self.signoff = signoff
        self.slack = slack
        self.out = out
        self.seen_calls = 0
        self.trigger = 0

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _dispatch(self, body: str, content_type: str) -> str:
        stamp = str(int(time.time()))
        signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
        headers: dict[str, str | Sequence[str]] = {
            "content-type": content_type,
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": signature,
        }
        response = self.signoff.bolt.dispatch(BoltRequest(body=body, headers=headers))
        return str(response.body or "")

    def command(self, user: str, command: str, text: str) -> str:
        self.trigger += 1
        self.say(f"\n{NAMES[user]} types: {command} {text}")
        form = {
            "command": command,
            "text": text,
            "user_id": user,
            "channel_id": "C0GENERAL",
            "trigger_id": f"demo-{self.trigger}",
            "response_url": self.slack.response_url(user),
        }
        reply = self._dispatch(urlencode(form), "application/x-www-form-urlencoded")
        self.say(f"  Signoff (only to {NAMES[user].split()[0]}): {plain(reply)}")
        return reply

    def click(self, user: str, action_id: str, value: str) -> None:
        self.trigger += 1
        label = {APPROVE: "Approve", REJECT: "Reject"}.get(action_id, action_id)
        self.say(f"\n{NAMES[user]} clicks {label}")
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "trigger_id": f"demo-{self.trigger}",
            "actions": [{"action_id": action_id, "value": value, "type": "button"}],
            "response_url": self.slack.response_url(user),
            "team": {"id": "T0DEMO"},
        }
        self._dispatch(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def submit_reason(self, user: str, reason: str) -> None:
        # The form opens right after the click's acknowledgement, on Bolt's listener thread: wait for it.
        trigger = f"demo-{self.trigger}"
        if not self.slack.wait_for(lambda s: any(_reason_form(c, trigger) for c in s.calls_to("views.open"))):
            raise RuntimeError(f"no reason form opened for {user}")
        view = next(c for c in self.slack.calls_to("views.open") if _reason_form(c, trigger)).args["view"]
        self.say(f"  a form asks {NAMES[user].split()[0]} why; they write: “{reason}”")
        state = {"values": {"reason": {"value": {"type": "plain_text_input", "value": reason}}}}
        payload = {"type": "view_submission", "user": {"id": user}, "view": {**view, "id": "VDEMO", "state": state}}
        self._dispatch(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def deliver(self) -> None:
        """Run the outbox relay until nothing is due, then tell what Slack received."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.slack.wait_for(lambda s: True, timeout=0)
            if not relay_outbox(runtime=self.signoff.runtime, gateway=self.signoff.gateway, lane=Lane.SLACK).handled:
                break
        for call in self.slack.calls[self.seen_calls :]:
            where = call.args.get("channel", "")
            who = NAMES.get("U" + str(where)[1:], where) if str(where).startswith("D") else where
            if call.method == "chat.postMessage" and call.ok:
                kind = "card" if any(b.get("type") == "actions" for b in call.args.get("blocks", [])) else "message"
                self.say(f"  → Slack: {kind} to {who}: {plain(call.args.get('text', ''))}")
            elif call.method == "chat.update" and call.ok:
                status = decided(call.args.get("blocks", [])) or str(call.args.get("text", ""))
                self.say(f"  → Slack: card updated for {who}: {plain(status)}")
        self.seen_calls = len(self.slack.calls)

    def card_value(self, user: str, ref: str) -> str:
        channel = "D" + user[1:]
        for message in self.slack.messages_in(channel):
            if f"`{ref}`" in json.dumps(message.blocks):
                for block in message.blocks:
                    for element in block.get("elements", []):
                        if element.get("action_id") == APPROVE:
                            return str(element["value"])
        raise RuntimeError(f"no card for {ref} in {channel}")


def _reason_form(call: Call, trigger: str) -> bool:
    return call.args.get("trigger_id") == trigger and call.args["view"].get("callback_id") == REASON_VIEW


EMOJI = {
    ":white_check_mark:": "✅",
    ":x:": "❌",
    ":hourglass_flowing_sand:": "⏳",
    ":no_entry:": "⛔",
    ":warning:": "⚠️",
}


def plain(text: str) -> str:
    """Slack markup as a terminal shows it."""
    for user, name in NAMES.items():
        text = text.replace(f"<@{user}>", f"@{name.split()[0]}").replace(user, name.split()[0])
    text = re.sub(r"<@(\w+)>", r"@\1", text)
    text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"(^|\s)_(.+?)_(?=\s|$)", r"\1\2", text, flags=re.MULTILINE)
    for code, symbol in EMOJI.items():
        text = text.replace(code, symbol)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("*", "").replace("`", "")


def decided(blocks: list[dict[str, Any]]) -> str:
    context = [b for b in blocks if b.get("type") == "context"]
    return str(context[-1]["elements"][0]["text"]) if context else ""


def ref_of(reply: str) -> str:
    start = reply.index("REQ-")
    end = start + 4
    while end < len(reply) and reply[end].isdigit():
        end += 1
    return reply[start:end]


def run_demo(out: TextIO) -> int:
    with tempfile.TemporaryDirectory() as folder, SlackEmulator() as slack:
        config = Path(folder) / "signoff.yaml"
        config.write_text(
            (resources.files("bot") / "templates" / "signoff.yaml").read_text(encoding="utf-8"), encoding="utf-8"
        )
        settings = Settings.model_validate(
            {
                "SLACK_BOT_TOKEN": SecretStr("xoxb-demo"),
                "SLACK_SIGNING_SECRET": SecretStr(SECRET),
                "SIGNOFF_CONFIG": config,
                "SIGNOFF_DATABASE_URL": f"sqlite:///{Path(folder) / 'demo.db'}",
                "SIGNOFF_SLACK_API_URL": slack.api_url,
            }
        )
        signoff = build_signoff(settings)
        demo = Demo(signoff, slack, out)
        demo.say(
            "Signoff demo: the starter governance file (`signoff init`), a temporary database, and an emulated Slack."
        )

        demo.say("\n1. A routine discount is decided by a governed default, in the acknowledgement itself.")
        demo.command("U0SAM", "/request", "discount account=Acme amount_pct=5 region=emea")

        demo.say("\n2. A larger one goes to Finance; the first approval decides it and every card is updated.")
        ref = ref_of(demo.command("U0SAM", "/request", 'discount account="Globex Corp" amount_pct=25 region=emea'))
        demo.deliver()
        demo.click("U0FIN1", APPROVE, demo.card_value("U0FIN1", ref))
        demo.deliver()

        demo.say("\n3. A rejection needs a reason, and the requester is told it.")
        ref = ref_of(demo.command("U0SAM", "/request", "discount account=Initech amount_pct=30 region=amer"))
        demo.deliver()
        demo.click("U0FIN2", REJECT, demo.card_value("U0FIN2", ref))
        demo.submit_reason("U0FIN2", "Margin is below the floor for AMER this quarter.")
        demo.deliver()

        demo.say("\n4. A brand exception needs two of the brand council (quorum), and is time-boxed.")
        until = (date.today() + timedelta(days=30)).isoformat()
        ref = ref_of(
            demo.command(
                "U0SAM",
                "/exception",
                f"brand-exception asset=https://cdn.example.com/q3-banner.png guideline=logo until={until}",
            )
        )
        demo.deliver()
        value = demo.card_value("U0BRAND1", ref)
        demo.click("U0BRAND1", APPROVE, value)
        demo.deliver()
        demo.click("U0BRAND2", APPROVE, value)
        demo.deliver()

        demo.say("\nEvery step above is in the tamper-evident audit log; `signoff audit verify` checks it.")
        signoff.stopping.set()
        signoff.engine.dispose()
    return 0
