"""What crypto-shredding costs (issue 24, item 3): sealing and opening a call's personal text under
its own key, against the analysis of the same call.

One real call (Call01, a real customer-service call, from ../shared; else the shipped
pyannote sample) is analysed once with the default pipeline; its result (the largest sealed
value) and its file name are then sealed and opened many times, a data key is made (inserted,
wrapped) and unwrapped on a real SQLite database, and the list's search opens the words of N
stored calls, against the database's own LIKE on the same words stored in clear (how search
worked before). Prints a table and writes ``benchmarks/results/call_crypt.json``.

    .venv/bin/python benchmarks/call_crypt.py [--calls 10000] [--repeat 200]

Run on a quiet machine: the ratio to the analysis is what matters, and both are in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _us(fn, repeat: int) -> float:
    """Median microseconds of ``fn()`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=10_000, help="stored calls the search opens (the web benchmark has 10,000)")
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()

    from sqlalchemy import insert, select

    from callscope.privacy.call_keys import CallCrypt, Keyring, open_value, seal_value
    from callscope.store.db import Call, CallKey, make_engine, migrate, session_factory
    from callscope.analysis.pipeline import Analyzer

    audio = AUDIO / "callytics" / "Call01.wav"
    if not audio.is_file():
        audio = Path(__file__).resolve().parents[1] / "samples" / "pyannote_sample.wav"
    analyzer = Analyzer()
    t0 = time.perf_counter()
    result = analyzer.analyze(audio)
    analysis_s = time.perf_counter() - t0
    result_json = result.model_dump_json()
    words = " ".join(u.text for u in result.utterances).lower()

    root = Path(tempfile.mkdtemp(prefix="callscope-crypt-bench-"))
    url = f"sqlite:///{root / 'callscope.db'}"
    migrate(url)
    sessions = session_factory(make_engine(url), root)
    rows = []
    with sessions() as s:
        sealed_result = seal_value(s, "bench-call", "result_json", result_json)
        sealed_name = seal_value(s, "bench-call", "filename", audio.name)
        s.commit()
        rows.append(("seal the result", len(result_json), _us(lambda: seal_value(s, "bench-call", "result_json", result_json), args.repeat)))
        rows.append(("open the result", len(result_json), _us(lambda: open_value(s, "bench-call", "result_json", sealed_result), args.repeat)))
        rows.append(("seal the file name", len(audio.name), _us(lambda: seal_value(s, "bench-call", "filename", audio.name), args.repeat)))
        rows.append(("open the file name", len(audio.name), _us(lambda: open_value(s, "bench-call", "filename", sealed_name), args.repeat)))
        counter = iter(range(10**9))
        rows.append(("make a data key (insert, wrap)", 32, _us(lambda: seal_value(s, f"new-{next(counter)}", "filename", "x"), args.repeat)))
        s.commit()
    cold = CallCrypt(Keyring.in_data_dir(root))  # another process: no key in memory yet
    with sessions() as s:
        ids = list(s.execute(select(CallKey.call_id).limit(args.repeat)).scalars())
        it = iter(ids)
        rows.append(("unwrap a data key (select, unwrap)", 32, _us(lambda: cold.key(s, next(it)), len(ids))))

    # the list's search: N stored calls, each with this call's words sealed under its own key
    with sessions() as s:
        batch = []
        for k in range(args.calls):
            cid = f"call-{k:06d}"
            batch.append({"id": cid, "sha256": f"{k:064d}", "filename": seal_value(s, cid, "filename", audio.name),
                          "audio_key": "x", "size_bytes": 1, "status": "done",
                          "transcript_text": seal_value(s, cid, "transcript_text", words)})
        s.execute(insert(Call), batch)
        s.commit()
    fresh = session_factory(make_engine(url), root)
    fresh.kw["info"]["call_crypt"] = CallCrypt(Keyring.in_data_dir(root))
    from callscope.api.routes.reports import _searched

    timings = {}
    clear_url = f"sqlite:///{root / 'clear.db'}"  # before: the words in clear, searched by the database
    migrate(clear_url)
    clear = session_factory(make_engine(clear_url))
    with clear() as s:
        s.execute(insert(Call), [{**row, "filename": audio.name, "transcript_text": words} for row in batch])
        s.commit()
        t0 = time.perf_counter()
        assert not s.execute(select(Call.id).where(Call.transcript_text.like("%no such words here%"))).all()
        timings["before: LIKE on clear text"] = time.perf_counter() - t0
    for label in ("cold (keys unwrapped)", "warm (keys in memory)"):
        with fresh() as s:
            t0 = time.perf_counter()
            n = len(s.execute(_searched(s, select(Call.id), "no such words here")).all())
            timings[label] = time.perf_counter() - t0
            assert n == 0

    per_call = {name: us for name, _, us in rows}
    per_analysis_us = (per_call["make a data key (insert, wrap)"] + per_call["seal the result"] * 2  # result + words
                       + per_call["seal the file name"])
    report = {"benchmark": "call_crypt", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "cpu_count": os.cpu_count(),
              "audio": audio.name, "audio_s": round(result.duration_s, 1), "analysis_s": round(analysis_s, 2),
              "result_bytes": len(result_json),
              "operations_us": [{"operation": n, "bytes": b, "median_us": round(us, 1)} for n, b, us in rows],
              "sealing_per_analysed_call_us": round(per_analysis_us, 1),
              "share_of_analysis_percent": round(100 * per_analysis_us / 1e6 / analysis_s, 4),
              "search_calls": args.calls, "search_s": {k: round(v, 3) for k, v in timings.items()},
              "search_us_per_call": {k: round(1e6 * v / args.calls, 1) for k, v in timings.items()}}
    print(f"\nCrypto-shredding cost, {audio.name} ({result.duration_s:.0f} s of audio, analysed in {analysis_s:.1f} s, "
          f"result {len(result_json) / 1024:.0f} KiB)")
    print(f"{'operation':>36} {'bytes':>9} {'median µs':>10}")
    for name, size, us in rows:
        print(f"{name:>36} {size:>9} {us:>10.1f}")
    print(f"\nsealing one analysed call (key, result, words, name): {per_analysis_us:.0f} µs = "
          f"{report['share_of_analysis_percent']:.4f} % of its analysis")
    for k, v in timings.items():
        print(f"search over {args.calls} calls, {k}: {v:.2f} s ({1e6 * v / args.calls:.0f} µs per call)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "call_crypt.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
