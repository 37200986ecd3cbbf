"""Diarisation accuracy on every recording in ../shared/data with a speaker reference.

* DER (pyannote.metrics, overlap scored) with a ±0.25 s collar (``collar=0.5``) and without.
* Word attribution: share of recognised words given the reference speaker (best mapping).
* Speaker count on single-speaker recordings (must be 1) and on the dual-channel call (2).
* SpokenWOZ: share of the customer turns in its CSV that overlap utterances of one speaker.
* The one-speaker test's statistic (10th percentile of window similarity) per recording,
  the evidence behind ``DiarisationSettings.single_speaker_similarity``.

    .venv/bin/python benchmarks/diarisation.py [--out benchmarks/results/diarisation.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import (  # noqa: E402
    AUDIO, rttm_turns, spokenwoz_customer_turns, tsv_turns, word_attribution_accuracy,
)

RESULTS = Path(__file__).resolve().parent / "results"

# (file, reference kind, reference path, uri)
REFERENCED = [
    ("pyannote_sample/sample.wav", "rttm", "pyannote_sample/sample.rttm", "sample"),
    ("telephone_codecs/pyannote_sample_mulaw_8k.wav", "rttm", "pyannote_sample/sample.rttm", "sample"),
    ("callytics/Call01.wav", "tsv", "callytics/Call01.turns.tsv", None),
    ("telephone_codecs/Call01_mulaw_8k.wav", "tsv", "callytics/Call01.turns.tsv", None),
    ("ami_debug/dev00.wav", "rttm", "ami_debug/debug.development.rttm", "dev00"),
    ("ami_debug/tst00.wav", "rttm", "ami_debug/debug.test.rttm", "tst00"),
    ("ami_debug/tst01.wav", "rttm", "ami_debug/debug.test.rttm", "tst01"),
]
SINGLE = ["jfk.flac", "callytics/CSR01.wav", *[f"librivox/{p.name}" for p in sorted((AUDIO / "librivox").glob("*.wav"))]]


def _annotation(turns):
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for i, (spk, s, e) in enumerate(turns):
        ann[Segment(s, e), i] = spk
    return ann


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "diarisation.json")
    args = parser.parse_args()

    from pyannote.metrics.diarization import DiarizationErrorRate

    from callscope.audio.decode import decode_file
    from callscope.analysis.pipeline import Analyzer
    from callscope.transcription.diarisation import window_similarity_p10
    from callscope.transcription.speech_gate import gather_speech

    analyzer = Analyzer()
    rows = []
    for name, kind, ref_path, uri in REFERENCED:
        ref = rttm_turns(AUDIO / ref_path, uri) if kind == "rttm" else tsv_turns(AUDIO / ref_path)
        result = analyzer.analyze(AUDIO / name)
        hyp = [(t.speaker, t.start, t.end) for t in result.turns]
        words = [(u.speaker, w.start, w.end) for u in result.utterances for w in u.words]
        rows.append({
            "file": name, "reference_speakers": len({r[0] for r in ref}), "found_speakers": len(result.speakers),
            "der_collar_0.25": round(DiarizationErrorRate(collar=0.5)(_annotation(ref), _annotation(hyp)), 4),
            "der_no_collar": round(DiarizationErrorRate()(_annotation(ref), _annotation(hyp)), 4),
            "word_attribution": round(word_attribution_accuracy(words, ref), 4) if kind == "tsv" or "pyannote" in name else None,
            "diarise_s": result.timings_s.diarise, "duration_s": result.duration_s,
        })
    singles = []
    for name in SINGLE:
        result = analyzer.analyze(AUDIO / name)
        singles.append({"file": name, "found_speakers": len(result.speakers)})

    call = analyzer.analyze(AUDIO / "spokenwoz" / "MUL1011.opus")
    customer = spokenwoz_customer_turns(AUDIO / "spokenwoz" / "dialogue_state_tracking_sample_spokenwoz.csv")
    coverage = {
        spk.id: sum(any(u.speaker == spk.id and min(u.end, e) - max(u.start, s) > 0 for u in call.utterances)
                    for s, e in customer) / len(customer)
        for spk in call.speakers
    }
    spokenwoz = {"layout": call.channel_layout, "speakers": len(call.speakers),
                 "customer_turns": len(customer), "customer_turn_coverage": coverage}

    evidence = []
    encoder = analyzer.encoder
    for name, n_speakers in [(r[0], None) for r in REFERENCED] + [(s, 1) for s in SINGLE] + [("spokenwoz/MUL1011.opus", None)]:
        audio = decode_file(AUDIO / name)
        signals = {"mix": audio.mono()}
        if name.endswith("MUL1011.opus"):
            signals.update({"ch0": audio.samples[0], "ch1": audio.samples[1]})
        for label, sig in signals.items():
            speech, _ = gather_speech(sig, analyzer.vad.regions(sig), 16000)
            emb, centres = encoder.window_embeddings(speech, 16000)
            true_n = 1 if label.startswith("ch") else n_speakers or (2 if "MUL1011" in name else next(
                r["reference_speakers"] for r in rows if r["file"] == name))
            evidence.append({"file": name, "signal": label, "true_speakers": true_n,
                             "window_similarity_p10": round(window_similarity_p10(emb, centres), 3)})

    print(f"{'file':48} {'ref':>3} {'found':>5} {'DER±0.25':>9} {'DER':>6} {'words ok':>9}")
    for r in rows:
        wa = "" if r["word_attribution"] is None else f"{100 * r['word_attribution']:.1f} %"
        print(f"{r['file']:48} {r['reference_speakers']:>3} {r['found_speakers']:>5} {100 * r['der_collar_0.25']:>8.1f}% {100 * r['der_no_collar']:>5.1f}% {wa:>9}")
    print("single-speaker recordings → speakers found:", ", ".join(f"{Path(s['file']).stem[-12:]}={s['found_speakers']}" for s in singles))
    print(f"SpokenWOZ MUL1011: {spokenwoz['layout']}, {spokenwoz['speakers']} speakers, customer-turn coverage "
          + ", ".join(f"{k} {100 * v:.0f} %" for k, v in coverage.items()))
    one = [e["window_similarity_p10"] for e in evidence if e["true_speakers"] == 1]
    many = [e["window_similarity_p10"] for e in evidence if e["true_speakers"] > 1]
    print(f"one-speaker statistic: single speaker min {min(one):.3f}, several speakers max {max(many):.3f}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "diarisation", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "referenced": rows, "single_speaker": singles, "spokenwoz": spokenwoz,
                                    "one_speaker_evidence": evidence}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
