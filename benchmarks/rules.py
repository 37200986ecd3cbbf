"""Re-scoring throughput (issue 13): calls per second that ``callscope rescore`` gets through when
it recomputes stored calls' categories from their stored analyses (no ASR), on 10,000 stored
calls in SQLite and in PostgreSQL.

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
import uuid
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


def runs(db_url: str) -> list[dict]:
    from callscope.api import categories, rescoring
    from callscope.api.db import make_engine, session_factory

    sessions = session_factory(make_engine(db_url))
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=10_000)
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
    table += [{"backend": "sqlite", **r} for r in runs(sqlite_url)]
    from sqlalchemy import create_engine, text

    from benchmarks.pgserver import TempPostgres

    pg, admin_url = None, os.environ.get("CALLSCOPE_TEST_POSTGRES_URL")
    if admin_url is None:
        pg = TempPostgres()
        admin_url = pg.start()
    try:
        name = f"callscope_rules_{uuid.uuid4().hex[:8]}"
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        pg_url = admin_url.rsplit("/", 1)[0] + "/" + name
        seed(pg_url, templates, args.calls, date(2026, 11, 20))
        print(f"PostgreSQL, {args.calls} calls", flush=True)
        table += [{"backend": "postgresql", **r} for r in runs(pg_url)]
    finally:
        if pg is not None:
            pg.stop()
    print(f"\nRe-scoring from stored analyses (no ASR), {args.calls} stored calls, one process")
    print(f"{'backend':>11} {'run':>34} {'calls':>7} {'s':>7} {'calls/s':>8}")
    for r in table:
        print(f"{r['backend']:>11} {r['run']:>34} {r['calls']:>7} {r['seconds']:>7.1f} {r['calls_per_s']:>8.1f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "rules.json"
    out.write_text(json.dumps({"benchmark": "rules", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                               "cpu_count": os.cpu_count(), "calls": args.calls, "runs": table}, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
