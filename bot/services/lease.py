"""The relay's heartbeat: a short lease on claimed outbox rows, renewed while the relay lives.

A relay claims rows for ``lease`` (15 s). While it works through them, a ``LeaseKeeper``
thread pushes the lease of the rows it still holds ``lease`` ahead again every ``lease / 3``.
A live relay, however slow Slack is, keeps its rows; a killed one stops renewing, and its
rows are due again at most ``lease`` after its last heartbeat, for a restarted process or any
other relay to take (DESIGN §10: within 30 s).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from types import TracebackType

from bot.services.runtime import Runtime

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews the lease of the rows ``item_ids`` until each is ``release``d or the keeper closes.

    Use as a context manager around the deliveries of one claimed batch. Renewal failures
    (a database hiccup) are logged and tried again at the next beat; the worst outcome is
    the lease lapsing, and the next relay then looks in Slack before it sends again.
    """

    def __init__(self, runtime: Runtime, item_ids: list[int], lease: timedelta):
        self._runtime = runtime
        self._held = set(item_ids)
        self._lease = lease
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="signoff-relay-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._closed.set()
        self._thread.join(timeout=self._lease.total_seconds())

    def release(self, item_id: int) -> None:
        """The row is finished (sent, retried later or dead): stop renewing it."""
        with self._lock:
            self._held.discard(item_id)

    def _beat(self) -> None:
        while not self._closed.wait(self._lease.total_seconds() / 3):
            with self._lock:
                held = sorted(self._held)
            if not held:
                continue
            try:
                with self._runtime.uow() as uow:
                    uow.outbox.renew(held, until=self._runtime.clock.now() + self._lease)
                    uow.commit()
            except Exception:  # a missed beat is survivable (see the class docstring); never kill the thread
                log.warning("could not renew the lease of %d outbox rows; trying again", len(held), exc_info=True)
