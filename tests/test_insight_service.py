"""What calls are about, in the service (issue 27), on SQLite and PostgreSQL, against a real
``callscope serve`` whose worker analyses the real Call01 under the starter rule set (which names
contact reasons): the reason, outcome and summary on the call, the list (with filters), the feed
and the aggregates; re-scoring under a new version (no ASR) whose reason has a condition changes
the reason and keeps the earlier version's readable; erasure takes the rows."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

import pytest

from benchmarks.reference import AUDIO
from callscope.scoring.rules import starter_text
from tests.support.server import running_service, wait_done

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def database():
    """SQLite only: this module's checks do not depend on the database, and CI has 90 minutes for
    the whole suite; the PostgreSQL paths they pass through are run by test_service.py,
    test_crypto_shredding.py, test_rules_service.py and the other modules on both databases."""
    return lambda data_dir: f"sqlite:///{data_dir / 'callscope.db'}"


#: the starter set plus a reason that the call's queue decides
BY_QUEUE = starter_text().replace("name: starter", "name: starter-by-queue", 1) + """
  - name: email_delivery
    description: E-mails from us that do not arrive.
    examples: [I don't get your e-mails]
    when: {metadata: {field: queue, in: [email]}}
"""


@pytest.fixture(scope="module")
def svc(tmp_path_factory, database):
    data = tmp_path_factory.mktemp("insight")
    with running_service(data, database(data)) as svc:
        with svc.client(svc.key) as admin:
            with open(AUDIO / "callytics" / "Call01.wav", "rb") as f:
                r = admin.post("/v1/calls", files={"files": ("Call01.wav", f)},
                               data={"agent_id": "a-17", "queue": "email", "recorded_at": datetime.now(UTC).isoformat()})
            assert r.status_code == 202, r.text
            svc.call_id = r.json()["calls"][0]["id"]
            assert wait_done(admin, svc.call_id)["status"] == "done"
        yield svc


def test_the_call_has_its_reason_outcome_and_summary(svc):
    """Read from Call01's hand transcript: a technical fault (notification e-mails arrive late),
    resolved ("Thanks for fixing it")."""
    with svc.client(svc.key) as admin:
        call = admin.get(f"/v1/calls/{svc.call_id}").json()
    ins = call["insight"]
    assert ins["reason"]["reason"] == "technical_fault" and ins["reason"]["decided_by"] == "similarity"
    assert ins["outcome"]["outcome"] == "resolved"
    utterances = admin_transcript(svc)["utterances"]
    assert any("notification" in utterances[i]["text"].lower() for i in ins["reason"]["evidence"])
    assert 3 <= len(ins["summary"]) <= 5
    for line in ins["summary"]:
        assert line["text"] == utterances[line["utterance"]]["text"]
    assert ins["version"].startswith("insight/") and ins["version"].endswith(call["rules_version"])
    # sealed at rest: the summary's words are not in the row
    raw = svc.sql("SELECT detail_json FROM call_insights WHERE call_id = :c", c=svc.call_id)[0][0]
    assert "notification" not in raw


def admin_transcript(svc) -> dict:
    with svc.client(svc.key) as admin:
        return admin.get(f"/v1/calls/{svc.call_id}/transcript").json()


def test_the_list_feed_and_aggregates_carry_reason_and_outcome(svc):
    today = datetime.now(UTC).date().isoformat()
    with svc.client(svc.key) as admin:
        rows = admin.get("/v1/calls", params={"reason": "technical_fault", "outcome": "resolved"}).json()["calls"]
        assert [(r["id"], r["reason"], r["outcome"]) for r in rows] == [(svc.call_id, "technical_fault", "resolved")]
        assert admin.get("/v1/calls", params={"reason": "billing"}).json()["calls"] == []
        assert admin.get("/v1/calls", params={"outcome": "maybe"}).status_code == 422
        feed = admin.get("/v1/feeds/daily", params={"date": today, "format": "csv"})
        mine = next(r for r in csv.DictReader(io.StringIO(feed.text.lstrip("\ufeff"))) if r["call_id"] == svc.call_id)
        assert (mine["reason"], mine["outcome"]) == ("technical_fault", "resolved")
        for group_by, name in (("reason", "technical_fault"), ("outcome", "resolved")):
            agg = admin.get("/v1/aggregates", params={"group_by": group_by, "from": today, "to": today}).json()
            assert agg["groups"][name]["calls"] == 1


def test_rescoring_under_a_new_version_changes_the_reason_without_asr_and_keeps_the_old_one(svc):
    with svc.client(svc.key) as admin:
        first = admin.get(f"/v1/calls/{svc.call_id}").json()["rules_version"]
        r = admin.post("/v1/rules", json={"yaml": BY_QUEUE, "activate": True})
        assert r.status_code == 201, r.text
        version = r.json()["version"]
        _rescore(admin, version)
        now = admin.get(f"/v1/calls/{svc.call_id}").json()
        assert now["insight"]["reason"]["reason"] == "email_delivery"
        assert now["insight"]["reason"]["decided_by"] == "condition"
        assert now["insight"]["rules_version"] == version
        old = admin.get(f"/v1/calls/{svc.call_id}/categories",
                        params={"rules_version": int(first.split("/")[1].split("+")[0])}).json()
        assert old["insight"]["reason"]["reason"] == "technical_fault"
        assert admin.get("/v1/calls", params={"reason": "email_delivery"}).json()["total"] == 1
        # a version that changes only a category: the insight is copied, not computed again
        more = BY_QUEUE.replace("categories:", "categories:\n  - name: long_call\n    when: {duration_s: {gte: 600}}", 1)
        third = admin.post("/v1/rules", json={"yaml": more, "activate": True}).json()["version"]
        _rescore(admin, third)
        again = admin.get(f"/v1/calls/{svc.call_id}").json()["insight"]
        assert again["rules_version"] == third and again["reason"] == now["insight"]["reason"]
    bases = svc.sql("SELECT rules_version, basis FROM call_insights WHERE call_id = :c ORDER BY rules_version", c=svc.call_id)
    assert bases[-1][1] == bases[-2][1] != bases[0][1], bases


def _rescore(admin, version: int) -> None:
    run = admin.post("/v1/admin/rescore", json={"rules_version": version}).json()
    deadline = time.monotonic() + 120
    while admin.get(f"/v1/admin/rescore/{run['id']}").json()["status"] != "done":
        assert time.monotonic() < deadline, "re-scoring did not finish"
        time.sleep(0.5)


def test_erasure_takes_the_insight_rows(svc):
    with svc.client(svc.key) as admin:
        assert admin.delete(f"/v1/calls/{svc.call_id}").status_code == 200
    assert svc.sql("SELECT count(*) FROM call_insights WHERE call_id = :c", c=svc.call_id)[0][0] == 0
