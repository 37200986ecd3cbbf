"""Re-scoring throughput and alert latency (issue 13).

1. Calls per second that ``callscope rescore`` gets through when it recomputes stored calls'
   categories from their stored analyses (no ASR), on 10,000 stored calls in SQLite and in
   PostgreSQL.
2. Alert latency: a real service (SQLite, default settings: the outbox is looked at every
   second) analyses the real Call01 ``--alert-calls`` times under a rule set whose alerting
   category it matches; a local HTTP receiver records when each signed alert arrives; latency is
   arrival minus the moment the analysis was committed (``analysed_at`` in the payload).

The calls are copies of real analyses (Call01 and SpokenWOZ MUL1011, analysed once by a real
service) with synthetic metadata (``benchmarks/service.py``'s ``seed``). Three runs per backend:
the starter set (version 1) over calls that have no categories yet; the same again (every call
already done: the resumable skip); a changed version, activated, over all of them.

    .venv/bin/python benchmarks/rules.py [--calls 10000]

Prints a table and writes benchmarks/results/rules.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.service import _real_results, seed  # noqa: E402
from benchmarks.web import analyse_real_calls  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CHANGED = """
name: changed
categories:
  - name: booking
    when: {said: {phrases: [book a table, booking, reservation]}}
  - name: email_trouble
    when: {said: {by: customer, phrases: [emails, email settings]}}
  - name: short_call
    when: {duration_s: {lt: 120}}
  - name: long_silence
    when: {silence: {longest_s: {gte: 5}}}
  - name: queue_0_negative_end
    when: {all: [{metadata: {field: queue, in: [queue-0]}}, {sentiment: {role: customer, measure: end, lte: 0.2}}]}
"""


def runs(db_url: str, data_dir: Path) -> list[dict]:
    from callscope.qa import categories
    from callscope.qa import rescoring
    from callscope.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(db_url), data_dir)  # results are stored in clear: read as they are
    out = []
    for label, prepare in (("starter set, no categories yet", None), ("same version again (all skipped)", None),
                           ("changed version, activated", CHANGED)):
        if prepare:
            with sessions() as s:
                categories.add(s, prepare, "benchmark", activate=True)
                s.commit()
        t0 = time.perf_counter()
        rec = rescoring.run(sessions, rescoring.start(sessions, None, None, "benchmark").id)
        seconds = time.perf_counter() - t0
        out.append({"run": label, "rules_version": rec.rules_version, "calls": rec.total, "rescored": rec.done,
                    "skipped": rec.skipped, "failed": rec.failed, "seconds": round(seconds, 2),
                    "calls_per_s": round(rec.total / seconds, 1)})
        print(f"  {label}: {rec.total} calls in {seconds:.1f} s", flush=True)
    return out


def alert_latency(data_dir: Path, n: int) -> dict:
    """Seconds from an analysis committed to its alert received, over ``n`` real analyses."""
    import threading
    from datetime import datetime
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from benchmarks.reference import AUDIO
    from tests.support.server import admin_key, free_port, Service, wait_done

    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if body.get("event") == "call":
                arrivals.append(time.time() - datetime.fromisoformat(body["analysed_at"]).timestamp())
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    svc = Service(data_dir, CALLSCOPE_WEBHOOK_ALLOW="127.0.0.1/32")  # the receiver is on this machine
    key = admin_key(svc.env)
    svc.start_api()
    try:
        with svc.client(key) as c:
            c.post("/v1/rules", json={"activate": True, "yaml": "categories:\n  - name: email_trouble\n    alert: true\n"
                                      "    when: {said: {phrases: [emails, email]}}\n"})
            c.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/", "secret": "benchmark-secret-0123456789",
                                         "events": ["call"]})
            audio = (AUDIO / "callytics" / "Call01.wav").read_bytes()
            for k in range(n):
                r = c.post("/v1/calls", files={"files": ("Call01.wav", audio)}, data={"external_id": f"lat-{k}"})
                wait_done(c, r.json()["calls"][0]["id"])
            deadline = time.time() + 30
            while len(arrivals) < n and time.time() < deadline:
                time.sleep(0.1)
    finally:
        svc.close()
        server.shutdown()
    got = sorted(arrivals)
    pick = lambda q: got[min(len(got) - 1, int(round(q * (len(got) - 1))))]  # noqa: E731
    return {"alerts": len(got), "of": n, "p50_s": round(pick(0.5), 3), "p95_s": round(pick(0.95), 3),
            "max_s": round(got[-1], 3), "poll_s": 1.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--alert-calls", type=int, default=12)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="callscope-rules-bench-"))
    print("analysing the real calls once (a real service)…", flush=True)
    templates = _real_results(analyse_real_calls(root / "real"))
    for t in templates:
        t["rules_version"] = None
    table = []
    sqlite_url = f"sqlite:///{root / 'rules.db'}"
    seed(sqlite_url, templates, args.calls, date(2026, 11, 20))
    print(f"SQLite, {args.calls} calls", flush=True)
    table += [{"backend": "sqlite", **r} for r in runs(sqlite_url, root)]
    from tests.support.postgres import benchmark_database

    with benchmark_database("callscope_rules") as pg_url:
        seed(pg_url, templates, args.calls, date(2026, 11, 20))
        print(f"PostgreSQL, {args.calls} calls", flush=True)
        table += [{"backend": "postgresql", **r} for r in runs(pg_url, root)]
    latency = alert_latency(root / "alerts", args.alert_calls)
    print(f"\nRe-scoring from stored analyses (no ASR), {args.calls} stored calls, one process")
    print(f"{'backend':>11} {'run':>34} {'calls':>7} {'s':>7} {'calls/s':>8}")
    for r in table:
        print(f"{r['backend']:>11} {r['run']:>34} {r['calls']:>7} {r['seconds']:>7.1f} {r['calls_per_s']:>8.1f}")
    print(f"\nAlert latency, analysis committed -> webhook received, {latency['alerts']} alerts: "
          f"p50 {latency['p50_s']:.2f} s, p95 {latency['p95_s']:.2f} s, max {latency['max_s']:.2f} s")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "rules.json"
    out.write_text(json.dumps({"benchmark": "rules", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                               "cpu_count": os.cpu_count(), "calls": args.calls, "runs": table,
                               "alert_latency": latency}, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
