"""What the personal-data detector finds in real dialogue text that has no personal-data labels:
DailyDialog (62,142 English utterances, CC BY-NC-SA 4.0, evaluation only; see
../shared/data/README.md). Not a precision measurement (nothing is labelled): it counts findings
per kind and prints them, so a person can read every one and see what is caught and what is a
false alarm. Utterances are timed 0.35 s per word, 1 s between turns.

    .venv/bin/python benchmarks/pii_unlabelled.py [--show 40]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.pii_eval import utterances_of  # noqa: E402
from benchmarks.reference import DATA  # noqa: E402
from callscope.transcription.redaction.detect import DETECT_VERSION, detect  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def dialogues() -> list[list]:
    """Every DailyDialog dialogue as word-timed utterances (:func:`benchmarks.pii_eval.utterances_of`)."""
    lines = (DATA / "text" / "dailydialog" / "dialogues_text_En.txt").read_text(encoding="utf-8").splitlines()
    return [utterances_of([x.strip() for x in line.split("__eou__") if x.strip()]) for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show", type=int, default=40, help="findings to print per kind")
    parser.add_argument("--out", type=Path, default=RESULTS / "pii_unlabelled.json")
    args = parser.parse_args()
    counts, examples, n = Counter(), {}, 0
    t0 = time.perf_counter()
    for utts in dialogues():
        n += len(utts)
        for f in detect(utts, "en"):
            counts[f.kind] += 1
            examples.setdefault(f.kind, []).append(" ".join(utts[u].words[w].word.strip() for u, w in f.words))
    seconds = time.perf_counter() - t0
    print(f"{DETECT_VERSION} on DailyDialog: {n} utterances in {seconds:.1f} s")
    for kind, k in counts.most_common():
        print(f"\n{kind}: {k}")
        for e in examples[kind][: args.show]:
            print(f"   {e}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "pii_unlabelled", "version": DETECT_VERSION, "utterances": n,
                                    "seconds": round(seconds, 2), "counts": dict(counts), "findings": examples},
                                   indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
