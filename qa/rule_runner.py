"""Rule sets evaluated outside the API's process.

A correction re-categorises its call (:func:`callscope.qa.categories.categorise`) while the
reviewer waits. The patterns of a rule set are user-written; on RE2 they run in linear time, but
a large rule set on a long call is still CPU work, and in the API's process it would compete
with every other request for the interpreter. :class:`RuleRunner` runs the evaluation in one
child process (spawned once, kept, dying with its parent) with a time limit: past it the child
is killed, a new one is started for the next request, and the caller gets :class:`RulesTimedOut`
(the route answers 503 and nothing is stored). Workers evaluate in their own processes, as
before: only the API uses this.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache

from callscope.scoring.rules.evaluate import Match

DEFAULT_TIMEOUT_S = 30.0


class RulesTimedOut(RuntimeError):
    """The evaluation took longer than the runner's limit and was stopped."""


@lru_cache(maxsize=8)
def _rules(yaml_text: str):
    from callscope.scoring.rules import load_rules

    return load_rules(yaml_text)


def _evaluate(yaml_text: str, result_json: str, metadata: dict) -> list[Match]:
    """In the child: parse (cached per rule-set text) and evaluate."""
    from callscope.analysis.schema import CallAnalysis
    from callscope.scoring.rules.evaluate import evaluate

    return evaluate(_rules(yaml_text), CallAnalysis.model_validate_json(result_json), metadata)


def _child_start() -> None:
    from callscope.service.worker_pool import die_with_parent

    die_with_parent()


class RuleRunner:
    """Evaluates rule sets in a child process, ``timeout_s`` at most per call."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=_child_start)
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        for proc in list(getattr(pool, "_processes", {}).values()):  # a stuck evaluation: kill it
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def evaluate(self, yaml_text: str, result_json: str, metadata: dict) -> list[Match]:
        """The matches of the rule set ``yaml_text`` on the analysis ``result_json``."""
        for attempt in range(2):  # a child that died (killed from outside) is replaced once
            pool = self._executor()
            try:
                return pool.submit(_evaluate, yaml_text, result_json, dict(metadata)).result(self.timeout_s)
            except FutureTimeout:
                self._discard(pool)
                raise RulesTimedOut(f"the rule set took more than {self.timeout_s:.0f} s on this call and was "
                                    "stopped") from None
            except BrokenProcessPool:
                self._discard(pool)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
