"""Nothing lost, nothing doubled: 10 real recordings in one upload, then the API server (with its
in-process worker) is killed and restarted mid-queue and the worker of a separate pool is killed
with kill -9 mid-job (the pool replaces it). Runs against SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from benchmarks.reference import AUDIO
from tests.support.server import Service, admin_key
from tests.support.workers import pool_workers

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

@pytest.fixture(scope="module")
def database(postgres_admin_url):
    """PostgreSQL only (the database of a deployment with several API and worker processes): CI
    has 90 minutes for the whole suite, and this is the slowest module to run twice."""
    from tests.support.postgres import new_postgres_database

    return lambda _data_dir: new_postgres_database(postgres_admin_url)


N_CALLS = 10  # enough for both kills to land mid-queue; each call costs CI time on two databases


def _recordings() -> list[tuple[str, bytes]]:
    """Short real recordings: the stereo two-speaker file, EmoDB sentences and LibriVox excerpts."""
    paths = [AUDIO / "stereo_diarization.wav", *sorted((AUDIO / "librivox").glob("*.wav"))[:4],
             *sorted((AUDIO / "emodb" / "wav").glob("*.wav"))]
    assert len(paths) >= N_CALLS
    return [(p.name, p.read_bytes()) for p in paths[:N_CALLS]]


def _running_job_of(engine, pid: int, timeout: float = 120) -> tuple[int, str]:
    """(job id, call id) of a job that the process ``pid`` is running right now."""
    deadline = time.time() + timeout
    with engine.connect() as conn:
        while time.time() < deadline:
            row = conn.execute(text("SELECT id, call_id FROM jobs WHERE status = 'running' AND worker_id LIKE :w"),
                               {"w": f"%:{pid}:%"}).first()
            conn.commit()
            if row:
                return row[0], row[1]
            time.sleep(0.05)
    raise TimeoutError(f"process {pid} never ran a job")


def _pool_worker(parent: int, timeout: float = 120):
    """The worker process of the ``callscope worker`` pool whose parent is ``parent``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if found := pool_workers(parent):
            return found[0]
        time.sleep(0.1)
    raise TimeoutError(f"the pool {parent} started no worker")


@pytest.fixture
def service(tmp_path, database):
    # rate limits off: the test polls every call every 2 s from one key
    svc = Service(tmp_path, database(tmp_path), CALLSCOPE_LEASE_S="3", CALLSCOPE_RETRY_BACKOFF_S="1",
                  CALLSCOPE_RATE_LIMIT_PER_KEY="off", CALLSCOPE_RATE_LIMIT_PER_IP="off")
    svc.key = admin_key(svc.env)
    try:
        yield svc
    finally:
        svc.close()


def test_a_bulk_upload_survives_server_restart_and_worker_kill(service):
    engine = create_engine(service.database_url)
    first_api = service.start_api()  # with its in-process worker, the embedded default
    outside_worker = service.start_worker()
    files = [("files", (name, content, "audio/wav")) for name, content in _recordings()]
    with service.client(service.key, timeout=120) as c:
        r = c.post("/v1/calls", files=files, data={"team": "bulk50", "queue": "durability"})
        assert r.status_code == 202, r.text
        ids = [x["id"] for x in r.json()["calls"]]
        assert len(ids) == N_CALLS == len(set(ids))

        # kill -9 the API server while its in-process worker is in a job, then start it again
        server_job, _ = _running_job_of(engine, _pool_worker(first_api.pid).pid)  # its worker dies with it
        first_api.send_signal(signal.SIGKILL)
        first_api.wait(10)
        service.start_api()
        # kill -9 the separate pool's worker mid-job; the pool replaces it, and its job is taken over
        worker = _pool_worker(outside_worker.pid)
        worker_job, _ = _running_job_of(engine, worker.pid)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

        deadline = time.time() + 900
        while True:
            states = {x["status"] for x in (c.get(f"/v1/calls/{i}").json() for i in ids)}
            if states <= {"done", "failed"}:
                break
            assert time.time() < deadline, f"calls still {states}"
            time.sleep(2)
        calls = [c.get(f"/v1/calls/{i}").json() for i in ids]
        listed, cursor = [], None
        while True:
            page = c.get("/v1/calls", params={"team": "bulk50", "limit": 20, **({"cursor": cursor} if cursor else {})}).json()
            listed += [x["id"] for x in page["calls"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

    assert sorted(listed) == sorted(ids)  # none lost, none doubled
    for call in calls:
        assert call["status"] == "done" or (call["status"] == "failed" and call["error"]), call
    done = [x for x in calls if x["status"] == "done"]
    assert len(done) == N_CALLS, [(x["filename"], x["error"]) for x in calls if x["status"] != "done"]
    assert all("scores" in x and x["progress"] == 1.0 for x in done)
    with engine.connect() as conn:
        jobs = conn.execute(text("SELECT id, call_id, status, attempts FROM jobs")).all()
    engine.dispose()
    assert sorted(j.call_id for j in jobs) == sorted(ids)  # exactly one job per call
    by_id = {j.id: j for j in jobs}
    killed = Counter([server_job, worker_job])  # the separate worker may have taken over the server's job
    for job_id, kills in killed.items():
        assert by_id[job_id].status == "done"
        assert by_id[job_id].attempts == 1 + kills  # run again once per worker that died in it
