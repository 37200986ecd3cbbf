"""Alerts through the real service (issue 13), on SQLite and PostgreSQL, to a real HTTP receiver
on 127.0.0.1 that checks every signature: a call matching an alerting category raises a signed
alert; while the receiver is down analyses go on and deliveries are retried (attempts and errors
recorded), and once it is back every alert arrives, none lost; a window alert (the share of calls
in a queue matching a category over the last hour) fires once, not on every call; the daily
digest is sent once. The calls are the real Call01, uploaded three times."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from benchmarks.reference import AUDIO
from tests.support.server import running_service, wait_done
from tests.support.rules import CALL01_RULES
from tests.support.webhooks import SECRET, Receiver

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

LOOPBACK = "127.0.0.1/32"  # the receiver is on this machine: allowed by the deployment's egress policy
RULES = CALL01_RULES.replace("  - name: notification_problem       # a call driver, said early by the customer\n",
                             "  - name: notification_problem\n    alert: true\n") + """
windows:
  - name: notification_share
    group_by: queue
    share_of: {category: notification_problem}
    window_minutes: 60
    min_calls: 2
    above: 0.5
"""


def _upload(c, external_id: str) -> str:
    r = c.post("/v1/calls", files={"files": ("Call01.wav", (AUDIO / "callytics" / "Call01.wav").read_bytes())},
               data={"queue": "support", "agent_id": "a-7", "external_id": external_id})
    call_id = r.json()["calls"][0]["id"]
    assert wait_done(c, call_id)["status"] == "done"
    return call_id


def _wait(predicate, timeout: float = 60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def run(tmp_path_factory, database):
    data = tmp_path_factory.mktemp("alerts")
    receiver = Receiver()
    receiver.start()
    with running_service(data, database(data), CALLSCOPE_ALERT_POLL_S="0.2", CALLSCOPE_ALERT_RETRY_S="0.5",
                         CALLSCOPE_DIGEST_HOUR="0", CALLSCOPE_WEBHOOK_ALLOW=LOOPBACK) as svc:
        with svc.client(svc.key) as c:
            added = c.post("/v1/rules", json={"yaml": RULES, "activate": True})
            assert added.status_code == 201
            svc.rules_label = added.json()["label"]
            hook = c.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "events": ["call", "window"]})
            assert hook.status_code == 201, hook.text
            yield svc, c, receiver
    if receiver.server:
        receiver.stop()


def test_a_signed_alert_arrives_when_a_call_matches_an_alerting_category(run):
    svc, c, receiver = run
    a = _upload(c, "a")
    got = _wait(lambda: [g for g in receiver.got if g["payload"].get("call_id") == a])
    assert got[0]["event"] == "call" and receiver.bad_signatures == 0
    payload = got[0]["payload"]
    assert [x["name"] for x in payload["categories"]] == ["notification_problem"]
    assert payload["queue"] == "support" and payload["rules_version"] == svc.rules_label
    assert "trouble receiving" not in json.dumps(payload)  # category names and rule phrases, never the transcript
    assert not [g for g in receiver.got if g["event"] == "window"]  # one call is below min_calls


def test_while_the_receiver_is_down_analyses_go_on_and_nothing_is_lost(run):
    svc, c, receiver = run
    receiver.stop()
    b = _upload(c, "b")  # the analysis is not held up by the dead receiver
    pending = _wait(lambda: [d for d in c.get("/v1/alerts", params={"status": "pending"}).json()["alerts"]
                             if d["attempts"] >= 2])
    assert all(d["last_error"] and d["last_status_code"] is None for d in pending)  # refused, recorded
    cc = _upload(c, "c")
    alerts = c.get("/v1/alerts").json()["alerts"]
    assert sorted(d["event"] for d in alerts) == ["call", "call", "call", "window"]  # the window alert fired once
    assert {d["call_id"] for d in alerts if d["event"] == "call"} >= {b, cc}
    receiver.start()
    _wait(lambda: all(d["status"] == "delivered" for d in c.get("/v1/alerts").json()["alerts"]), timeout=90)
    delivered_ids = {d["id"] for d in c.get("/v1/alerts").json()["alerts"]}
    assert {g["id"] for g in receiver.got} == delivered_ids  # every alert arrived
    window = [g for g in receiver.got if g["event"] == "window"]
    assert len({g["id"] for g in window}) == 1
    w = window[0]["payload"]
    assert w["alert"] == "notification_share" and w["group"] == "support" and w["calls"] >= 2 and w["share"] > 0.5
    assert receiver.bad_signatures == 0


def test_the_daily_digest_is_queued_once_and_delivered(run):
    svc, c, receiver = run
    from callscope.alerts import outbox as alerts
    from callscope.store.db import make_engine, session_factory

    hook = c.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "events": ["digest"]}).json()
    sessions = session_factory(make_engine(svc.database_url))
    today = datetime.now(timezone.utc).date()
    with sessions() as s:
        assert alerts.digest_due(s, today) == 1
        assert alerts.digest_due(s, today) == 0  # once a day
        s.commit()
    got = _wait(lambda: [g for g in receiver.got if g["event"] == "digest" and g["payload"]["day"] == today.isoformat()])
    assert len(got) == 1 and got[0]["payload"]["calls"] == 3
    assert got[0]["payload"]["categories"]["notification_problem"] == 3
    # the server queues yesterday's digest by itself (CALLSCOPE_DIGEST_HOUR=0: from midnight UTC), once
    yesterday = _wait(lambda: [g for g in receiver.got if g["event"] == "digest" and g["payload"]["day"] != today.isoformat()])
    time.sleep(1.0)
    assert len([g for g in receiver.got if g["event"] == "digest"]) == 2 and yesterday[0]["payload"]["calls"] == 0
    assert [d["status"] for d in c.get("/v1/alerts", params={"webhook_id": hook["id"]}).json()["alerts"]] == ["delivered"] * 2


def test_a_worker_process_sends_alerts_when_no_server_runs(tmp_path):
    """The API takes the upload and the rule set, then stops; a separate `callscope worker`
    analyses the call, and its own dispatcher delivers the alert."""
    from tests.support.server import Service, admin_key, stop

    receiver = Receiver()
    receiver.start()
    svc = Service(tmp_path / "data", None, CALLSCOPE_ALERT_POLL_S="0.2", CALLSCOPE_WEBHOOK_ALLOW=LOOPBACK)
    key = admin_key(svc.env)
    try:
        svc.start_api("--no-worker")
        with svc.client(key) as c:
            assert c.post("/v1/rules", json={"yaml": RULES, "activate": True}).status_code == 201
            assert c.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "events": ["call"]}).status_code == 201
            r = c.post("/v1/calls", files={"files": ("Call01.wav", (AUDIO / "callytics" / "Call01.wav").read_bytes())},
                       data={"queue": "support"})
            call_id = r.json()["calls"][0]["id"]
        stop(svc.api)  # no server from here on
        svc.start_worker()
        got = _wait(lambda: [g for g in receiver.got if g["payload"].get("call_id") == call_id], timeout=240)
        assert got[0]["event"] == "call" and receiver.bad_signatures == 0
    finally:
        svc.close()
        receiver.stop()
