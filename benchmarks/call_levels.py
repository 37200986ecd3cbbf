"""Every shared call's level before and after a change of the call-level rules, with its reasons.

Each recording is analysed once by this checkout (cached under ~/.cache/callscope/call_levels);
then its text sentiment, speaker scores and level are computed again from that stored analysis
(:func:`~callscope.scoring.resentiment.resentiment` with the shipped model, no audio) by this
checkout's rules and by another commit's (``--before``: a git ref, checked out for the run into a
temporary worktree, or a checkout's directory), so the only difference between the two columns is
the rules. The recordings: those of ``benchmarks/calls.py``
(Call01 and its µ-law copy, stereo_diarization, the pyannote sample that ``make demo`` shows,
three AMI excerpts, SpokenWOZ MUL1011) and the demo's JFK clip. None has a human level: the
table shows what changed and why, for a person to judge.

    .venv/bin/python benchmarks/call_levels.py --before ca217d3 [--out benchmarks/results/call_levels.json]

``ca217d3`` is the last commit with the call-scores/3 rules (a speaker's means weighed by words).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.calls import cases  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CACHE = Path.home() / ".cache" / "callscope" / "call_levels"


def recordings() -> list[tuple[str, Path]]:
    return [(c.name, c.path) for c in cases()] + [("jfk (demo sample)", ROOT / "samples" / "jfk.flac")]


def analyses() -> list[tuple[str, Path]]:
    """(name, stored analysis JSON) for every recording, analysed now when not cached."""
    out, analyzer = [], None
    CACHE.mkdir(parents=True, exist_ok=True)
    for name, path in recordings():
        key = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        stored = CACHE / f"{path.stem}-{key}.json"
        if not stored.is_file():
            if analyzer is None:
                from callscope.analysis.pipeline import Analyzer, build_analysis_settings

                analyzer = Analyzer(build_analysis_settings())
            stored.write_text(analyzer.analyze(path).model_dump_json())
            print(f"analysed {name}", flush=True)
        out.append((name, stored))
    return out


SCORE = """
import json, sys
from callscope.analysis.schema import CallAnalysis
from callscope.scoring.resentiment import resentiment
from callscope.scoring.sentiment import SentimentModel
model, rows = SentimentModel(), []
for name, path in json.loads(sys.argv[1]):
    r = resentiment(CallAnalysis.model_validate_json(open(path).read()), model)
    cs = r.call_scores
    c = next((s for s in r.speaker_scores if s.role == "customer"), None)
    v = lambda s: None if s is None or s.value is None else round(s.value, 3)
    rows.append({"call": name, "level": cs.escalation.value if cs else None, "reasons": cs.reasons[:2] if cs else [],
                 "customer_mean": v(c.sentiment_mean) if c else None, "customer_start": v(c.sentiment_start) if c else None,
                 "customer_end": v(c.sentiment_end) if c else None, "rules": cs.versions.get("call_scores") if cs else None})
print(json.dumps(rows))
"""


def score(repo: Path, stored: list[tuple[str, Path]]) -> list[dict]:
    """The rows ``repo``'s rules give the stored analyses (run in a child with ``callscope`` from ``repo``)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "callscope").symlink_to(repo)
        env = {**os.environ, "PYTHONPATH": tmp}
        done = subprocess.run([sys.executable, "-c", SCORE, json.dumps([(n, str(p)) for n, p in stored])],
                              env=env, capture_output=True, text=True, timeout=1800, cwd=tmp)
    if done.returncode:
        raise SystemExit(f"scoring with {repo} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="a git ref or a checkout's directory: its rules give the 'before' column")
    ap.add_argument("--out", type=Path, default=RESULTS / "call_levels.json")
    args = ap.parse_args()
    stored = analyses()
    if Path(args.before).is_dir():
        before = score(Path(args.before).resolve(), stored)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.before], check=True)
            try:
                before = score(tree, stored)
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    after = score(ROOT, stored)
    print(f"{'call':24} {'level':15} {'customer mean':16} {'customer end':16} reason now")
    for b, a in zip(before, after):
        def pair(key: str) -> str:
            return f"{b[key]} -> {a[key]}" if b[key] != a[key] else f"{a[key]}"
        print(f"{a['call'][:24]:24} {pair('level'):15} {pair('customer_mean'):16} {pair('customer_end'):16} "
              f"{(a['reasons'] or [''])[0][:90]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "call_levels", "date": time.strftime("%Y-%m-%d"),
                                    "before": {"checkout": args.before, "rules": before[0]["rules"] if before else None},
                                    "after": {"rules": after[0]["rules"] if after else None},
                                    "calls": [{"call": a["call"], "before": b, "after": a} for b, a in zip(before, after)]},
                                   indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
