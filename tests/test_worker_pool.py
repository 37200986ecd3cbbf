"""`callscope worker -n 2` is a supervised pool (issue 24, item 5): a worker killed with -9 is
replaced (the pool does not shrink silently) and the replacement analyses a real call; SIGTERM
to the parent stops every worker and its analysis process, leaving no orphan taking jobs. The
pool does not depend on the database; it runs on SQLite here."""

from __future__ import annotations

import pytest
import signal
import subprocess
import time

import psutil

from benchmarks.reference import AUDIO
from tests.support.workers import pool_workers
from tests.support.server import Service, admin_key, start, wait_done

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast


def _wait(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _start_pool(svc: Service, n: int, log_path) -> subprocess.Popen:
    """``callscope worker -n N``, its output in ``log_path``."""
    return start(["worker", "-n", str(n)], svc.env, log_path)


def _ready(log_path) -> int:
    return log_path.read_text().count(" ready")


def test_a_worker_killed_with_minus_9_is_replaced_and_the_replacement_works(tmp_path):
    svc = Service(tmp_path / "data")
    key = admin_key(svc.env)
    log_path = tmp_path / "pool.log"
    pool = _start_pool(svc, 2, log_path)
    try:
        _wait(lambda: _ready(log_path) >= 2, 300, "two workers ready")
        first = pool_workers(pool.pid)
        assert len(first) == 2, log_path.read_text()
        first[0].send_signal(signal.SIGKILL)
        _wait(lambda: _ready(log_path) >= 3, 300, "a replacement ready: " + log_path.read_text()[-2000:])
        now = pool_workers(pool.pid)
        assert len(now) == 2 and first[0].pid not in {p.pid for p in now}
        assert "died (signal 9)" in log_path.read_text()
        first[1].send_signal(signal.SIGKILL)  # the other original too: only the replacement(s) remain
        _wait(lambda: _ready(log_path) >= 4, 300, "a second replacement ready")
        svc.start_api("--no-worker")
        with svc.client(key) as c:
            r = c.post("/v1/calls", files={"files": ("Call01.wav", (AUDIO / "callytics" / "Call01.wav").read_bytes())})
            call = wait_done(c, r.json()["calls"][0]["id"], timeout=600)
        assert call["status"] == "done", call
    finally:
        pool.send_signal(signal.SIGTERM)
        pool.wait(60)
        svc.close()


def test_sigterm_to_the_parent_stops_every_worker_and_its_analysis_process(tmp_path):
    svc = Service(tmp_path / "data")
    log_path = tmp_path / "pool.log"
    pool = _start_pool(svc, 2, log_path)
    try:
        _wait(lambda: _ready(log_path) >= 2, 300, "two workers ready")
        family = [p for w in pool_workers(pool.pid) for p in (w, *w.children(recursive=True))]
        assert len(family) >= 4, family  # two workers, each with its analysis process
        pool.send_signal(signal.SIGTERM)
        code = pool.wait(60)
        _gone, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, [p.pid for p in alive]  # no orphan left taking jobs
        assert code == 0, log_path.read_text()
        assert "stopped 2 workers" in log_path.read_text()
    finally:
        if pool.poll() is None:
            pool.kill()
        svc.close()
