"""Prometheus metrics, one registry per app so tests can build many apps in one process."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class QueueDepths(Collector):
    """Depths are read when scraped, from whatever the areas register."""

    def __init__(self) -> None:
        self.sources: dict[str, Callable[[], int]] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("wefirst_queue_depth", "Items waiting in a queue", labels=["queue"])
        for name, fn in sorted(self.sources.items()):
            try:
                family.add_metric([name], fn())
            except Exception:  # noqa: S112 — a broken source must not break the scrape
                continue
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "wefirst_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "wefirst_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.events = Counter(
            "wefirst_events",
            "Events applied, by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.queues = QueueDepths()
        self.registry.register(self.queues)

    def count_outcomes(self, kind: str, outcomes: list[str]) -> None:
        for outcome in outcomes:
            self.events.labels(kind, outcome).inc()
