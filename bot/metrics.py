"""Prometheus metrics (prometheus-client), in a registry of their own built by the composition root.

``SignoffMetrics`` is the services' ``Observer`` (requests, decisions, deliveries, job runs),
the Web API client's error hook and Bolt's acknowledgement timer. Counts of work waiting in the
database (pending requests, due and dead outbox rows) are read when Prometheus scrapes, at most
once per ``cache_seconds``, so frequent scrapes do not load the database.

Labels are bounded: kinds, rule ids, outcomes, Slack method and error names, webhook subscription
ids (from the governance file); never a person or a request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.services.observer import DecidedBy
from storage.health import WorkWaiting

log = logging.getLogger(__name__)

#: The classic text format, which every Prometheus version scrapes (our names are plain ASCII).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Slack's acknowledgement deadline is 3 s; buckets resolve the fast path and the tail up to it.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
#: From queued to sent: immediate deliveries, retries with backoff, and working-hours holds.
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 86400.0)


class WorkWaitingCollector(Collector):
    """Gauges read from the database at scrape time, cached for ``cache_seconds``."""

    def __init__(self, read: Callable[[], WorkWaiting], *, cache_seconds: float = 10.0):
        self._read = read
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, WorkWaiting] | None = None

    def _current(self) -> WorkWaiting | None:
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < self._cache_seconds:
                return self._cached[1]
            try:
                fresh = self._read()
            except Exception:  # a scrape must not fail because the database did: the gauges are left out
                log.warning("metrics: cannot read pending work from the database", exc_info=True)
                return None
            self._cached = (time.monotonic(), fresh)
            return fresh

    def collect(self) -> Iterable[Metric]:
        waiting = self._current()
        if waiting is None:
            return
        yield _gauge(
            "signoff_requests_pending", "Requests waiting on people, by kind.", "kind", waiting.pending_requests
        )
        yield _gauge("signoff_outbox_due", "Outbox rows due for delivery now, by effect.", "effect", waiting.outbox_due)
        yield _gauge("signoff_outbox_dead", "Outbox rows given up on (dead), by effect.", "effect", waiting.outbox_dead)
        yield _gauge(
            "signoff_webhook_deliveries_dead", "Webhook deliveries given up on (dead), by subscription.",
            "subscription", waiting.webhook_dead,
        )  # fmt: skip
        yield _gauge(
            "signoff_webhook_subscription_disabled", "1 for each webhook subscription a 410 disabled.",
            "subscription", waiting.webhooks_disabled,
        )  # fmt: skip


def _gauge(name: str, documentation: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class SignoffMetrics:
    """Every Signoff series, registered in ``registry`` (a fresh one unless given)."""

    def __init__(
        self, work_waiting: Callable[[], WorkWaiting] | None = None, registry: CollectorRegistry | None = None
    ):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "signoff_requests", "Requests filed, by kind and outcome (approve/reject by a rule, route).",
            ["kind", "outcome"], registry=r,
        )  # fmt: skip
        self.decisions = Counter(
            "signoff_decisions", "Decisions, by a rule (with its id) or by a person, and their verdict.",
            ["kind", "by", "rule", "verdict"], registry=r,
        )  # fmt: skip
        self.delivery_seconds = Histogram(
            "signoff_delivery_latency_seconds", "From an outbox row queued to sent, by effect.",
            ["effect"], buckets=DELIVERY_BUCKETS, registry=r,
        )  # fmt: skip
        self.slack_errors = Counter(
            "signoff_slack_api_errors", "Slack Web API calls that failed, by method and error.",
            ["method", "error"], registry=r,
        )  # fmt: skip
        self.ack_seconds = Histogram(
            "signoff_slack_ack_latency_seconds", "From a Slack request received to its acknowledgement, by type.",
            ["type"], buckets=ACK_BUCKETS, registry=r,
        )  # fmt: skip
        self.webhook_deliveries = Counter(
            "signoff_webhook_deliveries", "Webhook delivery attempts, by subscription and outcome "
            "(sent, retried, rate_limited, dead, disabled).", ["subscription", "outcome"], registry=r,
        )  # fmt: skip
        self.job_runs = Counter(
            "signoff_job_runs", "Scheduled job runs, by job id and result (ok, skipped, error).",
            ["job", "result"], registry=r,
        )  # fmt: skip
        if work_waiting is not None:
            r.register(WorkWaitingCollector(work_waiting))
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes, …
        PlatformCollector(registry=r)

    # -- the services' Observer ---------------------------------------------------------------
    def request_filed(self, *, kind: str, outcome: str) -> None:
        self.requests.labels(kind=kind, outcome=outcome).inc()

    def decided(self, *, kind: str, by: DecidedBy, rule: str | None, verdict: str) -> None:
        self.decisions.labels(kind=kind, by=by, rule=rule or "", verdict=verdict).inc()

    def delivered(self, *, effect: str, waited_seconds: float) -> None:
        self.delivery_seconds.labels(effect=effect).observe(waited_seconds)

    def job_ran(self, *, job: str, result: str) -> None:
        self.job_runs.labels(job=job, result=result).inc()

    def webhook_delivery(self, *, subscription: str, outcome: str) -> None:
        self.webhook_deliveries.labels(subscription=subscription, outcome=outcome).inc()

    # -- adapters' hooks ------------------------------------------------------------------------
    def slack_error(self, method: str, error: str) -> None:
        self.slack_errors.labels(method=method, error=error).inc()

    def acknowledged(self, request_type: str, seconds: float) -> None:
        self.ack_seconds.labels(type=request_type).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text format of every series, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE
