"""Journeys at scale: repeat contacts, FCR, recovery and churn risk for 1,000,000 stored contacts
of 300,000 customers on PostgreSQL (issue 28).

The contacts are made, not recorded: their time (90 days), channel, agent, level, customer end
sentiment, reason and outcome are drawn at random (seed 28) with plausible shares, and each
belongs to one of ``--customers`` pseudonyms (a few customers call often, most once or twice: a
Zipf-like draw). No label is used or made; only the cost is measured:

* ``callscope journeys`` over every customer (batches of 2,000): wall time and the process's
  peak resident memory;
* on a real ``callscope serve --no-worker``: ``GET /v1/customers/{key}`` for ``--pages`` random
  customers and ``GET /v1/aggregates`` (FCR, repeat and recovery rates) by day over 30 days and
  by agent over 7 days, p50/p95 in ms.

    .venv/bin/python benchmarks/journeys.py [--contacts 1000000] [--customers 300000] [--pages 200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.postgres import benchmark_database  # noqa: E402
from tests.support.server import Service, admin_key  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DAYS = 90
LEVELS, LEVEL_P = ["green", "yellow", "orange", "red"], [0.45, 0.35, 0.13, 0.07]
CHANNELS, CHANNEL_P = ["voice", "chat", "email"], [0.7, 0.2, 0.1]
REASONS = ["billing", "cancellation", "technical_fault", "delivery", "account_access", "complaint", "order", "information"]
REASON_P = [0.22, 0.06, 0.18, 0.14, 0.1, 0.08, 0.12, 0.1]
OUTCOMES, OUTCOME_P = ["resolved", "not_resolved", "follow_up", "transferred", "unknown"], [0.6, 0.12, 0.12, 0.06, 0.1]


def _ms(values: list[float]) -> dict:
    values = sorted(values)
    return {"n": len(values), "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(values[min(len(values) - 1, int(0.95 * len(values)))], 1)}


def store(url: str, data_dir: Path, contacts: int, customers: int, now: datetime) -> list[str]:
    """``contacts`` analysed calls of ``customers`` pseudonyms, inserted in batches; returns the keys."""
    from sqlalchemy import insert

    from callscope.store.db import Call, make_engine, migrate, session_factory

    migrate(url)
    rng = np.random.default_rng(28)
    keys = [hashlib.sha256(f"bench-customer-{i}".encode()).hexdigest() for i in range(customers)]
    # every customer has one contact, the rest go by a Zipf-like weight (a few call very often)
    weights = 1.0 / np.arange(1, customers + 1) ** 0.6
    owner = np.concatenate([np.arange(customers), rng.choice(customers, contacts - customers, p=weights / weights.sum())])
    rng.shuffle(owner)
    engine = make_engine(url)
    sessions = session_factory(engine, data_dir)
    batch = 20_000
    for start in range(0, contacts, batch):
        n = min(batch, contacts - start)
        at = [now - timedelta(seconds=float(s)) for s in rng.uniform(0, DAYS * 86400, n)]
        level, channel = rng.choice(LEVELS, n, p=LEVEL_P), rng.choice(CHANNELS, n, p=CHANNEL_P)
        reason, outcome = rng.choice(REASONS, n, p=REASON_P), rng.choice(OUTCOMES, n, p=OUTCOME_P)
        end, agent = np.clip(rng.normal(0.05, 0.45, n), -1, 1), rng.integers(0, 500, n)
        rows = [{"id": str(uuid.uuid4()), "sha256": f"{start + i:064x}", "filename": "bench", "audio_key": "",
                 "size_bytes": 0, "status": "done", "progress": 1.0, "agent_id": f"a-{agent[i]}", "channel": str(channel[i]),
                 "escalation": str(level[i]), "customer_sentiment_end": float(end[i]),
                 "customer_sentiment": float(end[i]) * 0.7, "reason": str(reason[i]), "outcome": str(outcome[i]),
                 "customer_ref": keys[owner[start + i]], "customer_key": keys[owner[start + i]],
                 "recorded_at": at[i], "created_at": at[i], "updated_at": at[i]} for i in range(n)]
        with sessions() as s:
            s.execute(insert(Call), rows)
            s.commit()
        print(f"  stored {start + n:,} contacts", end="\r", flush=True)
    print()
    engine.dispose()
    return keys


def recompute(svc: Service) -> dict:
    """``callscope journeys`` in its own process: wall time and peak resident memory."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "import resource, sys; sys.argv=['callscope', 'journeys', '--at-risk', '5']\n"
                           "try:\n from callscope.cli import app; app()\nexcept SystemExit: pass\n"
                           "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                          env=svc.env, capture_output=True, text=True, timeout=7200)
    wall = time.perf_counter() - t0
    assert done.returncode == 0, done.stderr[-3000:]
    rss_kb = int(re.findall(r"MAXRSS (\d+)", done.stdout)[-1])
    said = next((line for line in done.stderr.splitlines() if "customers recomputed" in line), "")
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(rss_kb / 1024), "cli": said.strip()}


def latency(svc: Service, key: str, customers: list[str], pages: int, now: datetime) -> dict:
    import httpx

    rng = np.random.default_rng(7)
    out = {}
    with httpx.Client(base_url=svc.base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
        ms = []
        for k in rng.choice(len(customers), pages, replace=False):
            t0 = time.perf_counter()
            r = c.get(f"/v1/customers/{customers[k]}")
            ms.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
        out["customer page"] = _ms(ms)
        today = now.date()
        for name, params in (("FCR by day, 30 days", {"group_by": "day", "from": (today - timedelta(days=29)).isoformat()}),
                             ("FCR by agent, 7 days", {"group_by": "agent", "from": (today - timedelta(days=6)).isoformat()})):
            ms = []
            for _ in range(10):
                t0 = time.perf_counter()
                r = c.get("/v1/aggregates", params={**params, "to": today.isoformat()})
                ms.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
            out[name] = _ms(ms)
        out["customers at risk"] = _ms([_timed(c, "/v1/customers?at_risk=high&limit=50") for _ in range(10)])
    return out


def _timed(client, path: str) -> float:
    t0 = time.perf_counter()
    assert client.get(path).status_code == 200
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=300_000)
    ap.add_argument("--pages", type=int, default=200)
    args = ap.parse_args()
    now = datetime.now(UTC)
    report: dict = {"machine": f"{os.cpu_count()} CPUs", "contacts": args.contacts, "customers": args.customers,
                    "backend": "postgresql"}
    with tempfile.TemporaryDirectory(prefix="journeys-") as tmp, benchmark_database("journeys") as url:
        data_dir = Path(tmp) / "data"
        t0 = time.perf_counter()
        keys = store(url, data_dir, args.contacts, args.customers, now)
        report["store_s"] = round(time.perf_counter() - t0)
        svc = Service(data_dir, url)
        key = admin_key(svc.env)
        report["recompute"] = recompute(svc)
        svc.start_api("--no-worker")
        try:
            report["latency"] = latency(svc, key, keys, args.pages, now)
        finally:
            svc.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "journeys.json").write_text(json.dumps(report, indent=2) + "\n")
    r = report["recompute"]
    print(f"\n{args.contacts:,} contacts of {args.customers:,} customers on PostgreSQL (stored in {report['store_s']} s)")
    print(f"callscope journeys: {r['wall_s']} s, peak {r['peak_rss_mb']} MB  ({r['cli']})")
    print(f"{'request':<24} {'p50 ms':>8} {'p95 ms':>8}")
    for name, x in report["latency"].items():
        print(f"{name:<24} {x['p50_ms']:>8} {x['p95_ms']:>8}")
    print(f"wrote {RESULTS / 'journeys.json'}")


if __name__ == "__main__":
    main()
