"""Transcript reliability against WER, on shared recordings with reference transcripts (issue 23).

The analyses come from ``analysis/fit_reliability.py`` (cached in
``benchmarks/results/transcript_reliability_cases.json``; ``--refresh`` analyses again): every
shared recording with a reference (Berlin EmoDB, FLEURS de/fr/es, NPSC, LibriVox, JFK, the
stereo sample, Callytics Call01), as recorded and as a G.711 µ-law copy at 8 kHz, each decoded in
its own language and in a wrong one (English for non-English speech, Swedish for English), by
the product's pipeline (Whisper base, beam 1). The model was fitted on the **fit part** (EmoDB
speaker 03, FLEURS de and es, LibriVox) and its threshold chosen there; everything is reported on
the **check part** (EmoDB speaker 08, FLEURS fr, NPSC, JFK, the stereo sample, Call01 and its
G.711 copy), which it never saw.

Printed and written to ``benchmarks/results/transcript_reliability.json``:

* per recording and condition: WER against the call's reliability score (and per part, the
  Pearson and Spearman correlations of the score with 1 - WER);
* per utterance: the WER of the utterances above and below the threshold, per part, also with
  the wrong-language decodes left out (the harder case: right language, poor audio);
* calibration: mean score against the observed share of right words, in bins of the score;
* ``--decode-options``: the decode-time loop cut, measured: the same recordings (right
  language) decoded sequentially by Whisper base with the options compared (hallucination
  silence threshold off / 1 / 2 / 3 s, repetition penalty 1.1, no-repeat n-grams 3, beam 5):
  WER and windows whose text compresses above 2.4 (loops).

    .venv/bin/python benchmarks/transcript_reliability.py [--refresh] [--decode-options]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import DATA  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _scores(model, u: dict) -> float:
    from callscope.transcription.reliability import assess

    return assess(u["features"], model).score


def _correlations(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    from scipy.stats import pearsonr, spearmanr

    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return None, None
    return round(float(pearsonr(x, y)[0]), 3), round(float(spearmanr(x, y)[0]), 3)


def call_level(cases: list[dict], model) -> list[dict]:
    """Per case: the call's WER and its reliability score (as the pipeline computes it)."""
    rows = []
    for c in cases:
        us = [u for u in c["utterances"] if u["words"] > 0]
        errors = sum(u["errors"] for u in us)
        matched = sum(u["reference_words"] for u in us)
        missed = max(c["reference_words"] - matched, 0)  # reference words no utterance accounted for
        wer = (errors + missed) / c["reference_words"] if c["reference_words"] else None
        words = sum(u["words"] for u in us)
        expected = words + model.words_per_second * c["speech_without_words_s"]
        score = sum(_scores(model, u) * u["words"] for u in us) / expected if expected else None
        rows.append({"source": c["source"], "part": c["part"], "file": c["file"], "band": c["band"],
                     "decoded_as": c["decoded_as"], "wrong_language": c["wrong_language"],
                     "wer": None if wer is None else round(wer, 4), "reliability": None if score is None else round(score, 4),
                     "unreliable_share": round(sum(u["words"] for u in us if _scores(model, u) < model.threshold) / words, 4)
                     if words else None})
    return rows


def utterance_level(cases: list[dict], model, part: str, right_language_only: bool) -> dict:
    us = [u for c in cases if c["part"] == part and not (right_language_only and c["wrong_language"])
          for u in c["utterances"] if u["words"] > 0]
    s = np.array([_scores(model, u) for u in us])
    e = np.array([u["errors"] for u in us], dtype=float)
    n = np.array([u["reference_words"] for u in us], dtype=float)
    acc = np.array([0.0 if u["reference_words"] == 0 else max(0.0, 1 - u["errors"] / u["reference_words"]) for u in us])
    above, below = s >= model.threshold, s < model.threshold
    bad = acc < 0.5
    pearson, spearman = _correlations(s, acc)
    return {
        "part": part, "right_language_only": right_language_only, "utterances": len(us),
        "pearson_score_accuracy": pearson, "spearman_score_accuracy": spearman,
        "above": {"utterances": int(above.sum()), "wer": round(float(e[above].sum() / max(n[above].sum(), 1)), 4)},
        "below": {"utterances": int(below.sum()), "wer": round(float(e[below].sum() / max(n[below].sum(), 1)), 4)},
        "caught_half_wrong": f"{int((bad & below).sum())}/{int(bad.sum())}",
        "flagged_but_mostly_right": f"{int((~bad & below).sum())}/{int((~bad).sum())}",
        "calibration": [
            {"score": f"{a:.1f}-{b:.1f}", "utterances": int(m.sum()), "mean_score": round(float(s[m].mean()), 3),
             "right_words": round(float(1 - e[m].sum() / max(n[m].sum(), 1)), 3)}
            for a, b in zip(np.linspace(0, 0.8, 5), np.linspace(0.2, 1.0, 5))
            if (m := (s >= a) & ((s < b) | (b >= 1.0))).any()],
    }


def decode_options(data: Path) -> list[dict]:
    """WER and loops of the compared decode options over the recordings in their own language."""
    import jiwer

    from callscope.audio.decode import decode_file
    from callscope.audio.vad import NARROWBAND_MAX_SOURCE_HZ, SileroVad
    from callscope.transcription.engine import NO_FALLBACK, AsrSettings, create_engine
    from callscope.audio.telephone import g711_copy
    from callscope.analysis.fit_reliability import normalise, recordings
    from callscope.transcription.speech_gate import ASR_GAP_S, gather_speech
    import tempfile

    options = {"hallucination silence off (before)": {}, "hallucination silence 1 s": {"hallucination_silence_threshold": 1.0},
               "hallucination silence 2 s (shipped)": {"hallucination_silence_threshold": 2.0},
               "hallucination silence 3 s": {"hallucination_silence_threshold": 3.0},
               "repetition penalty 1.1": {"repetition_penalty": 1.1}, "no repeat 3-grams": {"no_repeat_ngram_size": 3},
               "beam 5": {"beam_size": 5}}
    engine = create_engine(AsrSettings(device="cpu"))
    vad = SileroVad()
    prepared = []
    with tempfile.TemporaryDirectory() as tmp:
        for rec in recordings(data):
            if rec.source.startswith("emodb") and zlib.crc32(rec.path.name.encode()) % 4:  # a quarter of EmoDB
                continue
            for band, path in (("recorded", rec.path), ("g711", g711_copy(rec.path, Path(tmp) / f"{rec.path.stem}.wav"))):
                audio = decode_file(path)
                signal = audio.mono()
                regions = vad.regions_batch([signal], audio.source_sample_rate <= NARROWBAND_MAX_SOURCE_HZ)[0]
                joined, _ = gather_speech(signal, regions, 16_000, ASR_GAP_S)
                prepared.append((rec, band, joined))
    rows = []
    for name, extra in options.items():
        t0 = time.perf_counter()
        errors = words = loops = 0
        for rec, _band, joined in prepared:
            kw = dict(language=rec.language, beam_size=1, word_timestamps=True, vad_filter=False,
                      condition_on_previous_text=False, temperature=NO_FALLBACK)
            kw.update(extra)
            segments = list(engine.model.transcribe(joined, **kw)[0])
            hyp = " ".join(normalise(" ".join(w.word for s in segments for w in s.words or [])))
            ref = " ".join(normalise(rec.reference))
            out = jiwer.process_words(ref, hyp) if hyp else None
            errors += (out.substitutions + out.deletions + out.insertions) if out else len(ref.split())
            words += len(ref.split())
            loops += any(s.compression_ratio > 2.4 for s in segments)
        rows.append({"options": name, "recordings": len(prepared), "wer": round(errors / words, 4),
                     "recordings_with_a_loop": loops, "seconds": round(time.perf_counter() - t0, 1)})
        print(f"  {name:38} WER {100 * rows[-1]['wer']:5.1f} %  loops {loops}  {rows[-1]['seconds']:.0f} s", flush=True)
    return rows


def main() -> None:
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--refresh", action="store_true", help="analyse the recordings again (about 15 min)")
    ap.add_argument("--decode-options", action="store_true", help="also measure the decode options (about 15 min)")
    ap.add_argument("--out", type=Path, default=RESULTS / "transcript_reliability.json")
    args = ap.parse_args()

    from callscope.analysis.fit_reliability import DEFAULT_CASES, analyse
    from callscope.transcription.reliability import load_model

    if args.refresh or not DEFAULT_CASES.is_file():
        cases = analyse(DATA)
        DEFAULT_CASES.write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M:%S"), "cases": cases}, indent=1,
                                            ensure_ascii=False) + "\n")
    cases = json.loads(DEFAULT_CASES.read_text())["cases"]
    model = load_model()
    print(f"model: {model.version}\nthreshold {model.threshold} (chosen on the fit part)\n")
    calls = call_level(cases, model)
    print(f"{'recording':34} {'part':5} {'band':8} {'decoded':7} {'WER':>7} {'reliability':>11} {'unreliable':>10}")
    for r in calls:
        if r["source"].startswith("emodb"):
            continue  # 107 short clips: summarised below
        doubtful = "" if r["unreliable_share"] is None else f"{100 * r['unreliable_share']:.0f}%"
        reliability = "–" if r["reliability"] is None else f"{r['reliability']:.3f}"
        print(f"{r['file'][:34]:34} {r['part']:5} {r['band']:8} {r['decoded_as']:7} {100 * r['wer']:6.1f}% "
              f"{reliability:>11} {doubtful:>10}")
    summary = {}
    for part in ("fit", "check"):
        for right_only in (False, True):
            rows = [r for r in calls if r["part"] == part and r["wer"] is not None and r["reliability"] is not None
                    and not (right_only and r["wrong_language"])]
            x = np.array([r["reliability"] for r in rows])
            y = np.array([1 - min(r["wer"], 1.0) for r in rows])
            summary[f"{part}{' right language' if right_only else ''}"] = dict(
                zip(("pearson", "spearman"), _correlations(x, y)), recordings=len(rows))
    emodb = [r for r in calls if r["source"].startswith("emodb")]
    for src in ("emodb03", "emodb08"):
        for wrong in (False, True):
            rows = [r for r in emodb if r["source"] == src and r["wrong_language"] == wrong]
            print(f"{src + (' (wrong language)' if wrong else ''):34} {rows[0]['part']:5} both     {'':7} "
                  f"{100 * np.mean([r['wer'] for r in rows]):6.1f}% {np.mean([r['reliability'] for r in rows]):11.3f}"
                  f"   ({len(rows)} clips, means)")
    print("\ncall level: correlation of the reliability score with 1 - WER (WER capped at 100 %)")
    for k, v in summary.items():
        print(f"  {k:22} Pearson {v['pearson']}  Spearman {v['spearman']}  ({v['recordings']} recordings x conditions)")
    utter = [utterance_level(cases, model, part, right) for part in ("fit", "check") for right in (False, True)]
    print("\nutterance level: WER above and below the threshold")
    for u in utter:
        label = f"{u['part']}{', right language only' if u['right_language_only'] else ''}"
        print(f"  {label:28} {u['utterances']:4} utterances; above {u['above']['utterances']:3}: WER "
              f"{100 * u['above']['wer']:5.1f} %; below {u['below']['utterances']:3}: WER {100 * u['below']['wer']:5.1f} %; "
              f"Pearson {u['pearson_score_accuracy']}; half-wrong caught {u['caught_half_wrong']}, "
              f"mostly-right flagged {u['flagged_but_mostly_right']}")
    check = next(u for u in utter if u["part"] == "check" and not u["right_language_only"])
    print("\ncalibration (check part): score bin, utterances, mean score, share of right words")
    for b in check["calibration"]:
        print(f"  {b['score']}  {b['utterances']:4}  {b['mean_score']:.2f}  {b['right_words']:.2f}")
    options = None
    if args.decode_options:
        print("\ndecode options (right language, sequential, Whisper base beam 1 unless said):")
        options = decode_options(DATA)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(args.out.read_text()) if args.out.is_file() else {}
    args.out.write_text(json.dumps({
        "benchmark": "transcript_reliability", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "model": model.version,
        "threshold": model.threshold, "call_correlations": summary, "utterances": utter, "calls": calls,
        "decode_options": options if options is not None else old.get("decode_options"),
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
