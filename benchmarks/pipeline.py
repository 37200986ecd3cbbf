"""Stage timings of a full analysis (decode, VAD, ASR, diarisation, features, sentiment,
fusion, redaction) on real calls, the scoring stages' share of the ASR time, and the cost of
redaction as a share of the ASR time: finding and replacing personal data in the transcript
plus silencing it in the recording (as the service's worker does after the analysis).

Models load once (not timed); each call is analysed ``--rounds`` times and the fastest
round counts (the machine is shared and noisy).

    .venv/bin/python benchmarks/pipeline.py [--rounds 2] [--out benchmarks/results/pipeline.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CALLS = ["spokenwoz/MUL1011.opus", "callytics/Call01.wav", "pyannote_sample/sample.wav"]
STAGES = ("decode", "vad", "asr", "diarise", "features", "sentiment", "fusion", "redaction", "total")


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "pipeline.json")
    args = parser.parse_args()

    from callscope.audio.silence import silence
    from callscope.analysis.pipeline import Analyzer

    t0 = time.perf_counter()
    analyzer = Analyzer()
    load_s = time.perf_counter() - t0
    rows = []
    for name in CALLS:
        best = None
        for _ in range(args.rounds):
            result = analyzer.analyze(AUDIO / name)
            if best is None or result.timings_s.total < best.timings_s.total:
                best = result
        t = best.timings_s.model_dump()
        scoring = t["features"] + t["sentiment"] + t["fusion"]
        # redaction: the transcript (timed in the pipeline) and silencing the stored audio (as the worker does)
        silence_s = 0.0
        if best.redactions:  # best of the same rounds as the analysis (the first call also pays one-time costs)
            silence_s = float("inf")
            with tempfile.TemporaryDirectory() as tmp:
                for _ in range(args.rounds):
                    t1 = time.perf_counter()
                    silence(AUDIO / name, Path(tmp) / "redacted.flac", [(r.start, r.end, r.channel) for r in best.redactions])
                    silence_s = min(silence_s, time.perf_counter() - t1)
        rows.append({"file": name, "duration_s": best.duration_s, "layout": best.channel_layout,
                     "utterances": len(best.utterances), "timings_s": t,
                     "scoring_s": round(scoring, 3), "scoring_share_of_asr": round(scoring / t["asr"], 4) if t["asr"] else None,
                     "rtf": round(t["total"] / best.duration_s, 4), "redactions": len(best.redactions),
                     "audio_silencing_s": round(silence_s, 3),
                     "redaction_share_of_asr": round((t["redaction"] + silence_s) / t["asr"], 4) if t["asr"] else None})

    asr = analyzer.settings.asr
    print(f"Full analysis, {asr.engine} {asr.model} beam {asr.beam_size}, CPU; models loaded once in {load_s:.1f} s; "
          f"best of {args.rounds}")
    print(f"{'call':30} {'dur s':>6} " + " ".join(f"{s:>9}" for s in STAGES) + f" {'RTF':>6} {'scoring/ASR':>12}"
          f" {'found':>5} {'redact/ASR':>11}")
    for r in rows:
        print(f"{Path(r['file']).name:30} {r['duration_s']:>6.1f} " + " ".join(f"{r['timings_s'][s]:>9.2f}" for s in STAGES)
              + f" {r['rtf']:>6.3f} {100 * r['scoring_share_of_asr']:>11.1f}% {r['redactions']:>5}"
              f" {100 * r['redaction_share_of_asr']:>10.2f}%")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "pipeline", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "model_load_s": round(load_s, 2), "rounds": args.rounds, "calls": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
