"""Hostile rule sets against the rule engine (issue 24, item 1): the worst regular expressions and
YAML found, first on their own (compile and match time, refused or not), then through a real
server: a rule set made of the worst accepted patterns is activated, and reviewers post
corrections (each re-scores the real Call01 under it) from several threads for a while, as an
attacker with a review key would, while ``/healthz`` (liveness: no I/O, not rate-limited) and
``/readyz`` (a database round trip and the address's rate-limit count) are polled from a process
of their own, as a load balancer would; their latency and the API process's memory are reported.

    .venv/bin/python benchmarks/hostile_rules.py [--seconds 30] [--threads 4] [--postgresql]
        [--out benchmarks/results/hostile_rules.json]

Prints a table and writes JSON. SQLite in a temporary directory unless ``--postgresql``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.postgres import benchmark_database  # noqa: E402
from benchmarks.reference import AUDIO  # noqa: E402
from tests.support.server import new_key, running_service, wait_done  # noqa: E402
from callscope.scoring.rules import RulesError, load_rules  # noqa: E402
from callscope.scoring.rules.patterns import PatternError, compiled  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

#: Patterns that backtrack exponentially (or blow up a DFA) in other engines.
PATTERNS = [
    r"^(\w+\s?)*$",
    r"^(a+)+$",
    r"(a|aa)*b",
    r"(x+x+)+y",
    r"(.*a){20}",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"(\pL|\pN|\s){1,1000}!",
    r"[a-q][^u-z]{13}x",
    r"((((a{1,100}){1,100}){1,100}){1,100})",
    r"(\w)\1",
    r"(?<!not )happy",
]
#: Texts the patterns run on: a long utterance of words and one long run of one letter.
TEXTS = {"words": " ".join(["word"] * 2000) + ".", "letters": "a" * 20_000 + "!"}


def _alias_bomb(levels: int = 9) -> str:
    lines = ["l0: &l0 [{duration_s: {gt: 1}}, {duration_s: {gt: 1}}, {duration_s: {gt: 1}}, {duration_s: {gt: 1}}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} {{any: [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]}}")
    lines.append(f"categories: [{{name: bomb, when: *l{levels - 1}}}]")
    return "\n".join(lines) + "\n"


YAMLS = {
    "alias bomb (4^9 conditions)": _alias_bomb(),
    "flow lists 100,000 deep": "categories: " + "[" * 100_000 + "]" * 100_000,
    "not 30 deep": "categories: [{name: deep, when: " + "{not: " * 30 + "{duration_s: {gt: 1}}" + "}" * 30 + "}]",
    "5,000 categories (1 MB)": "categories:\n" + "".join(
        f"  - name: c{i}\n    when: {{said: {{by: any, regex: ['^(\\w+\\s?)*$', '(x+x+)+y'], phrases: [p{i} a, p{i} b]}}}}\n"
        for i in range(5000)),
}


#: The prober, in a process of its own (as a load balancer's or orchestrator's would be): /healthz
#: and /readyz each every 50 ms for the given seconds; prints their latencies in ms as JSON.
PROBE = """
import json, sys, threading, time, httpx
base, seconds = sys.argv[1], float(sys.argv[2])
stop, out = time.monotonic() + seconds, {"/healthz": [], "/readyz": []}
def poll(path):
    with httpx.Client(base_url=base, timeout=30) as c:
        while time.monotonic() < stop:
            t = time.perf_counter()
            c.get(path)
            out[path].append(1000 * (time.perf_counter() - t))
            time.sleep(0.05)
threads = [threading.Thread(target=poll, args=(p,)) for p in out]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(out))
"""


def _rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def engine_rows() -> list[dict]:
    rows = []
    for pattern in PATTERNS:
        row: dict = {"pattern": pattern}
        t = time.perf_counter()
        try:
            regex = compiled(pattern)
        except PatternError as exc:
            row.update(refused=str(exc)[:90], compile_ms=round(1000 * (time.perf_counter() - t), 2))
            rows.append(row)
            continue
        row["compile_ms"] = round(1000 * (time.perf_counter() - t), 2)
        for name, text in TEXTS.items():
            t = time.perf_counter()
            regex.search(text)
            row[f"match_ms_{name}"] = round(1000 * (time.perf_counter() - t), 2)
        rows.append(row)
    return rows


def yaml_rows() -> list[dict]:
    rows = []
    for name, text in YAMLS.items():
        t = time.perf_counter()
        try:
            rules = load_rules(text)
            outcome = f"accepted ({len(rules.categories)} categories)"
        except RulesError as exc:
            outcome = str(exc)[:80]
        rows.append({"yaml": name, "bytes": len(text), "ms": round(1000 * (time.perf_counter() - t), 1), "outcome": outcome})
    return rows


def attack(seconds: float, threads: int, database: str | None, hostile: bool = True) -> dict:
    """Reviewers correcting Call01 from ``threads`` threads for ``seconds`` under the worst accepted
    patterns (``hostile``) or under the starter rule set (the baseline), with /healthz polled."""
    evil = "name: evil\ncategories:\n" + "".join(
        f"  - name: evil_{i}\n    when: {{said: {{by: any, regex: ['{p}']}}}}\n"
        for i, p in enumerate(p for p in PATTERNS if not _refused(p)))
    with tempfile.TemporaryDirectory() as tmp, running_service(Path(tmp) / "data", database) as svc:
        with svc.client(svc.key) as admin:
            r = admin.post("/v1/calls", files={"files": ("Call01.wav", (AUDIO / "callytics" / "Call01.wav").read_bytes())})
            call_id = r.json()["calls"][0]["id"]
            assert wait_done(admin, call_id)["status"] == "done"
            if hostile:
                assert admin.post("/v1/rules", json={"yaml": evil, "activate": True}).status_code == 201
            reviewer = new_key(admin, "attacker", "review")
        rss_before = _rss_mb(svc.api.pid)
        stop = time.monotonic() + seconds
        answers: dict[int, int] = {}
        lock = threading.Lock()

        def correct() -> None:
            with svc.client(reviewer, timeout=120) as c:
                while time.monotonic() < stop:
                    status = c.post(f"/v1/calls/{call_id}/corrections",
                                    json={"escalation": "orange", "reason": "attack"}).status_code
                    with lock:
                        answers[status] = answers.get(status, 0) + 1

        workers = [threading.Thread(target=correct) for _ in range(threads)]
        probe = subprocess.Popen([sys.executable, "-c", PROBE, svc.base, str(seconds)], stdout=subprocess.PIPE, text=True)
        peak = rss_before
        for w in workers:
            w.start()
        while any(w.is_alive() for w in workers) or probe.poll() is None:
            peak = max(peak, _rss_mb(svc.api.pid))
            time.sleep(0.2)
        probed = json.loads(probe.communicate()[0])
        ms, ready_ms = sorted(probed["/healthz"]), sorted(probed["/readyz"])
        return {"database": "postgresql" if database else "sqlite", "seconds": seconds, "threads": threads,
                "rule_set": "worst accepted patterns" if hostile else "starter (baseline)",
                "patterns": evil.count("regex") if hostile else 1, "corrections": answers,
                "corrections_per_s": round(sum(answers.values()) / seconds, 1),
                "healthz_requests": len(ms), "healthz_p50_ms": round(statistics.median(ms), 1),
                "healthz_p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 1), "healthz_max_ms": round(ms[-1], 1),
                "readyz_p50_ms": round(statistics.median(ready_ms), 1),
                "readyz_p99_ms": round(ready_ms[min(len(ready_ms) - 1, int(0.99 * len(ready_ms)))], 1),
                "api_rss_before_mb": round(rss_before, 1), "api_rss_peak_mb": round(peak, 1),
                "api_rss_growth_mb": round(peak - rss_before, 1)}


def _refused(pattern: str) -> bool:
    try:
        compiled(pattern)
        return False
    except PatternError:
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgresql", action="store_true",
                        help="a new PostgreSQL database per run (on CALLSCOPE_TEST_POSTGRES_URL's server, else a "
                             "throwaway one) instead of SQLite in a temporary directory")
    parser.add_argument("--out", type=Path, default=RESULTS / "hostile_rules.json")
    args = parser.parse_args()
    engine, yamls = engine_rows(), yaml_rows()
    print("| pattern | compile ms | match ms, 2,000 words | match ms, 20,000 letters | refused |")
    print("|---|---|---|---|---|")
    for r in engine:
        print(f"| `{r['pattern']}` | {r['compile_ms']} | {r.get('match_ms_words', '')} | {r.get('match_ms_letters', '')} "
              f"| {r.get('refused', '')} |")
    print("\n| YAML | bytes | ms | outcome |\n|---|---|---|---|")
    for r in yamls:
        print(f"| {r['yaml']} | {r['bytes']:,} | {r['ms']} | {r['outcome']} |")
    runs = []
    for hostile in (False, True):
        if args.postgresql:
            with benchmark_database("hostile_rules") as url:
                runs.append(attack(args.seconds, args.threads, url, hostile=hostile))
        else:
            runs.append(attack(args.seconds, args.threads, None, hostile=hostile))
    print(f"\n{args.threads} reviewers correcting Call01 for {args.seconds:.0f} s (each correction re-scores the call), "
          f"/healthz and /readyz each polled every 50 ms, {runs[0]['database']}:\n")
    print("| rule set | corrections/s | /healthz p50 ms | p99 ms | max ms | /readyz p50 ms | p99 ms | API MB before → peak |\n"
          "|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(f"| {run['rule_set']} ({run['patterns']} regexes) | {run['corrections_per_s']} {run['corrections']} | "
              f"{run['healthz_p50_ms']} | {run['healthz_p99_ms']} | {run['healthz_max_ms']} | "
              f"{run['readyz_p50_ms']} | {run['readyz_p99_ms']} | "
              f"{run['api_rss_before_mb']} → {run['api_rss_peak_mb']} (+{run['api_rss_growth_mb']}) |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "hostile_rules", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "engine": engine, "yaml": yamls, "attack": runs}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
