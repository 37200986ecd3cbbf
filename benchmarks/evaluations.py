"""The QA workflow at scale, and how far its automatic answers agree with a person (issue 26).

1. **Pre-filling**: ``--prefill-calls`` stored calls (default 10,000), each holding the real Call01
   analysis (made once by the real pipeline), are evaluated under the English starter form: each
   draft is pre-filled from the stored analysis and its categories and committed. Calls per second,
   on SQLite and, with ``--postgresql``, on PostgreSQL.
2. **Pages in the browser**: ``--page-calls`` (default 10,000 and 100,000) calls stored as their
   score columns (no transcript: the list and the queue never read one), one in ten red or orange
   and so in the review queue; a real ``callscope serve`` on them and Debian's headless Chromium
   open the review queue and the calls list ``--loads`` times each (default 20); the time from
   navigation to the page's ``callscope-ready`` mark (its data shown) is taken per load: p50 / p95.
3. **Agreement with a person**: the shared real calls on which a human answer can be given
   honestly. Only Call01 has a human transcript with roles (``Call01.turns.tsv``, hand-timed); the
   answers in :data:`HUMAN_CALL01` were given by the engineer reading that transcript (no one
   listened to the audio), one per automatic question. MUL1011 (SpokenWOZ) has no transcript and
   no one here can listen to it, so it is left out. Per question: the automatic answer (or the
   question left for the reviewer, with its suggestion) against the human one.

    .venv/bin/python benchmarks/evaluations.py [--prefill-calls 10000] [--page-calls 10000 100000]
        [--postgresql] [--skip-pages] [--out benchmarks/results/evaluations.json]

Prints a table and writes JSON. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.reference import AUDIO  # noqa: E402
from tests.support.postgres import benchmark_database  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
#: Call01 answered by a person reading its hand-made transcript (Call01.turns.tsv): the agent
#: greets and names herself at 3 s; asks for "account details so I can verify" before looking;
#: says "I'm sorry for the inconvenience"; the turns never overlap; about 16 % of the call is
#: silence between turns; nobody asks for a supervisor; the customer ends "That's great news.
#: Thanks for fixing it so quickly!" and "Have a good day".
HUMAN_CALL01 = {"greeting": "yes", "identity_verified": "yes", "empathy": "yes", "no_talking_over": "yes",
                "hold_and_silence": "yes", "escalation_request": "yes", "customer_ended_positive": "yes"}


def _analysis():
    from callscope.analysis.pipeline import AnalysisSettings, Analyzer
    from callscope.transcription.engine import AsrSettings

    return Analyzer(AnalysisSettings(asr=AsrSettings(device="cpu"))).analyze(AUDIO / "callytics" / "Call01.wav")


def _sessions(url: str, data_dir: Path):
    from callscope.store.db import make_engine, migrate, session_factory

    migrate(url)
    return session_factory(make_engine(url), data_dir)


def prefill(url: str, data_dir: Path, result_json: str, n: int) -> dict:
    """Store ``n`` calls with the analysis, then pre-fill a draft for each; calls per second."""
    from sqlalchemy import insert, select

    from callscope.qa import categories, evaluations
    from callscope.store.db import Call, utcnow

    sessions = _sessions(url, data_dir)
    now = utcnow()
    with sessions() as s:
        evaluations.ensure_starter_forms(s)
        categories.active(s)
        s.commit()
        for k in range(0, n, 500):
            s.execute(insert(Call), [{"id": str(uuid.uuid4()), "sha256": f"{k + j:064x}", "filename": "Call01.wav",
                                      "audio_key": f"k/{k + j}", "size_bytes": 1, "status": "done", "progress": 1.0,
                                      "queue": "billing", "language": "en", "escalation": "green", "result_json": result_json,
                                      "created_at": now, "updated_at": now} for j in range(min(500, n - k))])
            s.commit()
        ids = list(s.execute(select(Call.id)).scalars())
    t0 = time.perf_counter()
    for cid in ids:
        with sessions() as s:
            evaluations.start(s, s.get(Call, cid), "bench", None)
            s.commit()
    took = time.perf_counter() - t0
    return {"calls": len(ids), "seconds": round(took, 2), "calls_per_s": round(len(ids) / took, 1)}


def pages(n: int, loads: int, postgres_url: str | None) -> dict:
    """p50/p95 of the review queue and the calls list in Chromium with ``n`` stored calls."""
    from sqlalchemy import insert

    from callscope.store.db import Call, ReviewItem, utcnow
    from tests.support.browser import Browser
    from tests.support.server import new_key, running_service

    data = Path(tempfile.mkdtemp(prefix="bench-eval-pages-"))
    url = postgres_url or f"sqlite:///{data / 'callscope.db'}"
    sessions = _sessions(url, data)
    now = utcnow()
    with sessions() as s:
        for k in range(0, n, 2000):
            calls, items = [], []
            for j in range(min(2000, n - k)):
                i = k + j
                level = "red" if i % 20 == 0 else "orange" if i % 20 == 1 else "green"
                cid = str(uuid.UUID(int=i + 1))
                calls.append({"id": cid, "sha256": f"{i:064x}", "filename": f"call-{i}.wav", "audio_key": f"k/{i}",
                              "size_bytes": 1, "status": "done", "progress": 1.0, "agent_id": f"a-{i % 300}",
                              "team": f"team-{i % 12}", "queue": f"queue-{i % 7}", "escalation": level,
                              "customer_sentiment": ((i * 37) % 200 - 100) / 100, "duration_s": 60 + i % 600,
                              "recorded_at": now - timedelta(minutes=i), "created_at": now - timedelta(minutes=i),
                              "updated_at": now})
                if level != "green":
                    items.append({"call_id": cid, "reason": level, "added_at": now, "analysed_at": now,
                                  "due_at": now + timedelta(hours=1 if level == "red" else 4, minutes=-(i % 300))})
            s.execute(insert(Call), calls)
            if items:
                s.execute(insert(ReviewItem), items)
            s.commit()
    out = {}
    with running_service(data, url) as svc:
        with svc.client(svc.key) as admin:
            key = new_key(admin, "bench-reviewer", "read", "review")
        b = Browser(svc.base)
        try:
            b.viewport(1366, 768)
            b.sign_in(key)
            for name, path in (("review queue", "/queue"), ("calls list", "/")):
                times = []
                for _ in range(loads):
                    b.get(path)
                    b.ready(timeout=60)
                    times.append(b.js("return performance.getEntriesByName('callscope-ready')[0].startTime"))
                times.sort()
                out[name] = {"p50_ms": round(statistics.median(times), 1),
                             "p95_ms": round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1), "loads": loads}
        finally:
            b.driver.quit()
    return out


def agreement(result) -> dict:
    """Call01's automatic answers under the English starter form against :data:`HUMAN_CALL01`."""
    from callscope.qa.forms import load_form, prefill as prefill_answers, starter_texts
    from callscope.scoring.rules import load_rules, starter_text
    from callscope.scoring.rules.evaluate import evaluate

    form = load_form(starter_texts()[0])
    matches = {m.category: m for m in evaluate(load_rules(starter_text()), result)}
    answers = prefill_answers(form, result, matches)
    rows = []
    for qid, human in HUMAN_CALL01.items():
        auto = answers[qid]["auto"]
        rows.append({"question": qid, "human": human, "auto": auto["answer"], "suggested": auto["suggested"],
                     "confidence": auto["confidence"], "evidence": auto["evidence"], "detail": auto["detail"]})
    given = [r for r in rows if r["auto"] is not None]
    left = [r for r in rows if r["auto"] is None]
    return {"call": "Call01", "questions": rows, "answered_automatically": len(given),
            "agree_when_answered": sum(r["auto"] == r["human"] for r in given),
            "left_for_the_reviewer": len(left), "suggestion_agrees": sum(r["suggested"] == r["human"] for r in left)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prefill-calls", type=int, default=10_000)
    ap.add_argument("--page-calls", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--loads", type=int, default=20)
    ap.add_argument("--postgresql", action="store_true", help="pre-fill on PostgreSQL too")
    ap.add_argument("--skip-pages", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS / "evaluations.json")
    args = ap.parse_args()

    result = _analysis()
    report: dict = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "prefill": {}, "pages": {}}
    report["agreement"] = agreement(result)
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        report["prefill"]["sqlite"] = prefill(f"sqlite:///{tmp}/callscope.db", Path(tmp), result.model_dump_json(),
                                              args.prefill_calls)
    if args.postgresql:
        with tempfile.TemporaryDirectory(prefix="bench-eval-pg-") as tmp, benchmark_database("bench_eval") as url:
            report["prefill"]["postgresql"] = prefill(url, Path(tmp), result.model_dump_json(), args.prefill_calls)
    if not args.skip_pages:
        for n in args.page_calls:
            report["pages"][str(n)] = pages(n, args.loads, None)

    print(f"{'pre-filling':<28} {'calls':>8} {'seconds':>9} {'calls/s':>9}")
    for db, r in report["prefill"].items():
        print(f"{db:<28} {r['calls']:>8} {r['seconds']:>9} {r['calls_per_s']:>9}")
    if report["pages"]:
        print(f"\n{'page (Chromium)':<28} {'stored calls':>12} {'p50 ms':>8} {'p95 ms':>8}")
        for n, r in report["pages"].items():
            for name, t in r.items():
                print(f"{name:<28} {int(n):>12,} {t['p50_ms']:>8} {t['p95_ms']:>8}")
    a = report["agreement"]
    print(f"\nCall01, automatic answers against a person reading the hand transcript "
          f"({a['answered_automatically']} answered, {a['agree_when_answered']} agree; "
          f"{a['left_for_the_reviewer']} left for the reviewer, {a['suggestion_agrees']} suggestions agree)")
    for r in a["questions"]:
        shown = r["auto"] if r["auto"] is not None else f"left (suggests {r['suggested']})"
        print(f"  {r['question']:<26} person {r['human']:<4} automatic {shown:<22} {r['detail'][:60]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
