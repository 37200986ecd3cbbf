"""One backfill run: list the source, skip what is stored, analyse the rest on the actor pool,
store each result once, and report.

The driver (this process) hashes each recording as the pool asks for work, looks its key up in
the sink, hands the recording to an actor, and writes what comes back. It is the only writer, so
"exactly once" needs nothing from the actors: a recording whose actor died is analysed again,
but stored once, under its key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from callscope.analysis.schema import CallAnalysis
from callscope.backfill.pool import ActorPool, Outcome, Task
from callscope.backfill.source import Problem, Recording, key_of, sha256_of


class Failure(BaseModel):
    origin: str = Field(description="the file, or the manifest row")
    reason: str
    attempts: int = Field(0, description="times an actor took it (0: refused before analysis)")


class BackfillReport(BaseModel):
    """What one run did (also written as JSON with ``--report``)."""

    listed: int = Field(0, description="recordings the source lists")
    analysed: int = 0
    skipped: int = Field(0, description="already stored (a previous run, or an upload), or listed twice")
    failed: int = 0
    audio_s: float = Field(0.0, description="seconds of audio analysed in this run")
    wall_s: float = Field(0.0, description="seconds from start to end of the run")
    audio_hours_per_hour: float = 0.0
    actors: list[dict] = Field(default_factory=list, description="where each actor ran, its device and compute type")
    actor_deaths: int = Field(0, description="analyses lost to a dead actor (each given to an actor again)")
    retried: int = 0
    failures: list[Failure] = Field(default_factory=list)
    feed_rows: int | None = Field(None, description="rows in scores.parquet (--out)")


@dataclass
class Counters:
    """Live counts for the progress display."""

    total: int = 0
    analysed: int = 0
    skipped: int = 0
    failed: int = 0
    audio_s: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.analysed + self.skipped + self.failed

    def audio_hours_per_hour(self) -> float:
        wall = time.monotonic() - self.started
        return self.audio_s / wall if wall > 0 else 0.0


@dataclass
class _Item:
    recording: Recording
    sha256: str
    size: int
    key: str


class Sink:
    """What a sink offers the run (see :class:`~callscope.backfill.file_sink.FileSink` and
    :class:`~callscope.backfill.service_sink.ServiceSink`)."""

    def is_done(self, item: _Item) -> bool:
        raise NotImplementedError

    def write(self, item: _Item, result: CallAnalysis) -> bool:  # False: it was stored meanwhile
        raise NotImplementedError

    def finish(self) -> dict:
        raise NotImplementedError


class FilesTarget(Sink):
    def __init__(self, sink) -> None:
        self.sink = sink

    def is_done(self, item: _Item) -> bool:
        return self.sink.is_done(item.key)

    def write(self, item: _Item, result: CallAnalysis) -> bool:
        self.sink.write(item.key, item.sha256, item.recording.path, item.recording.meta, result)
        return True

    def finish(self) -> dict:
        return {"feed_rows": self.sink.write_feed()}


class ServiceTarget(Sink):
    def __init__(self, sink) -> None:
        self.sink = sink

    def is_done(self, item: _Item) -> bool:
        return self.sink.is_done(item.sha256, item.recording.meta.external_id)

    def write(self, item: _Item, result: CallAnalysis) -> bool:
        return self.sink.write(item.sha256, item.size, item.recording.path, item.recording.meta, result) is not None

    def finish(self) -> dict:
        return {}


def run_backfill(recordings: list[Recording], problems: list[Problem], target: Sink, pool: ActorPool,
                 on_update: Callable[[Counters], None] | None = None) -> BackfillReport:
    """Analyse ``recordings`` not yet in ``target`` on ``pool``; ``problems`` (found while listing)
    are reported as failures. ``on_update`` is called whenever a count changes (and about once a
    second)."""
    counts = Counters(total=len(recordings) + len(problems))
    report = BackfillReport(listed=counts.total)
    failures = [Failure(origin=p.origin, reason=p.reason) for p in problems]
    counts.failed = len(failures)
    seen: set[str] = set()  # keys listed so far
    update = on_update or (lambda _c: None)

    def fail(origin: str, reason: str, attempts: int) -> None:
        failures.append(Failure(origin=origin, reason=reason, attempts=attempts))
        counts.failed += 1
        update(counts)

    def tasks() -> Iterator[Task]:
        for rec in recordings:
            try:
                sha, size = sha256_of(rec.path)
            except OSError as exc:
                fail(rec.origin, f"cannot read it: {exc.strerror or exc}", 0)
                continue
            item = _Item(rec, sha, size, key_of(sha, rec.meta.external_id))
            if item.key in seen:
                counts.skipped += 1  # the same content and external id listed twice
                update(counts)
                continue
            seen.add(item.key)
            if size == 0:
                fail(rec.origin, "file is empty (0 bytes)", 0)
                continue
            if target.is_done(item):
                counts.skipped += 1
                update(counts)
                continue
            settings = rec.meta.call_settings()
            yield Task(str(rec.path), settings.model_dump_json() if settings else None, item)

    def on_outcome(outcome: Outcome) -> None:
        item: _Item = outcome.task.ref
        if outcome.result_json is None:
            fail(item.recording.origin, outcome.error or "failed", outcome.task.attempts)
            return
        result = CallAnalysis.model_validate_json(outcome.result_json)
        if target.write(item, result):
            counts.analysed += 1
            counts.audio_s += result.duration_s
        else:
            counts.skipped += 1
        update(counts)

    pool.run(tasks(), on_outcome, on_idle=lambda: update(counts))
    for name, value in target.finish().items():
        setattr(report, name, value)
    wall = time.monotonic() - counts.started
    report.analysed, report.skipped, report.failed = counts.analysed, counts.skipped, counts.failed
    report.audio_s, report.wall_s = round(counts.audio_s, 3), round(wall, 3)
    report.audio_hours_per_hour = round(counts.audio_s / wall, 3) if wall > 0 else 0.0
    report.actors, report.actor_deaths, report.retried = pool.stats.actors, pool.stats.actor_deaths, pool.stats.retried
    report.failures = failures
    return report


def write_report(report: BackfillReport, path: Path) -> None:
    from callscope.analysis.formats import write_atomic

    write_atomic(path, report.model_dump_json(indent=2) + "\n")
