"""Text interactions scored per second on this machine (issue 28): chats and e-mails made of real
customer-service text, scored by the same sentiment model as calls.

Customer messages are banking77 test queries (PolyAI-LDN/task-specific-datasets @ 57ec275d, CC BY
4.0); agent messages are everyday conversational lines from DailyDialog (liuzeming01/XDailyDialog
@ 62949b52, CC BY-NC-SA 4.0, evaluation only). Each chat has ``--per-chat`` messages, customer and
agent in turn; each e-mail is one customer query with a signature and the earlier answer quoted
below a reply header (so the quote stripping is in the cost). Scoring runs as a worker runs it:
the whole text pipeline (language ID, redaction, sentence sentiment, text emotion, the call's
scores), one interaction at a time, in one process; the rule sets and the database are not in it.

    .venv/bin/python benchmarks/text_interactions.py [--chats 300] [--emails 100] [--per-chat 6]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.insight_scale import _everyday  # noqa: E402
from benchmarks.reference import DATA  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _queries() -> list[str]:
    with open(DATA / "text" / "banking77" / "test.csv", newline="", encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chats", type=int, default=300)
    ap.add_argument("--emails", type=int, default=100)
    ap.add_argument("--per-chat", type=int, default=6)
    ap.add_argument("--batch", type=int, default=32,
                    help="interactions scored together in the batched runs (the worker takes up to 32: service/worker.py TEXT_BATCH)")
    args = ap.parse_args()
    from callscope.analysis.pipeline import build_analysis_settings
    from callscope.analysis.text_pipeline import TextMessage, analyze_thread, analyze_threads
    from callscope.scoring.scorer import CallScorer

    queries, everyday = _queries(), _everyday(5000)
    settings = build_analysis_settings()
    t0 = time.perf_counter()
    scorer = CallScorer(settings.scoring)
    analyze_thread(scorer, settings, [TextMessage("customer", datetime.now(UTC), queries[0])], "chat", "warm-up")
    load_s = time.perf_counter() - t0
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    chats = [[TextMessage("customer" if k % 2 == 0 else "agent", start + timedelta(minutes=k),
                          queries[(i * 7 + k) % len(queries)] if k % 2 == 0 else everyday[(i * 5 + k) % len(everyday)])
              for k in range(args.per_chat)] for i in range(args.chats)]
    emails = [[TextMessage("customer", start, f"{queries[(i * 11) % len(queries)]}\n\nBest regards\nA. Customer\n\n"
                                              f"On Mon, 2 Nov 2026 at 10:00, Support <support@example.com> wrote:\n"
                                              f"> {everyday[i % len(everyday)]}\n")] for i in range(args.emails)]
    report: dict = {"machine": f"{os.cpu_count()} CPUs", "load_and_warm_up_s": round(load_s, 2), "runs": {}}
    for name, threads, channel in (("chats", chats, "chat"), ("e-mails", emails, "email")):
        for mode in ("one at a time", f"batches of {args.batch}"):
            t0 = time.perf_counter()
            scored = 0
            if mode == "one at a time":
                for k, messages in enumerate(threads):
                    scored += len(analyze_thread(scorer, settings, messages, channel, f"{channel}-{k}").utterances)
            else:
                for a in range(0, len(threads), args.batch):
                    batch = [(settings, m, channel, f"{channel}-{a + k}") for k, m in enumerate(threads[a:a + args.batch])]
                    scored += sum(len(r.utterances) for r in analyze_threads(scorer, batch))
            seconds = time.perf_counter() - t0
            n = sum(len(m) for m in threads)
            report["runs"][f"{name}, {mode}"] = {
                "interactions": len(threads), "messages": n, "seconds": round(seconds, 2),
                "messages_per_s": round(n / seconds, 1), "interactions_per_s": round(len(threads) / seconds, 1),
                "utterances_scored": scored}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "text_interactions.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"models loaded and warmed up in {report['load_and_warm_up_s']} s ({report['machine']})")
    print(f"{'kind':<30} {'interactions':>12} {'messages':>9} {'seconds':>8} {'messages/s':>11}")
    for name, r in report["runs"].items():
        print(f"{name:<30} {r['interactions']:>12} {r['messages']:>9} {r['seconds']:>8} {r['messages_per_s']:>11}")
    print(f"wrote {RESULTS / 'text_interactions.json'}")


if __name__ == "__main__":
    main()
