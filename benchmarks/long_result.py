"""The API's memory while it serves one long call's stored result (issue 24, item 5).

Analysing a 2-hour call takes most of an hour on 2 cores, so the result is built from a real
one: Call01 is analysed by a real server, then its stored analysis is repeated end to end
(times shifted, utterance indices renumbered, the timeline grid extended) to ``--hours`` and
stored back sealed, as a worker stores a result. The API process's resident memory is then
sampled every 10 ms while each read of that call runs once (the call, its transcript, its
timeline, a QA correction that re-scores it, the call as corrected, the nightly feed), and the peak above the memory before is reported per request.

    .venv/bin/python benchmarks/long_result.py [--hours 2] [--postgresql]
        [--out benchmarks/results/long_result.json]

Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.postgres import benchmark_database  # noqa: E402
from benchmarks.reference import AUDIO  # noqa: E402
from tests.support.server import new_key, running_service, wait_done  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def tiled(result: dict, hours: float) -> dict:
    """``result`` (a CallAnalysis as JSON) repeated end to end until it lasts ``hours``."""
    span = float(result["duration_s"])
    copies = max(1, round(hours * 3600 / span))
    out = copy.deepcopy(result)
    n_utt = len(result["utterances"])

    def shifted(item: dict, k: int) -> dict:
        item = copy.deepcopy(item)
        for key in ("start", "end", "t"):
            if isinstance(item.get(key), (int, float)):
                item[key] = round(item[key] + k * span, 3)
        if isinstance(item.get("utterance"), int):
            item["utterance"] += k * n_utt
        for word in item.get("words") or []:
            word["start"], word["end"] = round(word["start"] + k * span, 3), round(word["end"] + k * span, 3)
        return item

    for name in ("utterances", "turns", "redactions"):
        out[name] = [shifted(x, k) for k in range(copies) for x in result[name]]
    for line, original in zip(out["timeline"], result["timeline"], strict=True):
        line["points"] = [shifted(p, k) for k in range(copies) for p in original["points"]]
        grid = len(original["grid_t"])
        line["grid_t"] = [round(original["grid_t"][0] + i * original["grid_s"], 3) for i in range(grid * copies)]
        for series in ("valence", "arousal"):
            line[series] = original[series] * copies
    out["duration_s"] = round(span * copies, 3)
    return out


def _rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def peak_during(pid: int, request) -> tuple[float, float, int]:
    """(peak RSS above the start in MB, seconds, HTTP status) while ``request()`` runs."""
    before = _rss_mb(pid)
    peak, done = before, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_mb(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    t = time.perf_counter()
    status = request().status_code
    seconds = time.perf_counter() - t
    done.set()
    sampler.join()
    return round(peak - before, 1), round(seconds, 2), status


def run(hours: float, database: str | None) -> dict:
    from sqlalchemy import update

    from callscope.privacy.call_keys import seal_value
    from callscope.store.db import Call, make_engine, session_factory
    from callscope.analysis.schema import CallAnalysis

    with tempfile.TemporaryDirectory() as tmp, running_service(Path(tmp) / "data", database) as svc:
        with svc.client(svc.key, timeout=600) as admin:
            r = admin.post("/v1/calls", files={"files": ("Call01.wav", (AUDIO / "callytics" / "Call01.wav").read_bytes())})
            call_id = r.json()["calls"][0]["id"]
            assert wait_done(admin, call_id)["status"] == "done"
            long = tiled(json.loads(svc.opened(call_id, "result_json")), hours)
            text = CallAnalysis.model_validate(long).model_dump_json()  # a valid analysis, as a worker stores it
            engine = make_engine(svc.database_url)
            with session_factory(engine, svc.data_dir)() as s:
                s.execute(update(Call).where(Call.id == call_id).values(
                    result_json=seal_value(s, call_id, "result_json", text), duration_s=long["duration_s"]))
                s.commit()
            engine.dispose()
            reviewer = new_key(admin, "reviewer", "review", "read")
            pid = svc.api.pid
            day = datetime.now(UTC).date().isoformat()
            reads = {
                "GET /v1/calls/{id}": lambda: admin.get(f"/v1/calls/{call_id}"),
                "GET /v1/calls/{id}/transcript": lambda: admin.get(f"/v1/calls/{call_id}/transcript"),
                "GET /v1/calls/{id}/timeline": lambda: admin.get(f"/v1/calls/{call_id}/timeline"),
                "GET /v1/feeds/daily (the day, NDJSON)": lambda: admin.get("/v1/feeds/daily", params={"date": day}),
            }
            rows = []
            with svc.client(reviewer, timeout=600) as review:
                reads["POST /v1/calls/{id}/corrections"] = lambda: review.post(
                    f"/v1/calls/{call_id}/corrections", json={"escalation": "orange", "reason": "long call"})
                reads["GET /v1/calls/{id} (corrected)"] = lambda: admin.get(f"/v1/calls/{call_id}")
                rss_start = _rss_mb(pid)
                for name, request in reads.items():
                    growth, seconds, status = peak_during(pid, request)
                    rows.append({"request": name, "status": status, "seconds": seconds, "peak_growth_mb": growth,
                                 "rss_after_mb": round(_rss_mb(pid), 1)})
        return {"database": "postgresql" if database else "sqlite", "hours": round(long["duration_s"] / 3600, 2),
                "utterances": len(long["utterances"]), "words": sum(len(u.get("words") or []) for u in long["utterances"]),
                "result_mb": round(len(text) / 2**20, 2), "api_rss_start_mb": round(rss_start, 1), "requests": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--postgresql", action="store_true", help="a new PostgreSQL database instead of SQLite")
    parser.add_argument("--out", type=Path, default=RESULTS / "long_result.json")
    args = parser.parse_args()
    if args.postgresql:
        with benchmark_database("long_result") as url:
            out = run(args.hours, url)
    else:
        out = run(args.hours, None)
    print(f"{out['hours']} h call ({out['utterances']:,} utterances, {out['words']:,} words, result "
          f"{out['result_mb']} MB as JSON), {out['database']}; API at {out['api_rss_start_mb']} MB before:\n")
    print("| request | status | s | API peak above before, MB | API after, MB |\n|---|---|---|---|---|")
    for r in out["requests"]:
        print(f"| {r['request']} | {r['status']} | {r['seconds']} | +{r['peak_growth_mb']} | {r['rss_after_mb']} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "long_result", "date": time.strftime("%Y-%m-%d %H:%M:%S"), **out},
                                   indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
