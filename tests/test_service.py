"""The service as clients use it: a real uvicorn server on 127.0.0.1 with its worker, real
SQLite and PostgreSQL (each test runs against both), real recordings."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
import soundfile as sf
from sqlalchemy import create_engine, text

from benchmarks.reference import AUDIO
from tests.support.server import new_key, running_service, wait_done

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
LEVELS = ("green", "yellow", "orange", "red")


@pytest.fixture(scope="module")
def service(tmp_path_factory, database):
    data = tmp_path_factory.mktemp("service")
    with running_service(data, database(data), CALLSCOPE_MAX_UPLOAD_MB="1", CALLSCOPE_MAX_FILES_PER_REQUEST="60",
                         CALLSCOPE_LEASE_S="10", CALLSCOPE_RETENTION_DAYS="3650", CALLSCOPE_RETENTION_CHECK_S="1",
                         CALLSCOPE_ACCESS_LOG_DAYS="30", CALLSCOPE_PSEUDONYM_KEY="test-deployment-secret-0123456789abcdef") as svc:
        yield svc


@pytest.fixture(scope="module")
def admin(service):
    with service.client(service.key) as c:
        yield c


@pytest.fixture(scope="module")
def analysed_call(admin) -> tuple[dict, dict]:
    """The two-speaker 8 kHz µ-law sample, uploaded with metadata and analysed: (upload ref, call)."""
    with open(SAMPLES / "pyannote_sample_mulaw_8k.wav", "rb") as f:
        r = admin.post("/v1/calls", files={"files": ("call.wav", f, "audio/wav")},
                       data={"agent_id": "a-17", "team": "north", "queue": "billing", "external_id": "crm-1",
                             "recorded_at": "2026-11-20T10:00:00Z"})
    assert r.status_code == 202, r.text
    ref = r.json()["calls"][0]
    return ref, wait_done(admin, ref["id"])


def test_upload_poll_scores(service, admin, analysed_call):
    ref, body = analysed_call
    assert ref["status"] == "queued" and ref["status_url"] == f"/v1/calls/{ref['id']}" and not ref["existing"]
    assert body["status"] == "done" and body["progress"] == 1.0, body
    assert body["metadata"]["agent_id"] == "a-17" and body["metadata"]["queue"] == "billing"
    assert body["escalation"] in LEVELS
    assert body["scores"]["call"]["escalation"]["value"] == body["escalation"]
    assert len(body["scores"]["speakers"]) == 2
    transcript = admin.get(f"/v1/calls/{ref['id']}/transcript").json()
    assert transcript["file"] == "call.wav" and len(transcript["utterances"]) > 3
    assert "chicago" in " ".join(u["text"] for u in transcript["utterances"]).lower()
    timeline = admin.get(f"/v1/calls/{ref['id']}/timeline").json()
    assert len(timeline["timeline"]) == 2
    # the two speakers introduce themselves ("This is Carol …", "I'm Ed …"): their names are redacted in
    # the transcript and silenced in the stored recording, now lossless FLAC of the same length
    assert {r["kind"] for r in transcript["redactions"]} == {"NAME"} and "[NAME]" in str(transcript["utterances"])
    audio = admin.get(f"/v1/calls/{ref['id']}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/flac"
    stored, rate = sf.read(io.BytesIO(audio.content), dtype="float32")
    original, original_rate = sf.read(SAMPLES / "pyannote_sample_mulaw_8k.wav", dtype="float32")
    assert rate == original_rate and len(stored) == len(original)
    for r in transcript["redactions"]:
        span = slice(int(r["start"] * rate), int(r["end"] * rate))
        assert abs(original[span]).max() > 0.01 and abs(stored[span]).max() == 0.0  # said, and now silent

    # the same content with the same external_id is the same call
    with open(SAMPLES / "pyannote_sample_mulaw_8k.wav", "rb") as f:
        again = admin.post("/v1/calls", files={"files": ("renamed.wav", f)}, data={"external_id": "crm-1"})
    assert again.status_code == 202 and again.json()["calls"][0] == {**ref, "status": "done", "existing": True}


def test_bad_uploads_get_json_errors_and_store_nothing(service, admin):
    data = service.data_dir
    before = sorted(p.name for p in (data / "audio").rglob("*") if p.is_file())
    notes = admin.post("/v1/calls", files={"files": ("notes.wav", b"agent notes, not audio" * 10)})
    assert notes.status_code == 415
    assert notes.json()["error"]["details"][0] == {"file": "notes.wav", "status": 415,
                                                     "reason": "not an audio file (WAV, MP3, FLAC, Ogg/Opus, M4A)"}
    big = admin.post("/v1/calls", files={"files": ("jfk.flac", (SAMPLES / "jfk.flac").read_bytes())})
    assert big.status_code == 413 and "limit of 1 MB" in big.json()["error"]["message"]
    empty = admin.post("/v1/calls", files={"files": ("empty.wav", b"")})
    assert empty.status_code == 400
    too_many = admin.post("/v1/calls", files=[("files", (f"{i}.wav", b"RIFF")) for i in range(61)])
    assert too_many.status_code == 413 and too_many.json()["error"]["message"] == "more than 60 files in one request; the limit is 60"
    # one bad file in a bulk upload: nothing is taken; a path in the name is cut to its last part
    mixed = admin.post("/v1/calls", files=[("files", ("ok.wav", (SAMPLES / "stereo_diarization.wav").read_bytes())),
                                           ("files", ("../../etc/passwd", b"root:x:0:0"))])
    assert mixed.status_code == 415 and [d["file"] for d in mixed.json()["error"]["details"]] == ["passwd"]
    assert sorted(p.name for p in (data / "audio").rglob("*") if p.is_file()) == before
    missing = admin.get("/v1/calls/does-not-exist")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "no call does-not-exist"
    bad_map = admin.post("/v1/calls", files={"files": ("x.wav", (SAMPLES / "stereo_diarization.wav").read_bytes())},
                         data={"channel_map": "boss,customer"})
    assert bad_map.status_code == 422 and bad_map.json()["error"]["message"] == "invalid request"
    nul = admin.get("/v1/calls", params={"agent_id": "a\x00b"})
    assert nul.status_code == 400 and "NUL" in nul.json()["error"]["message"]
    nul_meta = admin.post("/v1/calls", files={"files": ("x.wav", (SAMPLES / "stereo_diarization.wav").read_bytes())},
                          data={"team": "a\x00b"})
    assert nul_meta.status_code == 422 and nul_meta.json()["error"]["details"] == ["team"]
    far = admin.get("/v1/aggregates", params={"group_by": "day", "from": "9999-12-30", "to": "9999-12-31"})
    assert far.status_code == 400 and "outside" in far.json()["error"]["message"]


def test_api_keys_and_scopes(service, admin):
    anonymous = httpx.get(f"{service.base}/v1/calls")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert "missing API key" in anonymous.json()["error"]["message"]
    assert httpx.get(f"{service.base}/v1/calls", headers={"X-API-Key": "cs_nope_nope"}).status_code == 401
    assert httpx.get(f"{service.base}/healthz").status_code == 200  # probes stay open

    reader, uploader = new_key(admin, "dashboard", "read"), new_key(admin, "ingest", "upload")
    with service.client(reader) as r, service.client(uploader) as u:
        assert r.get("/v1/calls").status_code == 200
        assert httpx.get(f"{service.base}/v1/calls", headers={"X-API-Key": reader}).status_code == 200
        denied = r.post("/v1/calls", files={"files": ("x.wav", (SAMPLES / "stereo_diarization.wav").read_bytes())})
        assert denied.status_code == 403 and "lacks the 'upload' scope" in denied.json()["error"]["message"]
        assert r.delete("/v1/calls/whatever").status_code == 403
        assert r.get("/v1/keys").status_code == 403
        up = u.post("/v1/calls", files={"files": ("k.wav", (SAMPLES / "stereo_diarization.wav").read_bytes())},
                    data={"team": "keys"})
        assert up.status_code == 202
        assert u.get(up.json()["calls"][0]["status_url"]).status_code == 403  # upload only: cannot read

        keys = admin.get("/v1/keys").json()["keys"]
        listed = {k["name"]: k for k in keys}
        assert listed["dashboard"]["scopes"] == ["read"] and listed["ingest"]["scopes"] == ["upload"]
        assert all("key" not in k for k in keys) and listed["dashboard"]["last_used_at"] is not None
        stored = service.sql("SELECT prefix, secret_sha256 FROM api_keys")
        assert not any(reader.endswith(secret) or secret in reader for _, secret in stored)  # only a hash is kept
        assert admin.delete(f"/v1/keys/{listed['dashboard']['id']}").json() == {"revoked": listed["dashboard"]["id"]}
        assert r.get("/v1/calls").status_code == 401
    bad_scope = admin.post("/v1/keys", json={"name": "x", "scopes": ["boss"]})
    assert bad_scope.status_code == 422 and "unknown scope" in bad_scope.json()["error"]["message"]


def test_qa_corrections_show_in_reads_and_aggregates_and_keep_originals(service, admin, analysed_call):
    ref, body = analysed_call
    cid = ref["id"]
    customer = next(s for s in body["scores"]["speakers"] if s["role"] == "customer")
    transcript = admin.get(f"/v1/calls/{cid}/transcript").json()
    i = next(k for k, u in enumerate(transcript["utterances"]) if u["speaker"] == customer["speaker"])
    before = transcript["utterances"][i]
    target = -0.9 if before["sentiment"]["score"] > -0.5 else 0.9

    with service.client(new_key(admin, "viewer", "read")) as viewer:
        assert viewer.post(f"/v1/calls/{cid}/corrections", json={"utterance": i, "sentiment": target,
                                                                  "reason": "sarcasm"}).status_code == 403
    with service.client(new_key(admin, "qa-jane", "read", "review")) as qa:
        r = qa.post(f"/v1/calls/{cid}/corrections", json={"utterance": i, "sentiment": target, "reason": "sarcasm, not praise"})
        assert r.status_code == 201, r.text
        made = r.json()["corrections"][0]
        assert made["original"] == before["sentiment"]["score"] and made["value"] == target
        assert made["reviewer"] == "qa-jane" and made["reason"] == "sarcasm, not praise" and made["at"]
        bad = [qa.post(f"/v1/calls/{cid}/corrections", json=j) for j in (
            {"utterance": 100000, "sentiment": 0.1, "reason": "out of range"},
            {"utterance": i, "escalation": "red", "reason": "mixed"},
            {"utterance": i, "sentiment": 0.1},
            {"utterance": i, "sentiment": 3.0, "reason": "too big"},
            {"escalation": "purple", "reason": "no such level"})]
        assert [b.status_code for b in bad] == [422] * 5
        assert qa.post("/v1/calls/nope/corrections", json={"escalation": "red", "reason": "x-y"}).status_code == 404

        after = qa.get(f"/v1/calls/{cid}/transcript").json()["utterances"][i]
        assert after["sentiment"] == {"score": target, "confidence": 1.0}
        assert after["corrected"]["sentiment"]["original"] == before["sentiment"]["score"]
        assert after["corrected"]["sentiment"]["reviewer"] == "qa-jane"
        assert after["emotion"]["label"] in (("frustrated", "dissatisfied") if target < 0 else ("satisfied", "enthusiastic"))
        call = qa.get(f"/v1/calls/{cid}").json()
        new_customer = next(s for s in call["scores"]["speakers"] if s["role"] == "customer")
        assert new_customer["sentiment_mean"]["version"].endswith("+qa-corrected")
        assert (new_customer["sentiment_mean"]["value"] - customer["sentiment_mean"]["value"]) * target > 0
        assert call["customer_sentiment"] == new_customer["sentiment_mean"]["value"]  # the stored column follows

        level = qa.post(f"/v1/calls/{cid}/corrections", json={"escalation": "red", "reason": "customer threatened to cancel",
                                                                "reviewer": "Jane Doe"})
        assert level.status_code == 201 and level.json()["escalation"]["value"] == "red"
        call = qa.get(f"/v1/calls/{cid}").json()
        assert call["escalation"] == "red" and call["scores"]["call"]["escalation"]["value"] == "red"
        assert call["scores"]["call"]["reasons"][0] == "level set to red by QA reviewer Jane Doe (key qa-jane): customer threatened to cancel"
        assert call["corrections"] == 2
        audit = qa.get(f"/v1/calls/{cid}/corrections").json()["corrections"]
        assert [(c["field"], c["reviewer"], c["display_name"]) for c in audit] == [("sentiment", "qa-jane", None),
                                                                                  ("escalation", "qa-jane", "Jane Doe")]
        assert audit[1]["original"] == body["escalation"]

    agg = admin.get("/v1/aggregates", params={"group_by": "team", "from": "2026-11-20", "to": "2026-11-20"}).json()
    north = agg["groups"]["north"]
    assert north["calls"] == 1 and north["escalation_share"]["red"] == 1.0
    assert north["mean_customer_sentiment"] == pytest.approx(call["customer_sentiment"], abs=1e-4)
    feed = [json.loads(x) for x in admin.get("/v1/feeds/daily", params={"date": "2026-11-20"}).text.splitlines()]
    row = next(r for r in feed if r["call_id"] == cid)
    assert row["escalation"] == "red" and row["qa_corrections"] == 2
    # the analysis as stored is untouched: the originals stay for audit
    stored = json.loads(service.opened(cid, "result_json"))
    assert stored["utterances"][i]["sentiment"] == before["sentiment"]
    assert stored["call_scores"]["escalation"]["value"] == body["escalation"]


def test_list_feed_aggregates_emotion_filter_and_erasure(service, admin):
    stereo = (SAMPLES / "stereo_diarization.wav").read_bytes()
    ids = []
    for i, when in enumerate(["2026-11-21T09:00:00Z", "2026-11-21T15:30:00Z", "2026-11-20T12:00:00Z"]):
        r = admin.post("/v1/calls", files={"files": (f"f{i}.wav", stereo)},
                       data={"team": "t-feed", "agent_id": f"agent-{i % 2}", "recorded_at": when, "external_id": f"feed-{i}"})
        ids.append(r.json()["calls"][0]["id"])
    assert all(wait_done(admin, i)["status"] == "done" for i in ids)

    first = admin.get("/v1/calls", params={"team": "t-feed", "limit": 2}).json()
    second = admin.get("/v1/calls", params={"team": "t-feed", "limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(first["calls"]) == 2 and len(second["calls"]) == 1 and second["next_cursor"] is None
    assert sorted(c["id"] for c in first["calls"] + second["calls"]) == sorted(ids)
    day = admin.get("/v1/calls", params={"team": "t-feed", "from": "2026-11-21", "to": "2026-11-21"}).json()
    assert sorted(c["id"] for c in day["calls"]) == sorted(ids[:2])
    assert admin.get("/v1/calls", params={"cursor": "garbage"}).status_code == 400

    # emotion filter: exactly the calls whose customer spent time in that emotion
    shares = {}
    for cid in ids:
        speakers = admin.get(f"/v1/calls/{cid}").json()["scores"]["speakers"]
        shares[cid] = next((s["emotion_shares"] for s in speakers if s["role"] == "customer"), {})
    for label in ("neutral", "frustrated", "satisfied", "uncertain"):
        listed = {c["id"] for c in admin.get("/v1/calls", params={"team": "t-feed", "emotion": label}).json()["calls"]}
        assert listed == {cid for cid in ids if shares[cid].get(label, 0) > 0}, label
    strict = admin.get("/v1/calls", params={"team": "t-feed", "emotion": "neutral", "emotion_min_share": 1.0}).json()["calls"]
    assert {c["id"] for c in strict} == {cid for cid in ids if shares[cid].get("neutral", 0) >= 1.0}
    assert admin.get("/v1/calls", params={"emotion": "furious"}).status_code == 422

    from callscope.service.feed import FEED_COLUMNS

    csv_response = admin.get("/v1/feeds/daily", params={"date": "2026-11-21", "format": "csv"})
    lines = csv_response.text.strip().splitlines()
    assert lines[0].split(",") == list(FEED_COLUMNS)
    excel = admin.get("/v1/feeds/daily", params={"date": "2026-11-21", "format": "csv", "bom": "true"}).content
    assert excel.startswith(b"\xef\xbb\xbf") and excel[3:] == csv_response.content  # a BOM, then the same bytes
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(ids[:2])
    rows = [json.loads(x) for x in admin.get("/v1/feeds/daily", params={"date": "2026-11-21"}).text.splitlines()]
    assert [r["call_id"] for r in rows] == [ids[0], ids[1]]  # ordered by call time
    assert all(r["escalation"] in LEVELS and r["duration_s"] == 5.0 and r["qa_corrections"] == 0 for r in rows)
    assert rows[0]["call_time"] == "2026-11-21T09:00:00+00:00"
    for r in rows:  # how far the roles can be trusted travels with the scores
        call = admin.get(f"/v1/calls/{r['call_id']}").json()["scores"]["call"]
        assert (r["role_confidence"], r["role_note"], r["direction"]) == (call["role_confidence"], call["role_note"], call["direction"])
        assert r["role_confidence"] is not None
        assert r["language"] == "en" and 0.5 < r["language_confidence"] <= 1.0  # English speech, detected
    parquet = admin.get("/v1/feeds/daily", params={"date": "2026-11-21", "format": "parquet"})
    assert parquet.status_code == 200 and parquet.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.column_names == list(FEED_COLUMNS) and table.column("call_id").to_pylist() == [ids[0], ids[1]]
    assert str(table.schema.field("call_time").type) == "timestamp[us, tz=UTC]"
    assert table.column("customer_sentiment").to_pylist() == [r["customer_sentiment"] for r in rows]
    for fmt in ("csv", "parquet"):
        cli = subprocess.run([sys.executable, "-m", "callscope.cli", "feed", "--date", "2026-11-21", "--format", fmt],
                             env=service.env, capture_output=True, timeout=120)
        assert cli.returncode == 0 and cli.stdout == admin.get("/v1/feeds/daily", params={"date": "2026-11-21", "format": fmt}).content

    agg = admin.get("/v1/aggregates", params={"group_by": "team", "from": "2026-11-21", "to": "2026-11-21"}).json()
    g = agg["groups"]["t-feed"]
    assert g["calls"] == 2 and sum(g["escalation_share"].values()) == pytest.approx(1.0)
    assert g["previous_mean_customer_sentiment"] is not None  # the 20th is the previous period
    assert g["trend"] == pytest.approx(g["mean_customer_sentiment"] - g["previous_mean_customer_sentiment"], abs=1e-3)
    by_day = admin.get("/v1/aggregates", params={"group_by": "day", "from": "2026-11-20", "to": "2026-11-21"}).json()
    assert by_day["groups"]["2026-11-21"]["calls"] >= 2 and by_day["groups"]["2026-11-20"]["calls"] >= 1
    assert admin.get("/v1/aggregates", params={"group_by": "planet", "from": "2026-11-21", "to": "2026-11-21"}).status_code == 422

    # erasure: a call whose audio nobody else holds takes its audio with it
    unique = (AUDIO / "librivox" / "sense_and_sensibility_01_austen_64kb-0880.wav").read_bytes()
    cid = admin.post("/v1/calls", files={"files": ("erase-me.wav", unique)}).json()["calls"][0]["id"]
    wait_done(admin, cid)
    gone = admin.delete(f"/v1/calls/{cid}").json()
    assert gone == {"deleted": cid, "audio_deleted": True, "transcript_deleted": True, "scores_deleted": True,
                    "corrections_deleted": True}
    assert admin.get(f"/v1/calls/{cid}").status_code == 404
    assert admin.get(f"/v1/calls/{cid}/transcript").status_code == 404
    sha = hashlib.sha256(unique).hexdigest()
    assert not (service.data_dir / "audio" / sha[:2] / sha[2:4] / sha).exists()
    assert service.sql("SELECT count(*) FROM call_emotions WHERE call_id = :c", c=cid) == [(0,)]
    shared = admin.delete(f"/v1/calls/{ids[2]}").json()
    assert shared["audio_deleted"] is False  # other calls hold the same recording
    assert admin.get(f"/v1/calls/{ids[0]}/audio").content == stereo


def test_list_sorts_searches_and_pages_by_keyset(service, admin):
    """The list the QA app pages through: every sort walks all matching calls once, ties (the
    same recording three times) broken by id; transcript search is case-insensitive and takes
    LIKE wildcards literally; a cursor belongs to its sort."""
    stereo = (SAMPLES / "stereo_diarization.wav").read_bytes()
    mulaw = (SAMPLES / "pyannote_sample_mulaw_8k.wav").read_bytes()
    ids = []
    for i, audio in enumerate([stereo, stereo, stereo, mulaw]):
        r = admin.post("/v1/calls", files={"files": (f"s{i}.wav", audio)},
                       data={"team": "t-sort", "external_id": f"sort-{i}", "recorded_at": f"2026-11-1{i}T10:00:00Z"})
        ids.append(r.json()["calls"][0]["id"])
    assert all(wait_done(admin, i)["status"] == "done" for i in ids)
    longest = ids[3]  # the 30 s call; the others are 5 s
    for sort in ("-uploaded", "recorded", "-duration", "duration", "sentiment", "-sentiment", "level", "-level"):
        seen, cursor = [], None
        while True:
            page = admin.get("/v1/calls", params={"team": "t-sort", "sort": sort, "limit": 1,
                                                  **({"cursor": cursor} if cursor else {})}).json()
            assert page["total"] == 4
            seen += [c["id"] for c in page["calls"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(ids), sort  # each call once
        if sort == "-duration":
            assert seen[0] == longest
        if sort == "duration":
            assert seen[-1] == longest
        if sort == "recorded":
            assert seen == ids
    rows = admin.get("/v1/calls", params={"team": "t-sort", "sort": "-duration"}).json()["calls"]
    assert rows[0]["duration_s"] > 29 and rows[0]["agent_talk_share"] is not None and rows[0]["corrections"] == 0
    assert {"customer_sentiment_start", "customer_sentiment_end", "recorded_at", "product"} <= rows[0].keys()
    found = admin.get("/v1/calls", params={"team": "t-sort", "q": "CHICAGO"}).json()
    assert [c["id"] for c in found["calls"]] == [longest] and found["total"] == 1
    for literal in ("%", "_", "\\", "100%"):
        assert admin.get("/v1/calls", params={"team": "t-sort", "q": literal}).json()["total"] == 0, literal
    other = admin.get("/v1/calls", params={"team": "t-sort", "sort": "level", "limit": 1}).json()["next_cursor"]
    wrong = admin.get("/v1/calls", params={"team": "t-sort", "sort": "duration", "cursor": other})
    assert wrong.status_code == 400 and "sort" in wrong.json()["error"]["message"]
    assert admin.get("/v1/calls", params={"sort": "loudness"}).status_code == 422


def test_swapping_roles_rescores_for_the_new_customer(service, admin, analysed_call):
    ref, _ = analysed_call
    cid = ref["id"]
    before = admin.get(f"/v1/calls/{cid}").json()["scores"]
    roles = before["call"]["roles"]
    assert sorted(roles.values()) == ["agent", "customer"]
    r = admin.post(f"/v1/calls/{cid}/corrections", json={"swap_roles": True, "reason": "mono call, speakers the wrong way round"})
    assert r.status_code == 201, r.text
    after = admin.get(f"/v1/calls/{cid}").json()
    swapped = {spk: {"agent": "customer", "customer": "agent"}[role] for spk, role in roles.items()}
    assert after["scores"]["call"]["roles"] == swapped and after["scores"]["call"]["role_source"] == "qa_review"
    new_customer = next(s for s in after["scores"]["speakers"] if s["role"] == "customer")
    assert new_customer["speaker"] == next(s for s, role in roles.items() if role == "agent")
    assert after["customer_sentiment"] == pytest.approx(new_customer["sentiment_mean"]["value"], abs=1e-4)
    new_agent = next(s for s in after["scores"]["speakers"] if s["role"] == "agent")
    assert new_agent["acoustic_emotion"] is False  # no voice emotion for an agent (AI Act), whoever they were taken for
    transcript = admin.get(f"/v1/calls/{cid}/transcript").json()
    assert all(u["emotion"]["arousal"] is None for u in transcript["utterances"] if u["speaker"] == new_agent["speaker"])
    audit = admin.get(f"/v1/calls/{cid}/corrections").json()["corrections"][-1]
    assert audit["field"] == "roles" and audit["original"] == roles and audit["value"] == swapped
    # swapping back restores the analysed roles
    assert admin.post(f"/v1/calls/{cid}/corrections", json={"swap_roles": True, "reason": "no, it was right"}).status_code == 201
    assert admin.get(f"/v1/calls/{cid}").json()["scores"]["call"]["roles"] == roles
    bad = admin.post(f"/v1/calls/{cid}/corrections", json={"swap_roles": True, "utterance": 0, "sentiment": 0.1, "reason": "both"})
    assert bad.status_code == 422


def test_customer_identifiers_are_pseudonyms_and_a_subject_is_erased_whole(service, admin):
    """Phone numbers and customer ids given at upload are stored only as keyed hashes: the same
    number written two ways is one pseudonym (joins work), the clear value is nowhere in the
    database; erasing by subject takes exactly that customer's calls."""
    stereo = (SAMPLES / "stereo_diarization.wav").read_bytes()
    mulaw = (SAMPLES / "pyannote_sample_mulaw_8k.wav").read_bytes()
    uploads = [(stereo, {"customer_phone": "+46 70-123 45 67", "customer_id": "CU-1001", "external_id": "subj-1"}),
               (mulaw, {"customer_phone": "0046701234567", "external_id": "subj-2"}),
               (stereo, {"customer_phone": "+46 70 999 99 99", "customer_id": "CU-2002", "external_id": "subj-3"})]
    ids = []
    for audio, meta in uploads:
        r = admin.post("/v1/calls", files={"files": ("c.wav", audio)}, data={**meta, "recorded_at": "2026-11-22T08:00:00Z"})
        assert r.status_code == 202, r.text
        ids.append(r.json()["calls"][0]["id"])
    assert all(wait_done(admin, i)["status"] == "done" for i in ids)
    meta = [admin.get(f"/v1/calls/{i}").json()["metadata"] for i in ids]
    assert all(len(m["phone_ref"]) == 64 for m in meta) and len(meta[0]["customer_ref"]) == 64
    assert meta[0]["phone_ref"] == meta[1]["phone_ref"] != meta[2]["phone_ref"]  # one number, two spellings
    assert meta[1]["customer_ref"] is None
    stored = repr(service.sql("SELECT * FROM calls WHERE id IN (:a, :b, :c)", a=ids[0], b=ids[1], c=ids[2]))
    for clear in ("701234567", "70-123", "cu-1001", "CU-1001", "9999999"):
        assert clear not in stored
    feed = [json.loads(x) for x in admin.get("/v1/feeds/daily", params={"date": "2026-11-22"}).text.splitlines()]
    assert {r["call_id"]: r["phone_ref"] for r in feed if r["call_id"] in ids} == {i: m["phone_ref"] for i, m in zip(ids, meta)}
    bad = admin.post("/v1/calls", files={"files": ("c.wav", stereo)}, data={"customer_phone": "call me maybe"})
    assert bad.status_code == 422 and "customer_phone" in bad.json()["error"]["message"]

    reader = new_key(admin, "subject-reader", "read")
    with service.client(reader) as c:
        assert c.delete("/v1/subjects/+46701234567").status_code == 403
    gone = admin.delete("/v1/subjects/+46 70 123 45 67")
    assert gone.status_code == 200, gone.text
    report = gone.json()
    assert report["calls_erased"] == 2 and sorted(report["call_ids"]) == sorted(ids[:2]) and report["matched_as"] == ["phone"]
    assert [admin.get(f"/v1/calls/{i}").status_code for i in ids] == [404, 404, 200]  # the other customer stays
    assert admin.delete("/v1/subjects/+46701234567").status_code == 404
    assert admin.delete("/v1/subjects/cu-2002", params={"kind": "phone"}).status_code == 422
    by_id = admin.delete("/v1/subjects/cu-2002", params={"kind": "customer_id"}).json()
    assert by_id["call_ids"] == [ids[2]] and by_id["matched_as"] == ["customer_id"]


def test_access_log_records_who_read_which_transcript_or_audio(service, admin, analysed_call):
    from datetime import datetime, timedelta, timezone

    ref, _ = analysed_call
    cid = ref["id"]
    reader = new_key(admin, "access-auditor", "read")
    with service.client(reader) as c:
        for _ in range(3):  # one read a minute is logged, however many requests it takes
            assert c.get(f"/v1/calls/{cid}/transcript").status_code == 200
        assert c.get(f"/v1/calls/{cid}/audio", headers={"Range": "bytes=0-99"}).status_code == 206
        assert c.get(f"/v1/calls/{cid}/audio").status_code == 200
        assert c.get(f"/v1/calls/{cid}").status_code == 200  # scores and metadata: not a transcript read
        assert c.get("/v1/access-log").status_code == 403  # admins only
    entries = admin.get("/v1/access-log", params={"call_id": cid}).json()["entries"]
    mine = sorted(e["resource"] for e in entries if e["key_name"] == "access-auditor")
    assert mine == ["audio", "transcript"]
    assert all(e["call_id"] == cid and e["at"].endswith("+00:00") for e in entries)
    # its own retention (30 days here, swept every second)
    engine = create_engine(service.database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO access_log (at, api_key_id, key_name, call_id, resource) VALUES (:t, 1, 'old', :c, 'audio')"),
                     {"t": datetime.now(timezone.utc) - timedelta(days=40), "c": cid})
    engine.dispose()
    deadline = time.time() + 20
    while time.time() < deadline and any(e["key_name"] == "old" for e in admin.get("/v1/access-log").json()["entries"]):
        time.sleep(0.5)
    assert not any(e["key_name"] == "old" for e in admin.get("/v1/access-log").json()["entries"])
    assert any(e["key_name"] == "access-auditor" for e in admin.get("/v1/access-log").json()["entries"])


def test_retention_purges_old_calls(service, admin):
    """Retention (3650 days here, swept every second): an upload recorded before the retention
    window is refused (it would have to be erased at once); a finished call whose call time falls out of the window is erased by
    the server's own sweep; an admin purge takes an explicit age; newer calls stay."""
    stereo = (SAMPLES / "stereo_diarization.wav").read_bytes()
    old = admin.post("/v1/calls", files={"files": ("old.wav", stereo)}, data={"recorded_at": "2006-01-02T03:04:05Z"})
    assert old.status_code == 422 and "retention" in old.json()["error"]["message"]
    fresh = admin.post("/v1/calls", files={"files": ("fresh.wav", stereo)}, data={"external_id": "retention-fresh"})
    fresh_id = fresh.json()["calls"][0]["id"]
    assert wait_done(admin, fresh_id)["status"] == "done"
    recent = admin.post("/v1/calls", files={"files": ("recent.wav", stereo)},
                        data={"recorded_at": "2025-11-01T00:00:00Z", "team": "retention"})
    recent_id = recent.json()["calls"][0]["id"]
    wait_done(admin, recent_id)
    # ten years and a day pass for the fresh call (its call time is moved back in the database)
    with create_engine(service.database_url).begin() as conn:
        conn.execute(text("UPDATE calls SET recorded_at = :t WHERE id = :c"), {"t": "2006-01-02 03:04:05", "c": fresh_id})
    deadline = time.time() + 120
    while admin.get(f"/v1/calls/{fresh_id}").status_code != 404:
        assert time.time() < deadline, "the retention sweep never erased the old call"
        time.sleep(0.5)
    assert admin.get(f"/v1/calls/{recent_id}").status_code == 200
    purged = admin.post("/v1/admin/purge", params={"older_than_days": 300}).json()
    assert recent_id in purged["call_ids"] and purged["older_than_days"] == 300
    assert admin.get(f"/v1/calls/{recent_id}").status_code == 404
    assert service.sql("SELECT count(*) FROM jobs WHERE call_id IN (:a, :b)", a=fresh_id, b=recent_id) == [(0,)]


def test_metrics(service, admin):
    admin.get("/v1/calls", params={"limit": 1})
    body = httpx.get(f"{service.base}/metrics").text
    assert 'callscope_http_requests_total{method="GET",route="/v1/calls",status="200"}' in body
    done = next(line for line in body.splitlines() if line.startswith('callscope_jobs{status="done"}'))
    assert float(done.split()[-1]) >= 1
    assert "callscope_queue_oldest_age_seconds" in body and 'callscope_http_request_duration_seconds_bucket{' in body
