"""``callscope backfill`` on a real Ray cluster (issue 14): a head and a second node on
127.0.0.1 (``ray start --address``, 1 CPU each), 10 real shared recordings (FLEURS de/fr/es,
NST Danish, NPSC Norwegian), one node's actor killed with SIGKILL mid-run. Every recording ends
analysed exactly once, in files and in the service's database (PostgreSQL, audio in a separate
store directory), with the same transcript and scores as ``callscope analyze``."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.support.ray_cluster import LocalRayCluster
from benchmarks.reference import DATA
from tests.support.server import Service, running_service, service_env, wait_done
from tests.support.postgres import new_postgres_database

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

#: every other shared clip: ten, in Danish, German, Spanish, French and Norwegian (each clip is
#: analysed once per test: more would cost CI time, not show more)
CLIPS = sorted(p for p in (DATA / "multilingual" / "audio").iterdir() if p.suffix in (".ogg", ".wav", ".mp3"))[::2]
N = len(CLIPS)
CLI = [sys.executable, "-m", "callscope.cli"]


@pytest.fixture(scope="module")
def cluster():
    with LocalRayCluster(nodes=2, cpus=1) as c:
        yield c


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    """The shared clips, plus a file that is not audio (it must fail alone, with its reason)."""
    assert len(CLIPS) >= 10
    src = tmp_path_factory.mktemp("recordings")
    for clip in CLIPS:
        shutil.copyfile(clip, src / clip.name)
    (src / "nested").mkdir()
    (src / "nested" / "broken.wav").write_bytes(b"RIFF" + os.urandom(4000))
    return src


@pytest.fixture(scope="module")
def analysed(recordings, tmp_path_factory) -> dict[str, dict]:
    """What `callscope analyze` makes of the same files in one process: file name -> result
    (timings aside)."""
    out = tmp_path_factory.mktemp("analyze")
    env = service_env(tmp_path_factory.mktemp("analyze-data"))
    subprocess.run([*CLI, "analyze", *[str(recordings / c.name) for c in CLIPS], "--out", str(out), "-q"],
                   env=env, capture_output=True, text=True, timeout=900)
    results = {}
    for path in out.glob("*.json"):
        result = json.loads(path.read_text())
        result.pop("timings_s")
        results[result["file"]] = result
    assert len(results) == len(CLIPS)
    return results


def _run_and_kill(cluster: LocalRayCluster, args: list[str], env: dict, done_count, log: Path) -> subprocess.Popen:
    """Start ``callscope backfill args``; once ``done_count()`` reaches 2, SIGKILL the actor on
    the second node (it holds a recording then: each actor always holds one while work is left)."""
    with log.open("w") as out:
        proc = subprocess.Popen([*CLI, "backfill", *args], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 600
    killed = None
    while time.time() < deadline and proc.poll() is None:
        if done_count() >= 2:
            victims = cluster.actor_processes(1, "CallAnalyzer")
            if victims:
                victims[0].send_signal(signal.SIGKILL)
                killed = victims[0].pid
                break
        time.sleep(0.2)
    assert killed, f"no actor on the second node to kill: {log.read_text()[-3000:]}"
    proc.wait(timeout=900)
    return proc


def _without_timings(result_json: str) -> dict:
    result = json.loads(result_json)
    result.pop("timings_s")
    return result


def test_a_backfill_to_files_survives_a_killed_node_worker(cluster, recordings, analysed, tmp_path):
    out = tmp_path / "out"
    env = {**service_env(tmp_path / "data"), **cluster.env_for_driver()}
    proc = _run_and_kill(cluster, [str(recordings), "--ray", cluster.address, "--actors", "2", "--out", str(out),
                                   "--report", str(tmp_path / "report.json")],
                         env, lambda: len([p for p in out.glob("calls/*/*.json") if not p.name.endswith(".source.json")]),
                         tmp_path / "backfill.log")
    log = (tmp_path / "backfill.log").read_text()
    assert proc.returncode == 1, log  # the broken file failed; everything else went through
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["listed"] == N + 1 and report["analysed"] == N and report["failed"] == 1, report
    assert report["actor_deaths"] >= 1 and report["retried"] >= 1, report  # it was killed holding a recording
    assert {a["node"] for a in report["actors"]} and len(report["actors"]) == 2
    [failure] = report["failures"]
    assert failure["origin"].endswith("broken.wav") and "not a readable audio file" in failure["reason"]
    assert failure["attempts"] == 1 and "broken.wav" in log and "not a readable audio file" in log

    results = [p for p in out.glob("calls/*/*.json") if not p.name.endswith(".source.json")]
    assert len(results) == N  # one file per recording: none lost, none twice
    by_file = {}
    for path in results:
        result = _without_timings(path.read_text())
        assert result["file"] not in by_file
        by_file[result["file"]] = result
    assert by_file == analysed  # same transcripts, words, speakers, sentiment and scores as `callscope analyze`

    feed = pq.read_table(out / "scores.parquet").to_pylist()
    assert len(feed) == N and len({r["key"] for r in feed}) == N
    assert {Path(r["source"]).name for r in feed} == set(analysed)
    assert all(r["language"] == analysed[Path(r["source"]).name]["language"] for r in feed)

    again = subprocess.run([*CLI, "backfill", str(recordings), "--ray", cluster.address, "--out", str(out),
                            "--report", str(tmp_path / "again.json")], env=env, capture_output=True, text=True,
                           timeout=600)
    report = json.loads((tmp_path / "again.json").read_text())
    assert report["skipped"] == N and report["analysed"] == 0 and report["failed"] == 1, again.stderr
    assert len(pq.read_table(out / "scores.parquet")) == N


def test_a_backfill_into_the_service_survives_a_killed_node_worker(cluster, recordings, analysed, tmp_path,
                                                                    postgres_admin_url):
    database = new_postgres_database(postgres_admin_url)
    store = tmp_path / "shared-audio"  # as a shared file system mounted on every machine
    env = {**service_env(tmp_path / "data", database, CALLSCOPE_AUDIO_STORE=str(store)), **cluster.env_for_driver()}
    manifest = tmp_path / "calls.csv"
    with manifest.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "external_id", "agent_id", "team", "queue", "recorded_at", "customer_id"])
        for i, clip in enumerate(CLIPS):
            w.writerow([recordings / clip.name, f"hist-{i:03d}", f"agent-{i % 3}", "nordic", "support",
                        f"2026-10-{1 + i:02d}T09:30:00+02:00", f"cust-{i}" if i % 5 == 0 else ""])
        w.writerow([recordings / "nested" / "broken.wav", "hist-broken", "agent-0", "nordic", "support", "", ""])
        w.writerow([recordings / CLIPS[0].name, "hist-again", "", "", "", "", ""])
    with manifest.open("a", newline="") as f:  # a row the upload would refuse: reported, not analysed
        csv.writer(f).writerow([recordings / CLIPS[1].name, "hist-bad", "", "", "", "yesterday", ""])

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    engine = create_engine(database)

    def stored() -> int:
        try:
            with engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM calls")).scalar_one()
        except ProgrammingError:  # the backfill has not made the tables yet
            return 0

    proc = _run_and_kill(cluster, [str(manifest), "--ray", cluster.address, "--actors", "2", "--into-service",
                                   "--report", str(tmp_path / "report.json")], env, stored, tmp_path / "backfill.log")
    assert proc.returncode == 1, (tmp_path / "backfill.log").read_text()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["listed"] == N + 3 and report["analysed"] == N + 1 and report["actor_deaths"] >= 1, report
    assert sorted(f["origin"] for f in report["failures"]) == [f"calls.csv:{N + 2}", f"calls.csv:{N + 4}"]
    assert any("recorded_at" in f["reason"] for f in report["failures"])

    with engine.connect() as conn:
        calls = conn.execute(text("SELECT id, sha256, external_id, agent_id, team, status, result_json, recorded_at, "
                                  "customer_ref, audio_key FROM calls")).mappings().all()
        jobs = conn.execute(text("SELECT call_id, status FROM jobs")).all()
        refs = dict(conn.execute(text("SELECT key, refs FROM audio_files")).all())
    assert len(calls) == N + 1 and len({(c["sha256"], c["external_id"]) for c in calls}) == N + 1  # none twice
    assert all(c["status"] == "done" for c in calls) and sorted(j.status for j in jobs) == ["done"] * (N + 1)
    assert len(jobs) == len({j.call_id for j in jobs}) == N + 1
    by_ext = {c["external_id"]: c for c in calls}
    for i, clip in enumerate(CLIPS):
        call = by_ext[f"hist-{i:03d}"]
        assert call["result_json"].startswith("cs1:")  # sealed under the call's key (crypto-shredding)
        opened = Service(tmp_path / "data", database).opened(call["id"], "result_json")
        assert _without_timings(opened) == analysed[clip.name]  # as `callscope analyze` has it
        assert call["agent_id"] == f"agent-{i % 3}" and call["team"] == "nordic"
        assert call["recorded_at"].hour == 7  # 09:30+02:00, stored in UTC
        assert (call["customer_ref"] is not None) == (i % 5 == 0) and call["customer_ref"] != f"cust-{i}"
    # the same bytes under a second external id: two calls holding one stored file
    assert refs[by_ext["hist-000"]["audio_key"]] == 2 and by_ext["hist-again"]["audio_key"] == by_ext["hist-000"]["audio_key"]
    assert sum(refs.values()) == N + 1 and all((store / k).is_file() for k in refs)
    assert not (tmp_path / "data" / "audio").exists() or not any((tmp_path / "data" / "audio").rglob("*.*"))

    # a second run finds everything stored and analyses nothing again
    again = subprocess.run([*CLI, "backfill", str(manifest), "--ray", cluster.address, "--into-service", "--report",
                            str(tmp_path / "again.json")], env=env, capture_output=True, text=True, timeout=600)
    report = json.loads((tmp_path / "again.json").read_text())
    assert report["skipped"] == N + 1 and report["analysed"] == 0 and report["failed"] == 2, again.stderr
    assert stored() == N + 1
    engine.dispose()

    # the service serves the backfilled calls from the shared store, like uploaded ones
    with running_service(tmp_path / "data", database, CALLSCOPE_AUDIO_STORE=str(store)) as svc:
        with svc.client(svc.key) as admin:
            call = by_ext["hist-003"]
            got = admin.get(f"/v1/calls/{call['id']}").json()
            assert got["status"] == "done" and got["external_id"] == "hist-003"
            audio = admin.get(f"/v1/calls/{call['id']}/audio")
            assert audio.status_code == 200 and audio.content == (recordings / CLIPS[3].name).read_bytes()
            listed = admin.get("/v1/calls", params={"team": "nordic", "limit": 100}).json()
            assert len(listed["calls"]) == N  # hist-again has no team



def test_service_workers_on_ray_drain_the_queue_and_survive_a_killed_worker(cluster, recordings, analysed, tmp_path,
                                                                          postgres_admin_url):
    """`callscope worker --ray`: uploads to an API server with no worker of its own are analysed
    by worker actors on both nodes; one is killed with SIGKILL mid-run, its job is taken over
    when its lease runs out, and every call ends done once, as `callscope analyze` has it."""
    database = new_postgres_database(postgres_admin_url)
    store = str(tmp_path / "shared-audio")
    clips = CLIPS[:6]
    with running_service(tmp_path / "data", database, "--no-worker", CALLSCOPE_AUDIO_STORE=store,
                         CALLSCOPE_LEASE_S="5") as svc, svc.client(svc.key) as admin:
        ids = {admin.post("/v1/calls", files={"files": (c.name, (recordings / c.name).read_bytes())})
               .json()["calls"][0]["id"]: c.name for c in clips}
        env = {**service_env(tmp_path / "data", database, CALLSCOPE_AUDIO_STORE=store, CALLSCOPE_LEASE_S="5"),
               **cluster.env_for_driver()}
        log = tmp_path / "workers.log"
        with log.open("w") as out:
            proc = subprocess.Popen([*CLI, "worker", "--ray", cluster.address, "-n", "2"], env=env, stdout=out,
                                    stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.time() + 300
            while time.time() < deadline and not svc.sql("SELECT id FROM jobs WHERE status = 'done'"):
                assert proc.poll() is None, log.read_text()
                time.sleep(0.2)
            # kill -9 a worker actor while it holds a job (not between two jobs, and not in the job's
            # last stages, where it could finish the job before the signal lands)
            victim, victim_job = None, None
            deadline = time.time() + 300
            while time.time() < deadline and victim is None:
                actors = {p.pid: p for node in (0, 1) for p in cluster.actor_processes(node, "QueueWorker")}
                for job_id, worker_id in svc.sql("SELECT j.id, j.worker_id FROM jobs j JOIN calls c ON c.id = j.call_id "
                                                 "WHERE j.status = 'running' AND c.progress < 0.5"):
                    pid = int(worker_id.rsplit(":", 1)[1]) if worker_id and worker_id.startswith("ray:") else None
                    if pid in actors:
                        victim, victim_job = actors[pid], job_id
                        break
                time.sleep(0.1)
            assert victim is not None, log.read_text()
            victim.send_signal(signal.SIGKILL)
            done = {cid: wait_done(admin, cid, timeout=600) for cid in ids}
            assert all(d["status"] == "done" for d in done.values()), (
                [(d["status"], d.get("stage"), d.get("error")) for d in done.values()],
                svc.sql("SELECT call_id, status, attempts, worker_id, last_error FROM jobs"), log.read_text()[-3000:])
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=180)
        rows = svc.sql("SELECT c.id, c.result_json, j.worker_id, j.attempts FROM calls c JOIN jobs j ON j.call_id = c.id")
    text = log.read_text()
    assert "ready on node" in text and "died" in text, text
    assert len(rows) == len(clips) and all(r.worker_id.startswith("ray:") for r in rows)
    attempts = svc.sql("SELECT attempts FROM jobs WHERE id = :j", j=victim_job)[0][0]
    assert attempts >= 2  # the killed worker's job, run again by another
    for r in rows:
        assert _without_timings(svc.opened(r.id, "result_json")) == analysed[ids[r.id]]



def test_a_backfill_finishes_on_the_nodes_left_when_a_whole_node_is_lost(cluster, recordings, analysed, tmp_path):
    """The second node's raylet and its workers are killed (a machine gone): its actor cannot be
    restarted (the head's one CPU is taken), so the recordings go to the head's actor, and the
    run ends without waiting for the lost node. The last cluster test: the node stays gone."""
    import psutil

    out = tmp_path / "out"
    env = {**service_env(tmp_path / "data"), **cluster.env_for_driver()}
    subset = tmp_path / "subset"
    subset.mkdir()
    for clip in CLIPS[:8]:
        (subset / clip.name).symlink_to(recordings / clip.name)
    log = tmp_path / "backfill.log"
    with log.open("w") as f:
        proc = subprocess.Popen([*CLI, "backfill", str(subset), "--ray", cluster.address, "--actors", "2", "--out",
                                 str(out), "--report", str(tmp_path / "report.json")], env=env, stdout=f,
                                stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (cluster.actor_processes(1, "CallAnalyzer")
                                          and list(out.glob("calls/*/*.source.json"))):
        assert proc.poll() is None, log.read_text()
        time.sleep(0.2)
    raylet = psutil.Process(cluster.raylet_pid(1))
    for p in [*raylet.children(recursive=True), raylet]:
        p.kill()
    proc.wait(timeout=600)
    assert proc.returncode == 0, log.read_text()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["analysed"] == 8 and report["failed"] == 0 and report["actor_deaths"] >= 1, report
    stored = [p for p in out.glob("calls/*/*.json") if not p.name.endswith(".source.json")]
    assert sorted(_without_timings(p.read_text())["file"] for p in stored) == sorted(c.name for c in CLIPS[:8])


def test_a_manifest_is_checked_row_by_row_like_an_upload(recordings, tmp_path):
    """Relative paths are taken from the manifest's folder; a bad row is a failure of its own."""
    import pyarrow as pa

    from callscope.backfill.source import SourceError, read_source

    manifest = recordings / "manifest.parquet"
    pq.write_table(pa.Table.from_pylist([
        {"path": CLIPS[0].name, "external_id": "a-1", "channel_map": "customer,agent", "language": "fr"},
        {"path": "nested/broken.wav", "external_id": "a-2", "channel_map": None, "language": None},
        {"path": "missing.wav", "external_id": "a-3", "channel_map": None, "language": None},
        {"path": CLIPS[1].name, "external_id": "a-4", "channel_map": "caller", "language": None},
        {"path": CLIPS[2].name, "external_id": "a-5", "channel_map": None, "language": "tlh"},
    ]), manifest)
    found, problems = read_source(manifest)
    assert [r.path for r in found] == [recordings / CLIPS[0].name, recordings / "nested" / "broken.wav"]
    assert found[0].meta.call_settings().channel_map == ("customer", "agent")
    assert found[0].meta.call_settings().language == "fr" and found[0].origin == "manifest.parquet:1"
    assert [p.origin for p in problems] == ["manifest.parquet:3", "manifest.parquet:4", "manifest.parquet:5"]
    assert "no such file" in problems[0].reason and "channel_map" in problems[1].reason
    assert "language" in problems[2].reason
    manifest.unlink()

    folder, none = read_source(recordings)
    assert len(folder) == N + 1 and not none and all(r.path.is_absolute() for r in folder)
    (tmp_path / "no-path.csv").write_text("file,team\na.wav,x\n")
    with pytest.raises(SourceError, match="'path' column"):
        read_source(tmp_path / "no-path.csv")


@pytest.mark.parametrize("args, message", [
    (["/nonexistent/archive", "--out", "x"], "no such directory or manifest"),
    (["{notes}", "--out", "x"], "give a directory, or a manifest ending in .csv or .parquet"),
    (["{dir}", "--out", "x", "--into-service"], "give exactly one of --out DIR and --into-service"),
    (["{dir}"], "give exactly one of --out DIR and --into-service"),
])
def test_the_backfill_command_says_what_is_wrong_and_exits_2(tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("not a manifest")
    args = [a.format(notes=tmp_path / "notes.txt", dir=tmp_path) for a in args]
    out = subprocess.run([*CLI, "backfill", *args], env=service_env(tmp_path / "data"), capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 2 and message in " ".join(out.stderr.split()), out.stderr


def test_an_object_store_url_is_refused_at_start_with_the_reason(tmp_path):
    from callscope.service.config import ConfigError, ServiceSettings

    with pytest.raises(ConfigError, match="CALLSCOPE_AUDIO_STORE: .*s3:// are not supported"):
        ServiceSettings.from_env(data_dir=tmp_path, audio_store="s3://calls/audio")
    assert ServiceSettings.from_env(data_dir=tmp_path, audio_store=str(tmp_path / "shared")).audio_dir == tmp_path / "shared"
