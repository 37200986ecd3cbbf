"""Fit the transcript-reliability model (``transcription/models/reliability.json``).

What it learns: from an utterance's decoder and word measurements
(:mod:`callscope.transcription.reliability`) to the share of its words that are right, against
reference transcripts. Each recording is analysed by the product's own pipeline (Whisper base,
beam 1, speech-gated, no redaction) in four conditions: as recorded and as a G.711 µ-law copy at
8 kHz (a telephone line), each decoded in its own language and in a wrong one (English for
non-English speech, Swedish for English speech: what a deployment that forces a language does to
a call in another). The wrong-language decodes are real decoder output, not invented text: they
give the model the fluent-but-wrong transcripts it must learn to doubt.

Data (``../shared/data``; only recordings whose licence allows a shipped model):

* **fit part**: Berlin EmoDB speaker 03 (CC0, acted German sentences, the spoken sentence in
  ``labels.tsv``), FLEURS German and Spanish (CC BY 4.0, Google), LibriVox (public domain);
* **check part** (never fitted on; ``benchmarks/transcript_reliability.py`` reports it): EmoDB
  speaker 08, FLEURS French, NPSC Norwegian (CC0), JFK (public domain), the stereo sample (MIT),
  and Callytics Call01 with its G.711 copy (GPL-3.0: evaluation only, never fitted on).

Each utterance's accuracy is ``max(0, 1 - errors / reference words)`` after aligning the whole
hypothesis to the whole reference (jiwer; lower case, no punctuation); a deleted reference word
counts against the utterance of the hypothesis word before it. The model is a logistic
regression on the utterance's standardised inputs (:func:`~callscope.transcription.reliability.inputs`),
fitted to those accuracies as fractional outcomes (each utterance weighted by its words; each
source weighted equally), L2 strength chosen by leave-one-source-out. The threshold is the score
that best separates utterances with at least half their words wrong (Youden's J) on the fit part.

    .venv/bin/python -m callscope.analysis.fit_reliability [--data ../shared/data] [--cases FILE] [--refresh]

The analyses are cached in ``--cases`` (default ``benchmarks/results/transcript_reliability_cases.json``);
``--refresh`` analyses again.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.audio.telephone import g711_copy
from callscope.environment import shared_data
from callscope.transcription.reliability import FEATURES, MODEL_PATH, ReliabilityModel, inputs

SEED = 0
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASES = ROOT / "benchmarks" / "results" / "transcript_reliability_cases.json"
#: Utterances with at least this share of words wrong are the ones the threshold should catch.
BAD_ACCURACY = 0.5


@dataclass(frozen=True)
class Recording:
    """A recording with its reference text, its source and which part it belongs to."""

    source: str
    part: str  # fit | check
    language: str
    path: Path
    reference: str


def recordings(data: Path) -> list[Recording]:
    audio, multi = data / "audio", data / "multilingual" / "audio"
    out: list[Recording] = []
    with open(audio / "emodb" / "labels.tsv", newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            part = "fit" if r["speaker"] == "03" else "check"
            out.append(Recording(f"emodb{r['speaker']}", part, "de", audio / "emodb" / r["file"], r["text_de"]))
    for p in sorted(multi.glob("fleurs_*.ogg")):
        lang = p.name.split("_")[1].split("-")[0]
        out.append(Recording(f"fleurs_{lang}", "check" if lang == "fr" else "fit", lang, p, p.with_suffix(".txt").read_text()))
    for p in sorted(multi.glob("no_npsc_*.mp3")):
        out.append(Recording("npsc", "check", "no", p, p.with_suffix(".txt").read_text()))
    for p in sorted((audio / "librivox").glob("*.wav")):
        out.append(Recording("librivox", "fit", "en", p, p.with_suffix(".txt").read_text()))
    out.append(Recording("jfk", "check", "en", audio / "jfk.flac", (audio / "jfk.txt").read_text()))
    stereo = " ".join((audio / f"stereo_diarization.{side}.txt").read_text() for side in ("left", "right"))
    out.append(Recording("stereo", "check", "en", audio / "stereo_diarization.wav", stereo))
    turns = (audio / "callytics" / "Call01.turns.tsv").read_text().splitlines()[1:]
    call01 = " ".join(line.split("\t", 3)[3] for line in turns if line.strip())
    out.append(Recording("call01", "check", "en", audio / "callytics" / "Call01.wav", call01))
    return out


def normalise(text: str) -> list[str]:
    """Lower case, punctuation removed (as benchmarks/reference.normalise_text)."""
    text = text.lower().replace("’", "'")
    return re.sub(r"[^\w\s']", " ", text).split()


def utterance_accuracy(utterances: list[list[str]], reference: list[str]) -> list[tuple[int, int]]:
    """(errors, reference words) per utterance (each a list of normalised hypothesis tokens)."""
    import jiwer

    owner = [ui for ui, toks in enumerate(utterances) for _ in toks]
    hyp = [t for toks in utterances for t in toks]
    errors = [0] * len(utterances)
    refs = [0] * len(utterances)
    if not hyp:
        return [(0, 0)] * len(utterances)
    if not reference:
        for ui, toks in enumerate(utterances):
            errors[ui] = len(toks)
        return list(zip(errors, refs))
    out = jiwer.process_words(" ".join(reference), " ".join(hyp))
    for chunk in out.alignments[0]:
        if chunk.type == "delete":
            ui = owner[max(chunk.hyp_start_idx - 1, 0)]
            n = chunk.ref_end_idx - chunk.ref_start_idx
            errors[ui] += n
            refs[ui] += n
            continue
        for k in range(chunk.hyp_start_idx, chunk.hyp_end_idx):
            ui = owner[k]
            if chunk.type == "insert":
                errors[ui] += 1
            else:
                refs[ui] += 1
                errors[ui] += chunk.type == "substitute"
    return list(zip(errors, refs))


def analyse(data: Path, keep=lambda rec: True, bands=("recorded", "g711")) -> list[dict]:
    """Every recording (for which ``keep(recording)``) in its conditions (``bands`` × own and wrong
    language), analysed: per case its utterances' features and accuracies, and the call's
    reliability."""
    from callscope.analysis.call_settings import CallSettings
    from callscope.analysis.pipeline import Analyzer, build_analysis_settings
    from callscope.transcription.redaction.apply import RedactionPolicy

    with tempfile.TemporaryDirectory() as tmp:
        neutral = Path(tmp) / "neutral.json"  # the features do not depend on the model being fitted
        neutral.write_text(json.dumps(ReliabilityModel("neutral", 0.0, {}, {}, {}, 0.5, 2.5).to_json()))
        analyzer = Analyzer(build_analysis_settings(device="cpu", redaction=RedactionPolicy(enabled=False), score=False,
                                                    reliability_model=str(neutral), unsupported_language="transcribe"))
        cases = []
        for rec in filter(keep, recordings(data)):
            paths = {"recorded": rec.path}
            if "g711" in bands:
                paths["g711"] = g711_copy(rec.path, Path(tmp) / (rec.path.stem + ".g711.wav"))
            for band, path in paths.items():
                for decoded in (rec.language, "sv" if rec.language == "en" else "en"):
                    result = analyzer.analyze(path, call=CallSettings(language=decoded))
                    utts = [u for u in result.utterances if u.reliability is not None]
                    if result.channel_layout == "dual_channel":  # the reference is written channel by channel
                        utts.sort(key=lambda u: (u.speaker, u.start))
                    scored = utterance_accuracy([normalise(u.text) for u in utts], normalise(rec.reference))
                    cases.append({
                        "source": rec.source, "part": rec.part, "file": rec.path.name, "language": rec.language,
                        "band": band, "decoded_as": decoded, "wrong_language": decoded != rec.language,
                        "reference_words": len(normalise(rec.reference)),
                        "speech_without_words_s": result.transcript_reliability.speech_without_words_s
                        if result.transcript_reliability else None,
                        "utterances": [{"features": u.reliability.features if u.reliability else None, "words": len(normalise(u.text)),
                                        "errors": e, "reference_words": n, "text": u.text}
                                       for u, (e, n) in zip(utts, scored)],
                    })
            print(f"{rec.source:10} {rec.path.name:32} {len(cases)} cases", flush=True)
    return cases


def accuracy(u: dict) -> float:
    return 0.0 if u["reference_words"] == 0 else max(0.0, 1.0 - u["errors"] / u["reference_words"])


def design(utterances: list[dict]) -> np.ndarray:
    return np.array([[inputs(u["features"])[k] for k in FEATURES] for u in utterances])


def fit(cases: list[dict], c_grid=(0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)) -> tuple[ReliabilityModel, dict]:
    """The model from the fit part's cases, and a record of the fit."""
    from sklearn.linear_model import LogisticRegression

    rows = [(c["source"], u) for c in cases if c["part"] == "fit" for u in c["utterances"] if u["words"] > 0]
    sources = sorted({s for s, _ in rows})
    X = design([u for _, u in rows])
    mean, scale = X.mean(axis=0), X.std(axis=0) + 1e-6
    Z = (X - mean) / scale
    acc = np.array([accuracy(u) for _, u in rows])
    n = np.array([u["words"] for _, u in rows], dtype=float)
    per_source = {s: sum(n[i] for i, (src, _) in enumerate(rows) if src == s) for s in sources}
    w = np.array([n[i] / per_source[src] for i, (src, _) in enumerate(rows)])  # each source weighs the same

    def train(idx, c):
        zz = np.concatenate([Z[idx], Z[idx]])
        yy = np.concatenate([np.ones(len(idx)), np.zeros(len(idx))])
        ww = np.concatenate([w[idx] * acc[idx], w[idx] * (1 - acc[idx])])
        keep = ww > 0
        return LogisticRegression(C=c, max_iter=2000).fit(zz[keep], yy[keep], sample_weight=ww[keep])

    def loss(c):  # leave one source out: weighted squared error of the predicted accuracy
        err = tot = 0.0
        for s in sources:
            test = np.array([i for i, (src, _) in enumerate(rows) if src == s])
            train_idx = np.array([i for i, (src, _) in enumerate(rows) if src != s])
            pred = train(train_idx, c).predict_proba(Z[test])[:, 1]
            err += float(np.sum(w[test] * (pred - acc[test]) ** 2))
            tot += float(np.sum(w[test]))
        return err / tot

    losses = {c: loss(c) for c in c_grid}
    best_c = min(losses, key=lambda c: losses[c])
    model = train(np.arange(len(rows)), best_c)
    pred = model.predict_proba(Z)[:, 1]
    bad = acc < BAD_ACCURACY
    best_t, best_j = 0.5, -1.0
    for t in np.round(np.arange(0.2, 0.81, 0.01), 2):
        flagged = pred < t
        tpr = float(np.sum(w[bad & flagged]) / max(np.sum(w[bad]), 1e-9))
        fpr = float(np.sum(w[~bad & flagged]) / max(np.sum(w[~bad]), 1e-9))
        if tpr - fpr > best_j:
            best_t, best_j = float(t), tpr - fpr
    good = [u for _, u in rows if accuracy(u) >= 0.9 and u["features"]["words_per_second"] > 0]
    rate = float(np.median([u["features"]["words_per_second"] for u in good])) if good else 2.5
    version = (f"reliability/1 (logistic on {len(FEATURES)} decoder and word measurements; fit on "
               f"{'+'.join(sources)} (EmoDB CC0, FLEURS CC BY 4.0 Google, LibriVox public domain), as recorded and "
               f"G.711, own and wrong language, {len(rows)} utterances; C={best_c} by leave-one-source-out; "
               f"threshold {best_t} by Youden on accuracy < {BAD_ACCURACY}; seed {SEED})")
    out = ReliabilityModel(version=version, intercept=round(float(model.intercept_[0]), 6),
                           weights={k: round(float(v), 6) for k, v in zip(FEATURES, model.coef_[0])},
                           mean={k: round(float(v), 6) for k, v in zip(FEATURES, mean)},
                           scale={k: round(float(v), 6) for k, v in zip(FEATURES, scale)},
                           threshold=best_t, words_per_second=round(rate, 3))
    return out, {"c_losses": losses, "c": best_c, "youden_j": round(best_j, 4), "utterances": len(rows),
                 "sources": sources}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=shared_data(ROOT.parent / "shared" / "data"))
    ap.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="cache of the analyses (JSON)")
    ap.add_argument("--refresh", action="store_true", help="analyse again even if the cache exists")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args()
    np.random.seed(SEED)
    if args.refresh or not args.cases.is_file():
        t0 = time.perf_counter()
        cases = analyse(args.data)
        args.cases.parent.mkdir(parents=True, exist_ok=True)
        args.cases.write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M:%S"), "cases": cases}, indent=1,
                                         ensure_ascii=False) + "\n")
        print(f"analysed {len(cases)} cases in {time.perf_counter() - t0:.0f} s")
    cases = json.loads(args.cases.read_text())["cases"]
    model, record = fit(cases)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_json(), indent=2) + "\n")
    print(json.dumps(record, indent=1))
    print(f"wrote {args.out}: threshold {model.threshold}, weights {model.weights}")


if __name__ == "__main__":
    main()
