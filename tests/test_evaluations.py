"""The QA workflow over HTTP (issue 26), on SQLite and PostgreSQL, against a real ``callscope
serve`` whose worker analyses the real Call01: forms (starter, a new version, hostile YAML), the
review queue (a red call with its due time, claims, round robin, the turnaround KPI), an
evaluation pre-filled with evidence, a changed answer that needs a reason, comments on a moment,
states with who and when, the agent scope, re-scoring under a new form version, calibration with
three reviewers, the evaluation score in aggregates and the feed, and erasure taking it all."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.reference import AUDIO
from tests.support.server import new_key, running_service, wait_done

pytestmark = pytest.mark.slow

#: every call of queue "billing" is read with bands only a delighted customer passes: Call01 is red
STRICT_BANDS = """
name: strict-billing
categories:
  - name: asked_for_supervisor
    when: {said: {by: customer, phrases: [speak to a manager, supervisor]}}
bands:
  queue:
    billing: {green: 0.99, yellow: 0.98, orange: 0.97}
"""


@pytest.fixture(scope="module")
def svc(tmp_path_factory, database):
    data = tmp_path_factory.mktemp("evaluations")
    with running_service(data, database(data)) as svc:
        with svc.client(svc.key) as admin:
            r = admin.post("/v1/rules", json={"yaml": STRICT_BANDS, "activate": True})
            assert r.status_code == 201, r.text
            with open(AUDIO / "callytics" / "Call01.wav", "rb") as f:
                r = admin.post("/v1/calls", files={"files": ("Call01.wav", f)},
                               data={"agent_id": "a-17", "team": "north", "queue": "billing",
                                     "recorded_at": datetime.now(UTC).isoformat()})
            assert r.status_code == 202, r.text
            svc.call_id = r.json()["calls"][0]["id"]
            assert wait_done(admin, svc.call_id)["status"] == "done"
            svc.keys = {name: new_key(admin, name, *scopes) for name, scopes in {
                "rita": ("read", "review"), "rolf": ("read", "review"), "rut": ("read", "review"),
                "lena": ("read", "review", "lead")}.items()}
            r = admin.post("/v1/keys", json={"name": "agent a-17", "scopes": ["agent"], "agent_id": "a-17"})
            assert r.status_code == 201, r.text
            svc.keys["a-17"] = r.json()["key"]
            r = admin.post("/v1/keys", json={"name": "agent a-99", "scopes": ["agent"], "agent_id": "a-99"})
            svc.keys["a-99"] = r.json()["key"]
        yield svc


def test_forms_are_versioned_and_hostile_yaml_is_refused(svc):
    with svc.client(svc.key) as admin:
        forms = admin.get("/v1/forms").json()["forms"]
        names = {(f["name"], f["language"]) for f in forms if f["active"]}
        assert names == {("customer-service", "en"), ("kundtjanst", "sv")}
        en = next(f for f in forms if f["name"] == "customer-service")
        yaml_text = admin.get(f"/v1/forms/{en['id']}").json()["yaml"]
        r = admin.post("/v1/forms", json={"yaml": yaml_text.replace("weight: 3", "weight: 4")})
        assert r.status_code == 201 and r.json()["version"] == 2 and not r.json()["active"]
        svc.form_v2 = r.json()["id"]
        bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
        r = admin.post("/v1/forms", json={"yaml": bomb})
        assert r.status_code == 422 and "alias" in r.json()["error"]["message"].lower()
        r = admin.post("/v1/forms", json={"yaml": yaml_text.replace('if_found: "yes"', 'if_found: "maybe"', 1)})
        assert r.status_code == 422 and "maybe" in r.json()["error"]["message"]
    with svc.client(svc.keys["rita"]) as rita:
        assert rita.post("/v1/forms", json={"yaml": yaml_text}).status_code == 403


def test_a_red_call_is_queued_with_its_due_time_and_can_be_claimed(svc):
    with svc.client(svc.keys["rita"]) as rita:
        q = rita.get("/v1/review-queue").json()
        item = next(i for i in q["items"] if i["call_id"] == svc.call_id)
        assert item["reason"] == "red" and item["level"] == "red" and item["assignee"] is None
        due = datetime.fromisoformat(item["due_at"]) - datetime.fromisoformat(item["added_at"])
        assert due == timedelta(hours=1)
        assert q["counts"]["red"]["open"] == 1
        r = rita.post(f"/v1/review-queue/{svc.call_id}/claim")
        assert r.status_code == 200 and r.json()["assignee"] == "rita"
    with svc.client(svc.keys["rolf"]) as rolf:
        assert rolf.post(f"/v1/review-queue/{svc.call_id}/claim").status_code == 409
        assert rolf.post("/v1/review-queue/assign", json={"reviewers": ["rolf"]}).status_code == 403
        assert rolf.get("/v1/review-queue", params={"mine": True}).json()["items"] == []


def test_the_form_is_prefilled_with_evidence_and_a_change_needs_a_reason(svc):
    with svc.client(svc.keys["rita"]) as rita:
        r = rita.post(f"/v1/calls/{svc.call_id}/evaluations")
        assert r.status_code == 200, r.text
        ev = r.json()
        svc.evaluation = ev["id"]
        assert ev["state"] == "draft" and ev["form"].startswith("form/customer-service/1+")
        by_id = {q["id"]: q for q in ev["questions"]}
        answered = [q for q in ev["questions"] if q["source"] == "auto"]
        assert answered, "Call01 gives evidence for some questions"
        for q in answered:  # every automatic answer carries its evidence (or a measured score) and a confidence
            assert q["auto"]["confidence"] is not None and 0 <= q["auto"]["confidence"] <= 1
        for q in ev["questions"]:
            if q["auto"] and q["auto"]["answer"] is None:
                assert q["answer"] is None  # no evidence: the reviewer's
        assert by_id["resolution"]["auto"] is None and by_id["resolution"]["answer"] is None
        greeting = by_id["greeting"]
        assert greeting["auto"]["answer"] == "yes" and greeting["auto"]["evidence"], greeting  # Call01 opens with a greeting
        # changing an automatic answer without a reason is refused; with one it is a disagreement
        r = rita.patch(f"/v1/evaluations/{svc.evaluation}", json={"answers": {"greeting": {"answer": "no"}}})
        assert r.status_code == 422 and "reason" in r.json()["error"]["message"]
        r = rita.patch(f"/v1/evaluations/{svc.evaluation}", json={"answers": {
            "greeting": {"answer": "no", "reason": "said hello but never gave a name", "comment": "name missing"},
            "nonexistent": {"answer": "yes"}}})
        assert r.status_code == 422
        r = rita.patch(f"/v1/evaluations/{svc.evaluation}", json={"answers": {
            "greeting": {"answer": "no", "reason": "said hello but never gave a name", "comment": "name missing"}}})
        assert r.status_code == 200 and r.json()["disagreements"] == 1
        # submitting with questions unanswered names them
        r = rita.post(f"/v1/evaluations/{svc.evaluation}/submit")
        assert r.status_code == 409 and "resolution" in r.json()["error"]["message"]
        rest = {q["id"]: {"answer": q["answers"][0]} for q in ev["questions"] if q["answer"] is None and q["id"] != "greeting"}
        rest["resolution"] = {"answer": "partly"}
        confirm = [q["id"] for q in ev["questions"] if q["source"] == "auto" and q["id"] != "greeting"]
        r = rita.patch(f"/v1/evaluations/{svc.evaluation}", json={"answers": rest, "confirm": confirm,
                                                                  "coaching": "Give your name in the greeting."})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["coaching"] == "Give your name in the greeting."
        assert 0 <= body["score"] <= 100
        # a comment on a moment
        r = rita.post(f"/v1/calls/{svc.call_id}/comments", json={"utterance": 2, "text": "good empathy here"})
        assert r.status_code == 201 and r.json()["at_s"] >= 0
        assert rita.get(f"/v1/calls/{svc.call_id}/comments").json()["comments"][0]["text"] == "good empathy here"
        r = rita.post(f"/v1/evaluations/{svc.evaluation}/submit")
        assert r.status_code == 200 and r.json()["state"] == "submitted"
    with svc.client(svc.keys["rolf"]) as rolf:  # another reviewer cannot change or submit it
        assert rolf.patch(f"/v1/evaluations/{svc.evaluation}", json={"answers": {}}).status_code == 409
        assert rolf.post(f"/v1/evaluations/{svc.evaluation}/acknowledge").status_code == 403
        # the queue item is closed
        assert all(i["call_id"] != svc.call_id for i in rolf.get("/v1/review-queue").json()["items"])


def test_states_agent_scope_lead_and_dispute(svc):
    with svc.client(svc.keys["a-99"]) as other:
        assert other.get("/v1/me/evaluations").json()["evaluations"] == []
        assert other.get(f"/v1/calls/{svc.call_id}").status_code == 403  # no read scope
        assert other.get(f"/v1/evaluations/{svc.evaluation}").status_code == 403
    with svc.client(svc.keys["a-17"]) as agent:
        mine = agent.get("/v1/me/evaluations").json()
        assert mine["agent_id"] == "a-17" and len(mine["evaluations"]) == 1
        ev = mine["evaluations"][0]
        assert ev["coaching"] == "Give your name in the greeting." and ev["state"] == "submitted"
        assert not any("evidence" in q for q in ev["questions"])
        assert agent.get(f"/v1/calls/{svc.call_id}/transcript").status_code == 403
    with svc.client(svc.keys["lena"]) as lead:
        r = lead.post(f"/v1/evaluations/{svc.evaluation}/acknowledge", json={"note": "seen"})
        assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    with svc.client(svc.keys["a-17"]) as agent:
        r = agent.post(f"/v1/me/evaluations/{svc.evaluation}/dispute", json={"note": "I did say my name at 0:04"})
        assert r.status_code == 200 and r.json()["evaluations"][0]["state"] == "disputed"
    with svc.client(svc.keys["lena"]) as lead:
        assert lead.post(f"/v1/evaluations/{svc.evaluation}/resolve").status_code == 409  # a note is needed
        r = lead.patch(f"/v1/evaluations/{svc.evaluation}", json={"answers": {"greeting": {"answer": "yes", "reason": "the agent did"}}})
        assert r.status_code == 200 and r.json()["disagreements"] == 0
        r = lead.post(f"/v1/evaluations/{svc.evaluation}/resolve", json={"note": "agent was right"})
        body = r.json()
        assert r.status_code == 200 and body["state"] == "resolved"
        assert [h["state"] for h in body["history"]] == ["draft", "submitted", "acknowledged", "disputed", "resolved"]
        assert [h["by"] for h in body["history"]] == ["rita", "rita", "lena", "agent a-17", "lena"]
        svc.score = body["score"]


def test_rescoring_under_a_new_form_version_keeps_the_human_answers(svc):
    with svc.client(svc.keys["rita"]) as rita:
        before = {q["id"]: q for q in rita.get(f"/v1/evaluations/{svc.evaluation}").json()["questions"]}
        r = rita.post(f"/v1/evaluations/{svc.evaluation}/rescore", json={"form_id": svc.form_v2})
        assert r.status_code == 200, r.text
        after = {q["id"]: q for q in r.json()["questions"]}
        assert r.json()["form"].startswith("form/customer-service/2+") and r.json()["state"] == "draft"
        for qid, q in before.items():
            if q["source"] in ("reviewer", "confirmed"):
                assert after[qid]["answer"] == q["answer"] and after[qid]["source"] == q["source"]
        assert after["resolution"]["weight"] == 4


def test_aggregates_feed_and_turnaround_show_the_evaluation(svc):
    today = datetime.now(UTC).date().isoformat()
    with svc.client(svc.keys["lena"]) as lead:
        agg = lead.get("/v1/aggregates", params={"group_by": "agent", "from": today, "to": today}).json()
        row = agg["groups"]["a-17"]
        assert row["evaluations"] == 1 and row["evaluation_score"] == pytest.approx(svc.score)
        assert "greeting" in row["evaluation_questions"]
        feed = lead.get("/v1/feeds/daily", params={"date": today, "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(feed.text.lstrip("\ufeff"))))
        mine = next(r for r in rows if r["call_id"] == svc.call_id)
        assert float(mine["evaluation_score"]) == pytest.approx(svc.score)
        assert mine["eval_greeting"] == "yes" and mine["eval_resolution"] == "partly"
        kpi = lead.get("/v1/review-queue/turnaround", params={"from": today, "to": today}).json()["by_reason"]
        assert kpi["red"]["evaluated"] == 1 and kpi["red"]["median_h"] < 1 and kpi["red"]["on_time_share"] == 1.0


def test_calibration_with_three_reviewers_is_blind_then_side_by_side(svc):
    with svc.client(svc.keys["lena"]) as lead:
        r = lead.post("/v1/calibrations", json={"name": "week 49", "call_ids": [svc.call_id],
                                                "reviewers": ["rita", "rolf", "rut"]})
        assert r.status_code == 201, r.text
        cal = r.json()["id"]
    picks = {"rita": "resolved", "rolf": "resolved", "rut": "partly"}
    for name, resolution in picks.items():
        with svc.client(svc.keys[name]) as rev:
            ev = rev.post(f"/v1/calibrations/{cal}/calls/{svc.call_id}/evaluation").json()
            assert all(q["auto"] is None and q["answer"] is None for q in ev["questions"])  # blind
            if name != "rita":
                assert rev.get(f"/v1/calibrations/{cal}").json()["results"] is None
            answers = {q["id"]: {"answer": q["answers"][0]} for q in ev["questions"]}
            answers["resolution"] = {"answer": resolution}
            assert rev.patch(f"/v1/evaluations/{ev['id']}", json={"answers": answers}).status_code == 200
            assert rev.post(f"/v1/evaluations/{ev['id']}/submit").status_code == 200
    with svc.client(svc.keys["rut"]) as rut:
        out = rut.get(f"/v1/calibrations/{cal}").json()
    assert out["complete"]
    res = {q["id"]: q for q in out["results"]["questions"]}
    assert res["resolution"]["calls"][0]["consensus"] == "resolved"
    assert res["resolution"]["reviewers_agreement"]["n"] == 3  # three pairs of reviewers on one call
    assert res["resolution"]["reviewers_agreement"]["accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert res["greeting"]["reviewers_agreement"]["accuracy"] == 1.0


def test_erasing_the_call_takes_its_evaluations_comments_and_queue_item(svc):
    with svc.client(svc.key) as admin:
        assert admin.delete(f"/v1/calls/{svc.call_id}").status_code == 200
        assert admin.get(f"/v1/evaluations/{svc.evaluation}").status_code == 404
        assert admin.get(f"/v1/calls/{svc.call_id}/comments").json()["comments"] == []
    for table in ("evaluations", "evaluation_events", "call_comments", "review_items"):
        assert svc.sql(f"SELECT count(*) FROM {table} WHERE call_id = :c", c=svc.call_id)[0][0] == 0
