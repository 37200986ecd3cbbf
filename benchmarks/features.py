"""Acoustic features: YIN vs pYIN for pitch (speed and agreement), and whether speaker-normalised
arousal separates high- from low-arousal acted speech (Berlin EmoDB).

* Speed: seconds per second of audio for each f0 tracker on the same real recordings, timed
  alternately in one run (best of 3).
* Agreement: on frames both call voiced, median |Δf0| in semitones and the share within one
  semitone; voicing agreement (share of frames with the same decision).
* EmoDB: each file's arousal (tanh of the mean z-score of the product's arousal features that
  need no words: loudness, pitch, spectral centroid and flux; z against the same speaker's
  other files), compared with the ``arousal_class`` convention (anger/fear/happiness high;
  sadness/boredom low): ROC AUC, overall and per feature. Caveat: this packaging of EmoDB is
  level-normalised per file, so loudness says nothing about arousal here (it does on calls).

    .venv/bin/python benchmarks/features.py [--out benchmarks/results/features.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "features.json")
    args = parser.parse_args()

    from sklearn.metrics import roc_auc_score

    from callscope.audio.decode import decode_file
    from callscope.audio.features import frame_features, summarise
    from callscope.scoring.emotion import arousal_from_z

    clips = {
        "Call01 (8 kHz phone, 73 s)": decode_file(AUDIO / "callytics" / "Call01.wav").mono(),
        "pyannote_sample (30 s)": decode_file(AUDIO / "pyannote_sample" / "sample.wav").mono(),
        "EmoDB 20 files (acted)": np.concatenate([decode_file(p).mono() for p in sorted((AUDIO / "emodb" / "wav").glob("*.wav"))[:20]]),
    }
    speed, agreement = {}, {}
    for name, y in clips.items():
        times = {"yin": [], "pyin": []}
        frames = {}
        for _ in range(3):
            for method in ("yin", "pyin"):
                t0 = time.perf_counter()
                frames[method] = frame_features(y, 16000, f0_method=method)
                times[method].append(time.perf_counter() - t0)
        dur = len(y) / 16000
        speed[name] = {m: round(min(v) / dur, 4) for m, v in times.items()}
        a, b = frames["yin"].f0_hz, frames["pyin"].f0_hz
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
        both = np.isfinite(a) & np.isfinite(b)
        diff = np.abs(12 * np.log2(a[both] / b[both]))
        agreement[name] = {"frames_both_voiced": int(both.sum()),
                           "median_abs_diff_st": round(float(np.median(diff)), 3) if both.any() else None,
                           "within_1_st": round(float(np.mean(diff < 1.0)), 3) if both.any() else None,
                           "voicing_agreement": round(float(np.mean(np.isfinite(a) == np.isfinite(b))), 3)}

    with open(AUDIO / "emodb" / "labels.tsv", newline="") as f:
        labels = list(csv.DictReader(f, delimiter="\t"))
    rows = []
    for lab in labels:
        path = AUDIO / "emodb" / lab["file"]
        if not path.is_file() or lab.get("arousal_class") not in ("high", "low"):
            continue
        y = decode_file(path).mono()
        s = summarise(frame_features(y, 16000), 0.0, len(y) / 16000)
        if s is None or s.f0_median_hz is None:
            continue
        rows.append({"speaker": lab["speaker"], "high": lab["arousal_class"] == "high",
                     "x": [s.loudness_dbfs, 12 * np.log2(s.f0_median_hz / 100), s.centroid_hz, s.flux, s.f0_std_st]})
    z = []
    for r in rows:
        own = np.array([q["x"] for q in rows if q["speaker"] == r["speaker"]])
        med = np.median(own, axis=0)
        spread = np.maximum(1.4826 * np.median(np.abs(own - med), axis=0), 1e-3)
        z.append((np.array(r["x"]) - med) / spread)
    z = np.array(z)
    high = [r["high"] for r in rows]
    auc = float(roc_auc_score(high, [arousal_from_z(list(v[:4])) for v in z]))
    auc_no_level = float(roc_auc_score(high, [arousal_from_z(list(v[1:4])) for v in z]))
    per_feature = {n: round(float(roc_auc_score(high, z[:, i])), 3)
                   for i, n in enumerate(("loudness", "f0_median", "centroid", "flux", "f0_std (not used)"))}

    print(f"{'recording':30} {'yin s/s':>8} {'pyin s/s':>9} {'pyin/yin':>9} {'|Δf0| st':>9} {'≤1 st':>6} {'voicing agree':>14}")
    for name in clips:
        sp, ag = speed[name], agreement[name]
        print(f"{name:30} {sp['yin']:>8.4f} {sp['pyin']:>9.4f} {sp['pyin'] / sp['yin']:>8.1f}x {ag['median_abs_diff_st']:>9} {ag['within_1_st']:>6} {ag['voicing_agreement']:>14}")
    print(f"EmoDB: speaker-normalised arousal, high vs low arousal classes, {len(rows)} files: ROC AUC {auc:.3f} "
          f"(without the level-normalised loudness: {auc_no_level:.3f}); per feature {per_feature}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "features", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "seconds_per_audio_second": speed, "f0_agreement": agreement,
                                    "emodb_arousal_auc": round(auc, 4),
                                    "emodb_arousal_auc_without_loudness": round(auc_no_level, 4),
                                    "emodb_auc_per_feature": per_feature, "emodb_files": len(rows)}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
