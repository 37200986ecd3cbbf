"""Topics across calls in the service (issue 27), on SQLite and PostgreSQL: a real ``callscope
serve`` analyses Call01; eight days of stored calls are added whose problem statements are real
customer queries (banking77, ten intents; on the last day one intent takes 40 % of the day).
``callscope topics`` finds the topics of that day, names them by their terms, links every call,
finds the surge on that day for that intent's topic, and a signed ``window`` alert arrives at a
real webhook receiver with links and counts, never the customers' words. The API lists the run,
the call list filters by topic, a second run follows the topics by key, and erasure removes a
call's topic rows."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from benchmarks.reference import AUDIO
from tests.support import topic_days
from tests.support.server import running_service, wait_done
from tests.support.webhooks import SECRET, Receiver

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def database():
    """SQLite only: topic runs read and write through the same SQLAlchemy statements on both
    databases (qa/topics.py has nothing dialect-specific), and CI has 90 minutes for the whole
    suite; benchmarks/insight_scale.py runs topics at 100,000 calls on PostgreSQL."""
    return lambda data_dir: f"sqlite:///{data_dir / 'callscope.db'}"

CLI = [sys.executable, "-m", "callscope.cli"]
SURGING = "lost_or_stolen_card"


@pytest.fixture(scope="module")
def svc(tmp_path_factory, database):
    data = tmp_path_factory.mktemp("topics")
    receiver = Receiver()
    receiver.start()
    url = database(data)
    with running_service(data, url, CALLSCOPE_ALERT_POLL_S="0.2", CALLSCOPE_WEBHOOK_ALLOW="127.0.0.1/32",
                         CALLSCOPE_TOPICS_DAILY="false") as svc:
        with svc.client(svc.key) as admin:
            assert admin.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "events": ["window"]}).status_code == 201
            with open(AUDIO / "callytics" / "Call01.wav", "rb") as f:
                r = admin.post("/v1/calls", files={"files": ("Call01.wav", f)})
            call_id = r.json()["calls"][0]["id"]
            assert wait_done(admin, call_id)["status"] == "done"
        today = datetime.now(UTC).date()
        svc.day = today - timedelta(days=1)
        days = [svc.day - timedelta(days=k) for k in range(7, -1, -1)]
        svc.ids = topic_days.seed(svc.database_url, data, call_id, days, per_day=120, surge_day=svc.day, surging=SURGING)
        svc.receiver = receiver
        yield svc
    receiver.stop()


def _topics_cli(svc, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "topics", *args], env=svc.env, capture_output=True, text=True, timeout=300)


def test_a_run_finds_named_topics_links_every_call_and_the_surge_of_that_day(svc):
    out = _topics_cli(svc, "--from", svc.day.isoformat())
    assert out.returncode == 0, out.stderr[-3000:]
    assert "surging" in out.stdout and "120 problem statements" in out.stdout, out.stdout
    with svc.client(svc.key) as admin:
        run = admin.get("/v1/topics").json()
    assert run["from"] == run["to"] == svc.day.isoformat() and run["statements"] == 120
    assert len(run["topics"]) >= 3
    first = run["topics"][0]  # surging topics come first
    assert first["surge"] and first["surge"]["day"] == svc.day.isoformat() and first["surge"]["share"] > 2 * first["surge"]["baseline"]
    lost = set(svc.ids[SURGING])
    for t in [t for t in run["topics"] if t["surge"]]:  # the intent may come as more than one topic: each is its
        with svc.client(svc.key) as admin:
            listed = admin.get("/v1/calls", params={"topic": f"{run['id']}.{t['key']}", "limit": 500}).json()
        in_topic = {c["id"] for c in listed["calls"]}
        assert listed["total"] == t["calls"] and len(in_topic & lost) >= 0.7 * len(in_topic), t["terms"]
        assert any(w in " ".join(t["terms"]) for w in ("card", "lost", "stolen")), t["terms"]
    assert all(r["text"] and r["link"].startswith("/calls/") for r in first["representatives"])
    linked = svc.sql("SELECT count(*) FROM call_topics WHERE run_id = :r", r=run["id"])[0][0]
    assert linked == sum(t["calls"] for t in run["topics"]) and linked >= 0.9 * 120
    svc.run = run


def test_the_surge_alert_arrives_with_links_and_counts_and_no_words(svc):
    deadline = time.monotonic() + 60
    while not (got := [g for g in svc.receiver.got if g["payload"].get("alert") == "topic_surge"]):
        assert time.monotonic() < deadline, "no surge alert arrived"
        time.sleep(0.2)
    surging = {t["key"]: t for t in svc.run["topics"] if t["surge"]}
    time.sleep(1)  # every surging topic's alert
    got = [g for g in svc.receiver.got if g["payload"].get("alert") == "topic_surge"]
    assert sorted(g["payload"]["topic"] for g in got) == sorted(surging)  # one each, none for the others
    payload = got[0]["payload"]
    assert got[0]["event"] == "window" and svc.receiver.bad_signatures == 0 and payload["topic_run"] == svc.run["id"]
    assert payload["calls_link"] == f"/?topic={svc.run['id']}.{payload['topic']}"
    assert payload["surge"] == surging[payload["topic"]]["surge"]
    said = json.dumps(payload).lower()
    assert not any(term in said for term in surging[payload["topic"]]["terms"])  # counts and links, never customers' words


def test_a_later_run_follows_the_topics_of_the_run_before_it_and_bad_windows_are_refused(svc):
    before = (svc.day - timedelta(days=1)).isoformat()
    assert _topics_cli(svc, "--from", before).returncode == 0  # the day before: its own run
    assert _topics_cli(svc, "--from", svc.day.isoformat()).returncode == 0  # follows that one
    with svc.client(svc.key) as admin:
        runs = admin.get("/v1/topics/runs").json()["runs"]
        later = admin.get("/v1/topics", params={"run": runs[0]["id"]}).json()
        earlier = admin.get("/v1/topics", params={"run": runs[1]["id"]}).json()
        assert earlier["to"] == before and later["from"] == svc.day.isoformat()
        assert admin.get("/v1/topics", params={"run": 999999}).status_code == 404
        assert admin.get("/v1/calls", params={"topic": "1;drop"}).status_code == 422
    keys = {t["key"] for t in earlier["topics"]}
    kept = [t for t in later["topics"] if t["key"] in keys]
    assert len(kept) >= 0.6 * len(later["topics"]), "most topics are the same from one day to the next"
    assert all(not t["new"] for t in kept) and all(t["new"] for t in later["topics"] if t["key"] not in keys)
    out = _topics_cli(svc, "--from", "2026-13-01")
    assert out.returncode == 2 and "YYYY-MM-DD" in out.stderr
    out = _topics_cli(svc, "--from", (svc.day - timedelta(days=400)).isoformat())
    assert out.returncode == 1 and "too few" in out.stderr


def test_a_workers_daily_run_is_made_once(svc):
    from callscope.qa import topics
    from callscope.store.db import make_engine, session_factory

    engine = make_engine(svc.database_url)
    sessions = session_factory(engine, svc.data_dir)
    try:
        with sessions() as s:
            assert topics.due(s, svc.day + timedelta(days=1)) == svc.day
            topics.run(s, svc.day, svc.day, "worker", auto=True)
            s.commit()
            assert topics.due(s, svc.day + timedelta(days=1)) is None
        with sessions() as s, pytest.raises(IntegrityError):
            topics.run(s, svc.day, svc.day, "worker", auto=True)
            s.commit()
    finally:
        engine.dispose()


def test_erasure_removes_the_calls_topic_rows(svc):
    victim = svc.ids[SURGING][0]
    with svc.client(svc.key) as admin:
        assert admin.delete(f"/v1/calls/{victim}").status_code == 200
    assert svc.sql("SELECT count(*) FROM call_topics WHERE call_id = :c", c=victim)[0][0] == 0
    assert svc.sql("SELECT count(*) FROM call_insights WHERE call_id = :c", c=victim)[0][0] == 0
