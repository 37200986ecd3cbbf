"""Arousal as the product outputs it for short recordings: Berlin EmoDB analysed one clip per
file (issue 15, item 5).

Each clip is a separate recording with one speaker and (usually) one utterance, so the speaker
has no baseline of their own and arousal comes from the population prior
(``scoring/models/arousal_prior.json``, fitted on other data by ``scoring/fit_arousal_prior.py``).
The deployment says a lone speaker is a customer (``lone_speaker_role="customer"``), so
acoustics are allowed. A clip's arousal is the duration-weighted mean of its utterances'.

Reference: EmoDB's ``arousal_class`` convention (anger/fear/happiness high, sadness/boredom low;
neutral and disgust left out). Measure: ROC AUC of arousal, high vs low, over all shared clips
(speakers 03 and 08) and per speaker. The other protocol, "speaker-normalised": features of
whole clips z-scored against the same speaker's other clips, is ``benchmarks/features.py``.

    .venv/bin/python benchmarks/arousal.py [--out benchmarks/results/arousal.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "arousal.json")
    args = parser.parse_args()

    from sklearn.metrics import roc_auc_score

    from callscope.analysis.call_settings import CallSettings
    from callscope.analysis.pipeline import Analyzer

    with open(AUDIO / "emodb" / "labels.tsv", newline="") as f:
        labels = [r for r in csv.DictReader(f, delimiter="\t") if r["arousal_class"] in ("high", "low")]
    analyzer = Analyzer()
    as_customer = CallSettings(lone_speaker_role="customer")
    rows = []
    t0 = time.perf_counter()
    for lab in labels:
        path = AUDIO / "emodb" / lab["file"]
        default = analyzer.analyze(path)
        r = analyzer.analyze(path, call=as_customer)
        pairs = [(u.emotion.arousal, u.end - u.start) for u in r.utterances if u.emotion and u.emotion.arousal is not None]
        arousal = sum(a * d for a, d in pairs) / sum(d for _, d in pairs) if pairs else None
        baseline = next((s.arousal_baseline for s in r.speaker_scores), None)
        default_arousal = [u.emotion.arousal for u in default.utterances if u.emotion]
        rows.append({"file": lab["file"], "speaker": lab["speaker"], "emotion": lab["emotion"], "high": lab["arousal_class"] == "high",
                     "arousal": None if arousal is None else round(arousal, 4), "baseline": baseline,
                     "utterances": len(r.utterances),
                     "arousal_without_setting": default_arousal[0] if default_arousal else None})
    elapsed = time.perf_counter() - t0
    scored = [r for r in rows if r["arousal"] is not None]
    auc = round(float(roc_auc_score([r["high"] for r in scored], [r["arousal"] for r in scored])), 4)
    per_speaker = {}
    for spk in sorted({r["speaker"] for r in scored}):
        mine = [r for r in scored if r["speaker"] == spk]
        per_speaker[spk] = round(float(roc_auc_score([r["high"] for r in mine], [r["arousal"] for r in mine])), 4)
    without = [r for r in rows if r["arousal_without_setting"] is not None]
    print(f"\nEmoDB one clip per file, {len(rows)} clips (high vs low arousal class), lone speaker = customer:")
    print(f"  arousal given for {len(scored)} clips, baseline {sorted({str(r['baseline']) for r in scored})}")
    print(f"  ROC AUC {auc} overall; per speaker {per_speaker}")
    print(f"  without the setting (role unknown, no acoustics): arousal given for {len(without)} clips")
    print(f"  {elapsed / len(rows) / 2:.2f} s per analysis")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "arousal", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "protocol": "one clip per file, lone_speaker_role=customer, population prior",
                                    "clips": len(rows), "scored": len(scored), "auc": auc, "auc_per_speaker": per_speaker,
                                    "clips_with_arousal_without_setting": len(without), "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
