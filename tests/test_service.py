"""The service as clients use it: a real uvicorn server on 127.0.0.1, real SQLite, real
worker processes, real recordings."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from benchmarks.reference import AUDIO

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "callscope.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_ready(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError("server did not become ready")


def _wait_done(base: str, call_id: str, timeout: float = 240) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = httpx.get(f"{base}/v1/calls/{call_id}", timeout=10).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.5)
    raise TimeoutError(f"call {call_id} still {body['status']}")


def _env(data_dir: Path, **extra: str) -> dict:
    env = dict(os.environ, CALLSCOPE_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("service")
    port = _free_port()
    proc = _start(["serve", "--port", str(port)], _env(data, CALLSCOPE_MAX_UPLOAD_MB="1", CALLSCOPE_LEASE_S="10"))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc)
        yield base, data
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_upload_poll_scores(server):
    base, _ = server
    with open(SAMPLES / "pyannote_sample_mulaw_8k.wav", "rb") as f:
        r = httpx.post(f"{base}/v1/calls", files={"files": ("call.wav", f, "audio/wav")},
                       data={"agent_id": "a-17", "team": "north", "queue": "billing", "external_id": "crm-1",
                             "recorded_at": "2026-11-20T10:00:00Z"}, timeout=60)
    assert r.status_code == 202, r.text
    ref = r.json()["calls"][0]
    assert ref["status"] == "queued" and ref["status_url"] == f"/v1/calls/{ref['id']}" and not ref["existing"]
    body = _wait_done(base, ref["id"])
    assert body["status"] == "done" and body["progress"] == 1.0, body
    assert body["metadata"]["agent_id"] == "a-17" and body["metadata"]["queue"] == "billing"
    assert body["escalation"] in ("green", "yellow", "orange", "red")
    assert body["scores"]["call"]["escalation"]["value"] == body["escalation"]
    assert len(body["scores"]["speakers"]) == 2
    transcript = httpx.get(f"{base}/v1/calls/{ref['id']}/transcript").json()
    assert transcript["file"] == "call.wav" and len(transcript["utterances"]) > 3
    assert "chicago" in " ".join(u["text"] for u in transcript["utterances"]).lower()
    timeline = httpx.get(f"{base}/v1/calls/{ref['id']}/timeline").json()
    assert len(timeline["timeline"]) == 2
    audio = httpx.get(f"{base}/v1/calls/{ref['id']}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == (SAMPLES / "pyannote_sample_mulaw_8k.wav").read_bytes()

    # the same content with the same external_id is the same call
    with open(SAMPLES / "pyannote_sample_mulaw_8k.wav", "rb") as f:
        again = httpx.post(f"{base}/v1/calls", files={"files": ("renamed.wav", f)}, data={"external_id": "crm-1"}, timeout=60)
    assert again.status_code == 202 and again.json()["calls"][0] == {**ref, "status": "done", "existing": True}


def test_bulk_upload_every_call_ends_done(server):
    base, data = server
    n = 6
    files = [("files", (f"bulk{i}.wav", (SAMPLES / "stereo_diarization.wav").read_bytes(), "audio/wav")) for i in range(n)]
    r = httpx.post(f"{base}/v1/calls", files=files, data={"team": "bulk"}, timeout=60)
    assert r.status_code == 202
    ids = [c["id"] for c in r.json()["calls"]]
    assert len(set(ids)) == n
    assert all(_wait_done(base, i)["status"] == "done" for i in ids)
    engine = create_engine(f"sqlite:///{data / 'callscope.db'}")
    with engine.connect() as conn:
        jobs = conn.execute(text("SELECT call_id, status FROM jobs WHERE call_id IN (%s)" % ",".join(f"'{i}'" for i in ids))).all()
    assert sorted(c for c, _ in jobs) == sorted(ids) and {s for _, s in jobs} == {"done"}
    # content-addressed: six uploads of the same bytes are stored once
    assert len(list((data / "audio").rglob("*"))) - len([p for p in (data / "audio").rglob("*") if p.is_dir()]) <= 3


def test_bad_uploads_get_json_errors_and_store_nothing(server, tmp_path):
    base, data = server
    before = sorted(p.name for p in (data / "audio").rglob("*") if p.is_file())
    notes = httpx.post(f"{base}/v1/calls", files={"files": ("notes.wav", b"agent notes, not audio" * 10)}, timeout=30)
    assert notes.status_code == 415
    assert notes.json()["error"]["details"][0] == {"file": "notes.wav", "status": 415,
                                                     "reason": "not an audio file (WAV, MP3, FLAC, Ogg/Opus, M4A)"}
    big = httpx.post(f"{base}/v1/calls", files={"files": ("jfk.flac", (SAMPLES / "jfk.flac").read_bytes())}, timeout=30)
    assert big.status_code == 413 and "limit of 1 MB" in big.json()["error"]["message"]
    empty = httpx.post(f"{base}/v1/calls", files={"files": ("empty.wav", b"")}, timeout=30)
    assert empty.status_code == 400
    # one bad file in a bulk upload: nothing is taken, and the good file is named as fine by omission
    mixed = httpx.post(f"{base}/v1/calls", files=[("files", ("ok.wav", (SAMPLES / "stereo_diarization.wav").read_bytes())),
                                                  ("files", ("../../etc/passwd", b"root:x:0:0"))], timeout=30)
    assert mixed.status_code == 415 and [d["file"] for d in mixed.json()["error"]["details"]] == ["passwd"]
    assert sorted(p.name for p in (data / "audio").rglob("*") if p.is_file()) == before
    missing = httpx.get(f"{base}/v1/calls/does-not-exist")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "no call does-not-exist"
    bad_map = httpx.post(f"{base}/v1/calls", files={"files": ("x.wav", (SAMPLES / "stereo_diarization.wav").read_bytes())},
                         data={"channel_map": "boss,customer"}, timeout=30)
    assert bad_map.status_code == 422 and bad_map.json()["error"]["message"] == "invalid request"


def test_killed_worker_job_is_reclaimed_and_finished(tmp_path):
    """kill -9 a worker in the middle of a long call: the lease runs out, another worker takes
    the job and finishes it; the call ends done, analysed once more, never lost or doubled."""
    port = _free_port()
    env = _env(tmp_path, CALLSCOPE_LEASE_S="3")
    api = _start(["serve", "--port", str(port), "--no-worker"], env)
    base = f"http://127.0.0.1:{port}"
    workers = []
    try:
        _wait_ready(base, api)
        call = AUDIO / "spokenwoz" / "MUL1011.opus"
        with open(call, "rb") as f:
            call_id = httpx.post(f"{base}/v1/calls", files={"files": ("MUL1011.opus", f)}, timeout=60).json()["calls"][0]["id"]
        first = _start(["worker"], env)
        workers.append(first)
        deadline = time.time() + 180
        while time.time() < deadline:
            body = httpx.get(f"{base}/v1/calls/{call_id}").json()
            if body["status"] == "running" and body["stage"] in ("vad", "asr"):
                break
            time.sleep(0.2)
        else:
            raise TimeoutError("the first worker never started the job")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert httpx.get(f"{base}/v1/calls/{call_id}").json()["status"] == "running"  # not done by a dead worker
        workers.append(_start(["worker"], env))
        body = _wait_done(base, call_id)
        assert body["status"] == "done", body
        engine = create_engine(f"sqlite:///{tmp_path / 'callscope.db'}")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, attempts FROM jobs WHERE call_id = :c"), {"c": call_id}).all()
        assert rows == [("done", 2)]
    finally:
        for p in workers + [api]:
            if p.poll() is None:
                p.kill()
            p.wait(10)


def test_list_feed_aggregates_and_erasure(server):
    base, data = server
    stereo = (SAMPLES / "stereo_diarization.wav").read_bytes()
    ids = []
    for i, when in enumerate(["2026-11-21T09:00:00Z", "2026-11-21T15:30:00Z", "2026-11-20T12:00:00Z"]):
        r = httpx.post(f"{base}/v1/calls", files={"files": (f"f{i}.wav", stereo)},
                       data={"team": "t-feed", "agent_id": f"agent-{i % 2}", "recorded_at": when, "external_id": f"feed-{i}"},
                       timeout=60)
        ids.append(r.json()["calls"][0]["id"])
    assert all(_wait_done(base, i)["status"] == "done" for i in ids)

    first = httpx.get(f"{base}/v1/calls", params={"team": "t-feed", "limit": 2}).json()
    second = httpx.get(f"{base}/v1/calls", params={"team": "t-feed", "limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(first["calls"]) == 2 and len(second["calls"]) == 1 and second["next_cursor"] is None
    assert sorted(c["id"] for c in first["calls"] + second["calls"]) == sorted(ids)
    day = httpx.get(f"{base}/v1/calls", params={"team": "t-feed", "from": "2026-11-21", "to": "2026-11-21"}).json()
    assert sorted(c["id"] for c in day["calls"]) == sorted(ids[:2])
    assert httpx.get(f"{base}/v1/calls", params={"cursor": "garbage"}).status_code == 400

    from callscope.api.feed import FEED_COLUMNS

    csv_response = httpx.get(f"{base}/v1/feeds/daily", params={"date": "2026-11-21", "format": "csv"})
    csv_text = csv_response.text
    lines = csv_text.strip().splitlines()
    assert lines[0].split(",") == list(FEED_COLUMNS)
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(ids[:2])
    import json as _json

    rows = [_json.loads(x) for x in httpx.get(f"{base}/v1/feeds/daily", params={"date": "2026-11-21"}).text.splitlines()]
    assert [r["call_id"] for r in rows] == [ids[0], ids[1]]  # ordered by call time
    assert all(r["escalation"] in ("green", "yellow", "orange", "red") and r["duration_s"] == 5.0 for r in rows)
    assert rows[0]["call_time"] == "2026-11-21T09:00:00+00:00"
    cli = subprocess.run([sys.executable, "-m", "callscope.cli", "feed", "--date", "2026-11-21", "--format", "csv"],
                         env=_env(data), capture_output=True, timeout=120)
    assert cli.returncode == 0 and cli.stdout == csv_response.content

    agg = httpx.get(f"{base}/v1/aggregates", params={"group_by": "team", "from": "2026-11-21", "to": "2026-11-21"}).json()
    g = agg["groups"]["t-feed"]
    assert g["calls"] == 2 and sum(g["escalation_share"].values()) == pytest.approx(1.0)
    assert g["previous_mean_customer_sentiment"] is not None  # the 20th is the previous period
    assert g["trend"] == pytest.approx(g["mean_customer_sentiment"] - g["previous_mean_customer_sentiment"], abs=1e-3)
    by_day = httpx.get(f"{base}/v1/aggregates", params={"group_by": "day", "from": "2026-11-20", "to": "2026-11-21"}).json()
    assert by_day["groups"]["2026-11-21"]["calls"] >= 2 and by_day["groups"]["2026-11-20"]["calls"] >= 1
    assert httpx.get(f"{base}/v1/aggregates", params={"group_by": "planet", "from": "2026-11-21", "to": "2026-11-21"}).status_code == 422

    # erasure: a call whose audio nobody else holds takes its audio with it
    unique = (AUDIO / "librivox" / "sense_and_sensibility_01_austen_64kb-0880.wav").read_bytes()
    cid = httpx.post(f"{base}/v1/calls", files={"files": ("erase-me.wav", unique)}, timeout=60).json()["calls"][0]["id"]
    _wait_done(base, cid)
    gone = httpx.delete(f"{base}/v1/calls/{cid}").json()
    assert gone == {"deleted": cid, "audio_deleted": True, "transcript_deleted": True, "scores_deleted": True}
    assert httpx.get(f"{base}/v1/calls/{cid}").status_code == 404
    assert httpx.get(f"{base}/v1/calls/{cid}/transcript").status_code == 404
    import hashlib

    sha = hashlib.sha256(unique).hexdigest()
    assert not (data / "audio" / sha[:2] / sha[2:4] / sha).exists()
    shared = httpx.delete(f"{base}/v1/calls/{ids[2]}").json()
    assert shared["audio_deleted"] is False  # other calls hold the same recording
    assert httpx.get(f"{base}/v1/calls/{ids[0]}/audio").content == stereo
