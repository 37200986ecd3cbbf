"""Run analyses in a child process that can be stopped: over its memory limit, when it crashes,
or when the caller cancels (a call erased while it is analysed).

The child loads the models once (:class:`~callscope.analysis.pipeline.Analyzer`) and analyses one
recording at a time; the parent polls it every ``POLL_S`` seconds, reads its resident memory
(psutil) and kills it the moment it passes the limit. The parent itself never holds a
recording, so a hostile or huge file can fail its own call but cannot take the API (or the
worker's other calls) down with it. A killed child is started again for the next call.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from callscope.analysis.call_settings import CallSettings
from callscope.analysis.schema import CallAnalysis
from callscope.errors import AudioInputError, CallscopeError

#: Seconds between two looks at the child (memory, messages, cancellation).
POLL_S = 0.1
_RESULTS = TypeAdapter(list[CallAnalysis])


class AnalysisStopped(CallscopeError):
    """The analysis was stopped by the parent. ``permanent``: retrying cannot help (the call
    needs more memory than allowed); otherwise (the process died) it may be retried."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class AnalysisCancelled(CallscopeError):
    """The caller cancelled the analysis (e.g. the call was erased); the child was killed."""


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when its parent dies (a worker killed with kill -9
    must not leave an orphan analysis running for minutes)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(conn, settings) -> None:  # runs in the child process
    import logging
    import warnings

    _die_with_parent()
    warnings.filterwarnings("ignore")
    logging.getLogger("faster_whisper").setLevel(logging.ERROR)
    from callscope.analysis.pipeline import Analyzer

    try:
        analyzer = Analyzer(settings)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("load_error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        path, call_json, *texts = msg
        call = CallSettings.model_validate_json(call_json) if call_json else None
        try:
            if texts:  # text interactions: one JSON list of TextItem
                body = "[" + ",".join(r.model_dump_json() for r in _analyze_texts(analyzer, texts[0])) + "]"
            else:
                body = analyzer.analyze(path, on_stage=lambda stage: conn.send(("stage", stage)), call=call).model_dump_json()
        except AudioInputError as exc:
            conn.send(("input_error", (exc.path, exc.reason)))
        except MemoryError:
            conn.send(("memory_error", None))
        except Exception as exc:  # noqa: BLE001 - any other failure goes to the parent
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("done", body))


@dataclass(frozen=True)
class TextItem:
    """One text interaction for the child: its channel, messages as JSON (role, at, text), name
    and per-call settings."""

    channel: str
    messages_json: str
    name: str
    call: CallSettings | None = None


def _analyze_texts(analyzer, items_json: str) -> list[CallAnalysis]:
    from datetime import datetime

    from callscope.analysis.text_pipeline import TextMessage

    items = []
    for item in json.loads(items_json):
        messages = [TextMessage(m["role"], datetime.fromisoformat(m["at"]), m["text"]) for m in json.loads(item["messages"])]
        call = CallSettings.model_validate_json(item["call"]) if item["call"] else None
        items.append((messages, item["channel"], item["name"], call))
    return analyzer.analyze_texts(items)


class AnalysisProcess:
    """A child process holding an :class:`~callscope.analysis.pipeline.Analyzer` built from ``settings``
    (an :class:`~callscope.analysis.pipeline.AnalysisSettings`), with ``memory_limit_mb`` of resident
    memory (models included)."""

    def __init__(self, settings, memory_limit_mb: int, load_timeout_s: float = 600.0) -> None:
        self.settings = settings
        self.memory_limit_mb = memory_limit_mb
        self.load_timeout_s = load_timeout_s
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None  # the child (multiprocessing spawn Process)
        self._conn: Any = None  # the parent end of the pipe to the child
        self._watched: Any = None  # psutil.Process of the child
        self.peak_rss_mb = 0.0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def start(self) -> None:
        """Start the child and wait until its models are loaded (no-op when it runs)."""
        if self._proc is not None and self._proc.is_alive():
            return
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_child, args=(child, self.settings), daemon=True,
                                       name="callscope-analysis")
        self._proc.start()
        child.close()
        self._conn = parent
        import psutil

        self._watched = psutil.Process(self._proc.pid)
        deadline = time.monotonic() + self.load_timeout_s
        while time.monotonic() < deadline:
            if parent.poll(POLL_S):
                kind, body = parent.recv()
                if kind == "ready":
                    return
                self.kill()
                raise RuntimeError(f"the analysis process could not load its models: {body}")
            if not self._proc.is_alive():
                code = self._proc.exitcode
                self.kill()
                raise RuntimeError(f"the analysis process died while loading its models (exit code {code})")
        self.kill()
        raise RuntimeError(f"the analysis process did not load its models within {self.load_timeout_s:.0f} s")

    def kill(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(10)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn, self._watched = None, None, None

    def close(self) -> None:
        """Ask the child to exit, kill it if it does not."""
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            try:
                self._conn.send(None)
                self._proc.join(5)
            except (OSError, ValueError):
                pass
        self.kill()

    def _rss_mb(self) -> float:
        import psutil

        try:
            return self._watched.memory_info().rss / (1024 * 1024)
        except (psutil.Error, AttributeError):
            return 0.0

    def analyze_text(self, channel: str, messages_json: str, name: str, call: CallSettings | None = None,
                     cancelled: Callable[[], bool] | None = None) -> CallAnalysis:
        """Score a text interaction (its messages as JSON: role, at, text) in the child; raises as
        :meth:`analyze` does."""
        return self.analyze_texts([TextItem(channel, messages_json, name, call)], cancelled)[0]

    def analyze_texts(self, items: list[TextItem], cancelled: Callable[[], bool] | None = None) -> list[CallAnalysis]:
        """Score text interactions in the child, their sentences embedded in one batch; one result
        per item, in order. Raises as :meth:`analyze` does (for the batch as a whole)."""
        batch = json.dumps([{"channel": i.channel, "messages": i.messages_json, "name": i.name,
                             "call": i.call.model_dump_json() if i.call is not None else None} for i in items])
        return _RESULTS.validate_json(self._run(("", None, batch), None, cancelled, 1.0))

    def analyze(self, path: str | os.PathLike[str], call: CallSettings | None = None,
                on_stage: Callable[[str], None] | None = None,
                cancelled: Callable[[], bool] | None = None, check_every_s: float = 1.0) -> CallAnalysis:
        """Analyse ``path`` in the child.

        Raises:
            AudioInputError: bad input (as the pipeline raises it).
            AnalysisStopped: over the memory limit (permanent) or the child died (retryable).
            AnalysisCancelled: ``cancelled()`` (asked every ``check_every_s`` s) became true.
            RuntimeError: any other failure inside the analysis.
        """
        message = (str(Path(path)), call.model_dump_json() if call is not None else None)
        return CallAnalysis.model_validate_json(self._run(message, on_stage, cancelled, check_every_s))

    def _run(self, message: tuple, on_stage: Callable[[str], None] | None, cancelled: Callable[[], bool] | None,
             check_every_s: float) -> str:
        """Send ``message`` to the child and watch it until it answers; the answer's JSON."""
        self.start()
        self._conn.send(message)
        self.peak_rss_mb = 0.0
        next_check = time.monotonic() + check_every_s
        while True:
            if self._conn.poll(POLL_S):
                try:
                    kind, body = self._conn.recv()
                except EOFError:
                    kind, body = "died", None
                if kind == "stage":
                    if on_stage:
                        on_stage(body)
                    continue
                if kind == "done":
                    return body
                if kind == "input_error":
                    raise AudioInputError(*body)
                if kind == "memory_error":
                    self.kill()
                    raise AnalysisStopped(self._memory_reason(), permanent=True)
                if kind == "error":
                    raise RuntimeError(body)
            rss = self._rss_mb()
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            if rss > self.memory_limit_mb:
                self.kill()
                raise AnalysisStopped(self._memory_reason(), permanent=True)
            if self._proc is None or not self._proc.is_alive():
                code = self._proc.exitcode if self._proc is not None else None
                self.kill()
                raise AnalysisStopped(f"the analysis process died (exit code {code}); "
                                      "the call is retried, then marked failed", permanent=False)
            if cancelled is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + check_every_s
                if cancelled():
                    self.kill()
                    raise AnalysisCancelled("analysis cancelled")

    def _memory_reason(self) -> str:
        return (f"the analysis needed more than {self.memory_limit_mb} MB of memory and was stopped "
                "(limit: CALLSCOPE_WORKER_MEMORY_MB); the recording is too long or too unusual to analyse here")
