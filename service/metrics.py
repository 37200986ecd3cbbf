"""Prometheus metrics for ``GET /metrics``: HTTP requests and their latency (this process), and
the queue and call counts read from the database at scrape time (so they include the work of
every worker process)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from callscope.store.db import Call, Correction, Job, utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _DatabaseCollector(Collector):
    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("callscope_jobs", "Jobs in the queue by status.", labels=["status"])
        calls = GaugeMetricFamily("callscope_calls", "Stored calls by status.", labels=["status"])
        with self.sessions() as s:
            job_counts = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
            call_counts = dict(s.execute(select(Call.status, func.count()).group_by(Call.status)).all())
            oldest = s.execute(select(func.min(Job.created_at)).where(Job.status == "queued")).scalar()
            corrections = s.execute(select(func.count()).select_from(Correction)).scalar_one()
        for status in ("queued", "running", "done", "failed"):
            jobs.add_metric([status], job_counts.get(status, 0))
        for status in ("queued", "running", "done", "failed", "unsupported_language"):
            calls.add_metric([status], call_counts.get(status, 0))
        yield jobs
        yield calls
        age = 0.0
        if oldest is not None:
            now = utcnow()
            age = max(0.0, (now - (oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo))).total_seconds())
        yield GaugeMetricFamily("callscope_queue_oldest_age_seconds", "Age of the oldest queued job (0: none queued).", value=age)
        yield GaugeMetricFamily("callscope_corrections", "QA corrections stored.", value=corrections)


class ServiceMetrics:
    """The app's own registry (not the process-global one, so two apps in one process don't clash)."""

    def __init__(self, sessions: sessionmaker) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("callscope_http_requests", "HTTP requests by route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("callscope_http_request_duration_seconds", "HTTP request latency (seconds).",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.uploaded = Counter("callscope_calls_uploaded", "Calls accepted by POST /v1/calls (new, not deduplicated).",
                                registry=self.registry)
        self.registry.register(_DatabaseCollector(sessions))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
