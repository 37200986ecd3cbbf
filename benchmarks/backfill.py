"""Backfill throughput (issue 14): audio hours analysed per hour of wall time, on this machine,
the same shared calls each way, one run:

1. ``callscope analyze`` in one process (all cores: CTranslate2's threads);
2. ``callscope backfill --ray local --actors 1`` (one actor, one CPU);
3. ``callscope backfill --ray local --actors 1 --cpus-per-actor 2`` (one actor, both cores);
4. ``callscope backfill --ray local --actors 2`` (two actors, one CPU each).

Each row is end to end, as a user sees it: process start, Ray start, model loading and all. The
per-actor figure (audio seconds over the seconds an actor spent analysing, from the results'
``timings_s``) and the actor's resident memory give the written estimate for a cluster, with the
driver-side costs measured here: hashing, writing a call into the service's database (SQLite
and PostgreSQL), and rebuilding the Parquet feed.

    .venv/bin/python benchmarks/backfill.py [--driver-only]

Prints a table and writes benchmarks/results/backfill.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO, DATA  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CLI = [sys.executable, "-m", "callscope.cli"]
#: The shared calls: phone calls (wideband, 8 kHz G.711, dual-channel Opus), meeting excerpts, and
#: the multilingual clips (FLEURS, NST, NPSC).
CALLS = [AUDIO / "callytics" / "Call01.wav", AUDIO / "callytics" / "CSR01.wav",
         AUDIO / "telephone_codecs" / "Call01_mulaw_8k.wav", AUDIO / "telephone_codecs" / "pyannote_sample_mulaw_8k.wav",
         AUDIO / "pyannote_sample" / "sample.wav", AUDIO / "spokenwoz" / "MUL1011.opus",
         AUDIO / "ami_debug" / "tst00.wav", AUDIO / "ami_debug" / "tst01.wav", AUDIO / "ami_debug" / "dev00.wav",
         AUDIO / "stereo_diarization.wav",
         *sorted(p for p in (DATA / "multilingual" / "audio").iterdir() if p.suffix in (".ogg", ".wav", ".mp3"))]


class PeakRss(threading.Thread):
    """The largest resident memory (MiB) of any process whose command line starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        super().__init__(daemon=True)
        self.prefix, self.peak_mb, self.stop = prefix, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            for p in psutil.process_iter(["cmdline", "memory_info"]):
                cmd = " ".join(p.info["cmdline"] or [])
                if cmd.startswith(self.prefix) and p.info["memory_info"]:
                    self.peak_mb = max(self.peak_mb, p.info["memory_info"].rss / 2**20)


def _timed(cmd: list[str], env: dict, rss_prefix: str) -> tuple[float, float, subprocess.CompletedProcess]:
    watch = PeakRss(rss_prefix)
    watch.start()
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - t0
    watch.stop.set()
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[3:5])} failed ({out.returncode}): {out.stderr[-3000:]}")
    return seconds, watch.peak_mb, out


def _results(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in folder.rglob("*.json")
            if not p.name.endswith(".source.json") and p.name != "report.json"]


def _row(label: str, workers: int, seconds: float, results: list[dict], rss_mb: float) -> dict:
    audio_s = sum(r["duration_s"] for r in results)
    busy = sum(r["timings_s"]["total"] for r in results)
    return {"run": label, "workers": workers, "calls": len(results), "audio_s": round(audio_s, 1),
            "wall_s": round(seconds, 1), "audio_h_per_h": round(audio_s / seconds, 2),
            "per_worker_audio_h_per_h": round(audio_s / busy, 2) if busy else None,
            "asr_share": round(sum(r["timings_s"]["asr"] for r in results) / busy, 3) if busy else None,
            "peak_rss_mb": round(rss_mb)}


def driver_costs(files: list[Path], call01: dict) -> dict:
    """What the driver does per call, measured: hash the recordings; write a call into the
    service's database and audio store (SQLite; PostgreSQL when a server can be started); write
    a call as files (``--out``); write the feed from this run's rows, and rebuild it from the JSON
    files (after a crashed run)."""
    from tests.support.postgres import bin_dir, TempPostgres, new_database
    from callscope.service.config import ServiceSettings
    from callscope.service.intake import UploadMeta
    from callscope.backfill.file_sink import FileSink
    from callscope.backfill.service_sink import ServiceSink
    from callscope.backfill.source import key_of, sha256_of
    from callscope.analysis.schema import CallAnalysis

    t0 = time.perf_counter()
    total = sum(sha256_of(f)[1] for f in files)
    out = {"hash_mb_per_s": round(total / 2**20 / (time.perf_counter() - t0), 1)}
    result = CallAnalysis.model_validate(call01)
    source = AUDIO / "callytics" / "Call01.wav"
    sha, size = sha256_of(source)
    n = 300

    def writes(url: str | None, data: Path) -> float:
        settings = ServiceSettings.from_env(data_dir=data, database_url=url or "")
        sink = ServiceSink(settings)
        start = time.perf_counter()
        for i in range(n):  # the same recording under n external ids: n calls, one stored file
            sink.write(sha, size, source, UploadMeta(external_id=f"bench-{i}", team="t", queue="q"), result)
        return n / (time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as tmp:
        out["service_sqlite_calls_per_s"] = round(writes(None, Path(tmp) / "sqlite"), 1)
        if bin_dir() is not None:
            pg = TempPostgres()
            try:
                out["service_postgresql_calls_per_s"] = round(
                    writes(new_database(pg.start(), "backfill"), Path(tmp) / "pg"), 1)
            finally:
                pg.stop()
        files_n = 3000
        sink = FileSink(Path(tmp) / "files")
        start = time.perf_counter()
        for i in range(files_n):
            meta = UploadMeta(external_id=f"bench-{i}", team="t")
            sink.write(key_of(sha, meta.external_id), sha, source, meta, result)
        out["files_calls_per_s"] = round(files_n / (time.perf_counter() - start), 1)
        start = time.perf_counter()
        sink.write_feed()
        out["feed_rows_per_s_from_run"] = round(files_n / (time.perf_counter() - start), 1)
        sink.feed_path.unlink()
        start = time.perf_counter()
        FileSink(Path(tmp) / "files").write_feed()
        out["feed_rows_per_s_rebuilt_from_json"] = round(files_n / (time.perf_counter() - start), 1)
    return out


def _print_driver(costs: dict) -> None:
    print(f"\ndriver, per call: hashing {costs['hash_mb_per_s']} MB/s; a call written into the service "
          f"{costs['service_sqlite_calls_per_s']}/s (SQLite), {costs.get('service_postgresql_calls_per_s', 'n/a')}/s "
          f"(PostgreSQL); as files {costs['files_calls_per_s']}/s; feed {costs['feed_rows_per_s_from_run']} rows/s "
          f"from the run, {costs['feed_rows_per_s_rebuilt_from_json']} rows/s rebuilt from JSON")


def main() -> None:
    if "--driver-only" in sys.argv:  # measure the driver's costs again, keep the table
        path = RESULTS / "backfill.json"
        saved = json.loads(path.read_text())
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([*CLI, "analyze", str(AUDIO / "callytics" / "Call01.wav"), "--out", tmp, "-q"], check=True,
                           env=dict(os.environ, CALLSCOPE_DATA_DIR=str(Path(tmp) / "data")), capture_output=True)
            saved["driver"] = driver_costs(CALLS, json.loads((Path(tmp) / "Call01.json").read_text()))
        _print_driver(saved["driver"])
        path.write_text(json.dumps(saved, indent=2) + "\n")
        return
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="callscope-backfill-bench-") as tmp:
        tmp = Path(tmp)
        src = tmp / "calls"
        src.mkdir()
        for f in CALLS:
            shutil.copyfile(f, src / f.name)
        env["CALLSCOPE_DATA_DIR"] = str(tmp / "data")
        print(f"{len(CALLS)} shared recordings", flush=True)

        seconds, rss, _ = _timed([*CLI, "analyze", *map(str, sorted(src.iterdir())), "--out", str(tmp / "analyze"), "-q"],
                                 env, f"{sys.executable} -m callscope.cli analyze")
        rows.append(_row("callscope analyze, one process", 1, seconds, _results(tmp / "analyze"), rss))
        print(rows[-1], flush=True)
        for label, flags, workers in (("backfill, 1 actor (1 CPU)", ["--actors", "1"], 1),
                                      ("backfill, 1 actor (2 CPUs)", ["--actors", "1", "--cpus-per-actor", "2"], 1),
                                      ("backfill, 2 actors (1 CPU each)", ["--actors", "2"], 2)):
            out = tmp / label.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
            seconds, rss, _ = _timed([*CLI, "backfill", str(src), "--ray", "local", *flags, "--out", str(out)], env,
                                     "ray::CallAnalyzer")
            rows.append(_row(label, workers, seconds, _results(out / "calls"), rss))
            print(rows[-1], flush=True)
        costs = driver_costs(sorted(src.iterdir()), next(r for r in _results(tmp / "analyze") if r["file"] == "Call01.wav"))

    print(f"\nAudio hours per hour on this machine ({os.cpu_count()} cores), {rows[0]['calls']} shared recordings, "
          f"{rows[0]['audio_s'] / 60:.1f} min of audio, end to end (start, model load, all)")
    print(f"{'run':>34} {'calls':>6} {'wall s':>7} {'audio h/h':>10} {'per worker*':>12} {'ASR share':>10} {'RSS MiB':>8}")
    for r in rows:
        print(f"{r['run']:>34} {r['calls']:>6} {r['wall_s']:>7.1f} {r['audio_h_per_h']:>10.2f} "
              f"{r['per_worker_audio_h_per_h']:>12.2f} {r['asr_share']:>10.3f} {r['peak_rss_mb']:>8}")
    print("* audio seconds over the seconds a worker spent analysing (no start-up, no idle)")
    _print_driver(costs)
    out = RESULTS / "backfill.json"
    out.write_text(json.dumps({"benchmark": "backfill", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                               "cores": os.cpu_count(), "rows": rows, "driver": costs}, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
