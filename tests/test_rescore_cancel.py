"""Re-scoring runs can be cancelled (issue 24, item 1), on SQLite and PostgreSQL through the real
service and CLI: the server starts while an unfinished run is queued; a queued run is cancelled
over the API or with ``callscope rescore --cancel``; a run in progress in ``callscope rescore``
stops after the batch at hand when cancelled over the API, keeping what it did. The calls are
the real Call01, analysed once, and 1,000 copies of its stored rows (call and insight, each sealed
under a key of its own), re-scored under the starter rule set plus one category: the contact
reasons are the same, so each copy's insight is copied, not computed again (a run takes seconds)."""

from __future__ import annotations

import pytest
import subprocess
import sys
import time
import uuid

from sqlalchemy import insert, select, text

from benchmarks.reference import AUDIO
from callscope.qa import rescoring
from callscope.scoring.rules import starter_text
from tests.support.server import running_service, wait_done

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

COPIES = 1000
CLI = [sys.executable, "-m", "callscope.cli"]
RULES = starter_text().replace("name: starter", "name: other", 1).replace("categories:\n", (
    "categories:\n  - name: said_hello\n    when: {said: {by: any, regex: ['^(hello|hi)\\b']}}\n"), 1)


def _copy_call(url: str, data_dir, call_id: str, n: int) -> None:
    """``n`` copies of the call's row and of its insight row, each with its text sealed under a key
    of its own (as the service stores a call: a sealed value opens only under its own call's id)."""
    from callscope.privacy.call_keys import CALL_FIELDS, open_value, seal_value
    from callscope.store.db import Call, CallInsight, make_engine, session_factory

    engine = make_engine(url)
    table, insight = Call.__table__, CallInsight.__table__
    sealed_insight = {"detail_json": "insight.detail", "problem_vector": "insight.vector"}
    with session_factory(engine, data_dir)() as s:
        row = dict(s.execute(select(table).where(table.c.id == call_id)).mappings().one())
        plain = {f: open_value(s, call_id, f, row[f]) for f in CALL_FIELDS}
        about = [dict(r) for r in s.execute(select(insight).where(insight.c.call_id == call_id)).mappings()]
        about_plain = [{c: open_value(s, call_id, name, r[c]) for c, name in sealed_insight.items()} for r in about]
        copies, insights = [], []
        for _ in range(n):
            cid = str(uuid.uuid4())
            copies.append({**row, "id": cid, "external_id": None, **{f: seal_value(s, cid, f, v) for f, v in plain.items()}})
            insights += [{**r, "call_id": cid, **{c: seal_value(s, cid, sealed_insight[c], v) for c, v in p.items()}}
                         for r, p in zip(about, about_plain)]
        s.execute(insert(table), copies)
        if insights:
            s.execute(insert(insight), insights)
        s.commit()
    engine.dispose()


def _run(svc, run_id: int):
    return svc.sql("SELECT status, done, skipped, total, worker_id FROM rescore_runs WHERE id = :i", i=run_id)[0]


def test_rescore_runs_can_be_cancelled_queued_or_running(tmp_path, database):
    data, url = tmp_path / "data", database(tmp_path)
    with running_service(data, url) as svc, svc.client(svc.key) as admin:
        call_id = admin.post("/v1/calls", files={"files": ("Call01.wav", (AUDIO / "callytics" / "Call01.wav").read_bytes())}
                             ).json()["calls"][0]["id"]
        assert wait_done(admin, call_id)["status"] == "done"
    _copy_call(url, data, call_id, COPIES)
    with running_service(data, url, "--no-worker") as svc, svc.client(svc.key) as admin:
        queued = admin.post("/v1/admin/rescore", json={}).json()
        assert queued["status"] == "queued"
        other = admin.post("/v1/rules", json={"yaml": RULES}).json()["version"]  # not activated
    # the server starts with an unfinished run queued, and the run is cancelled over the API
    with running_service(data, url, "--no-worker") as svc, svc.client(svc.key) as admin:
        assert admin.get("/healthz").status_code == 200
        assert admin.get(f"/v1/admin/rescore/{queued['id']}").json()["status"] == "queued"
        r = admin.post(f"/v1/admin/rescore/{queued['id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["finished_at"], r.text
        assert admin.post("/v1/admin/rescore/99999/cancel").status_code == 404

        # with the CLI: a queued run, then an unknown one
        second = admin.post("/v1/admin/rescore", json={}).json()["id"]
        out = subprocess.run([*CLI, "rescore", "--cancel", str(second)], env=svc.env, capture_output=True, text=True, check=False,
                             timeout=120)
        assert out.returncode == 0 and f"run {second} is cancelled" in out.stdout + out.stderr, out.stdout + out.stderr
        assert _run(svc, second).status == "cancelled"
        out = subprocess.run([*CLI, "rescore", "--cancel", "99999"], env=svc.env, capture_output=True, text=True, check=False,
                             timeout=120)
        assert out.returncode == 1 and "no re-scoring run 99999" in out.stdout + out.stderr

        # a run in progress in `callscope rescore`, cancelled over the API, stops after its batch
        proc = subprocess.Popen([*CLI, "rescore", "--rules", str(other)], env=svc.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 300
        running = None
        while time.time() < deadline and running is None:
            rows = svc.sql("SELECT id FROM rescore_runs WHERE status = 'running' AND done > 0")
            running = rows[0][0] if rows else None
            assert proc.poll() is None or running, proc.stdout.read() if proc.poll() is not None else ""
            time.sleep(0.05)
        assert running is not None, "the CLI's run never got going"
        seen = _run(svc, running).done
        r = admin.post(f"/v1/admin/rescore/{running}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
        said = proc.communicate(timeout=300)[0]
        assert proc.returncode == 1 and f"run {running} was cancelled by another user" in said, said
        status, done, _skipped, total, _worker = _run(svc, running)
        assert status == "cancelled" and 0 < done < total == COPIES + 1, (status, done, total)
        # the cancellation got in after the batch at hand (or the one that began as it was sent), not
        # after whatever batches the run started next: SQLite keeps no queue of waiting writers
        assert done <= seen + 2 * rescoring.BATCH, (seen, done)
        # and the runs that ended cannot be cancelled again into something else
        assert admin.post(f"/v1/admin/rescore/{running}/cancel").json()["status"] == "cancelled"
        assert svc.sql("SELECT count(*) FROM rescore_runs WHERE status = 'cancelled'") == [(3,)]
        assert svc.sql(text("SELECT count(*) FROM rescore_runs WHERE worker_id IS NOT NULL").text) == [(0,)]
