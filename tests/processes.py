"""Entry points for tests that kill real processes: submit-then-hang and relay-then-hang.

Run as ``python -c "from tests.processes import …; …()"`` with SIGNOFF_DATABASE_URL,
SIGNOFF_CONFIG and, for the relay, DELIVERIES (a file each delivery is appended to, as
``action request target<TAB>outbox key``) and HANG_AT or HANG_AFTER (the delivery number to hang
before, or just after it reached the file: Slack took it, the relay never heard back).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from datetime import datetime

from bot.domain.cards import Card
from bot.domain.clock import SystemClock
from bot.domain.notices import Notification
from bot.domain.outbox import MessageRef
from bot.domain.surface_summary import OwnerSurface
from bot.governance_file import load_governance_file
from bot.services.relay import relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.engine import create_db_engine
from storage.uow import SqlUnitOfWorkFactory


def _runtime() -> Runtime:
    governance = load_governance_file(os.environ["SIGNOFF_CONFIG"])
    engine = create_db_engine(os.environ["SIGNOFF_DATABASE_URL"])
    return Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=SystemClock())


def submit_then_hang() -> None:
    """Commit some routed requests (their cards queued), say so, and wait to be killed."""
    runtime = _runtime()
    count = int(os.environ.get("REQUESTS", "5"))
    for n in range(count):
        submit_request(runtime=runtime, kind="discount", requester="U0SAM", text=f"account=Acme-{n} amount_pct=25")
    print(f"committed {count}", flush=True)
    threading.Event().wait()


class FileGateway:
    """Appends each delivery to a file (fsynced) and hangs forever before (or after) delivery ``hang_at``."""

    def __init__(self, path: str, hang_at: int, *, after: bool = False):
        self.path = path
        self.hang_at = hang_at
        self.after = after
        self.calls = 0

    def _hang(self) -> None:
        print("hanging", flush=True)
        threading.Event().wait()

    def _record(self, line: str, key: str = "") -> None:
        self.calls += 1
        if self.calls == self.hang_at and not self.after:
            self._hang()
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(f"{line}\t{key}\n")
            out.flush()
            os.fsync(out.fileno())
        if self.calls == self.hang_at and self.after:
            self._hang()

    def post_card(self, *, recipient: str, card: Card, key: str = "") -> MessageRef:
        self._record(f"post {card.request_id} {recipient}", key)
        return MessageRef("D" + recipient[1:], f"{card.request_id}.{self.calls}", recipient)

    def update_card(self, *, ref: MessageRef, card: Card, buttons: bool = True) -> None:
        self._record(f"update {card.request_id} {ref.channel}")

    def send_digest(self, *, user: str, cards: list[Card], more: int, auto_resolved: int, key: str = "") -> None:
        self._record(f"digest {user}")

    def notify(self, *, notification: Notification, card: Card | None, key: str = "") -> None:
        self._record(f"notify {notification.event} {notification.user}")

    def send_surface_summary(self, *, user: str, surface: OwnerSurface, week: str, key: str = "") -> None:
        self._record(f"surface {user}", key)

    def share_surface_chart(self, *, user: str, surface: OwnerSurface, filename: str) -> None:
        self._record(f"chart {user} {filename}")

    def find_posted_file(self, *, recipient: str, filename: str, since: datetime) -> bool:
        return False  # as find_posted

    def find_posted(self, *, recipient: str, key: str, since: datetime) -> MessageRef | None:
        return None  # this relay runs first: nothing it has not sent can be in the file


def relay_then_hang() -> None:
    runtime = _runtime()
    after = "HANG_AFTER" in os.environ
    hang_at = int(os.environ["HANG_AFTER"] if after else os.environ["HANG_AT"])
    gateway = FileGateway(os.environ["DELIVERIES"], hang_at, after=after)
    while relay_outbox(runtime=runtime, gateway=gateway, batch_size=3).handled:
        pass
    print("drained", flush=True)
    sys.exit(0)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
