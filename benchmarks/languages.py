"""Nordic and European speech and text, in one table (issue 10): language ID on audio per
language (short clips < 5 s vs longer), WER per language with the language detected vs given,
and sentiment accuracy per language (the English-trained head as shipped, and with an
in-language threshold fitted on one half of the language's labelled sentences and tested on
the other, seed 0).

Audio (real speech with provenance in ../shared/data/README.md): FLEURS de/fr/es (read
sentences, CC BY 4.0), NPSC Norwegian (parliament, CC0), NST Danish (read, no reference text),
Berlin EmoDB German (acted, CC0; its labels give the spoken sentence), LibriVox and JFK English
(public domain), Callytics Call01 (English phone call). Every clip is analysed as a recording by
the product (default settings: every supported language allowed).

Text: da_lcc, da_europarl (Danish), no_norec (Norwegian), fi_xed (Finnish, polarity derived
from emotions), MELD dev (English TV dialogue, positive vs negative; never trained on).
Swedish, German, French, Spanish and Polish have no labelled sentiment data here: their
sentiment is unvalidated (and the output says so).

    .venv/bin/python benchmarks/languages.py [--out benchmarks/results/languages.json]
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
from benchmarks.reference import AUDIO, DATA, normalise_text  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SHORT_S = 5.0
TEXT_SETS = {"da": ["da_lcc", "da_europarl"], "no": ["no_norec"], "fi": ["fi_xed"]}


def clips() -> list[tuple[str, Path, str | None]]:
    """(language, path, reference text or None)."""
    multi = DATA / "multilingual" / "audio"
    out = []
    for p in sorted(multi.glob("fleurs_*.ogg")) + sorted(multi.glob("no_npsc_*.mp3")):
        lang = "no" if p.name.startswith("no_") else p.name.split("_")[1].split("-")[0]
        out.append((lang, p, p.with_suffix(".txt").read_text()))
    out += [("da", p, None) for p in sorted(multi.glob("da_nst_*.wav"))]
    with open(AUDIO / "emodb" / "labels.tsv", newline="") as f:
        out += [("de", AUDIO / "emodb" / r["file"], r["text_de"]) for r in csv.DictReader(f, delimiter="\t")]
    out += [("en", p, p.with_suffix(".txt").read_text()) for p in sorted((AUDIO / "librivox").glob("*.wav"))]
    out += [("en", AUDIO / "jfk.flac", (AUDIO / "jfk.txt").read_text())]
    call01 = AUDIO / "callytics" / "Call01.turns.tsv"
    out += [("en", AUDIO / "callytics" / "Call01.wav",
             " ".join(line.split("\t", 3)[3] for line in call01.read_text().splitlines()[1:] if line.strip()))]
    return out


def audio_rows() -> list[dict]:
    import jiwer

    from callscope.call_settings import CallSettings
    from callscope.pipeline import AnalysisSettings, Analyzer
    from callscope.transcription.redaction.apply import RedactionPolicy

    analyzer = Analyzer(AnalysisSettings(redaction=RedactionPolicy(enabled=False)))  # ASR as written, for WER
    rows = []
    for lang, path, ref in clips():
        auto = analyzer.analyze(path)
        row = {"language": lang, "file": path.name, "duration_s": auto.duration_s, "detected": auto.language,
               "confidence": auto.language_confidence, "note": auto.language_note}
        if ref is not None:
            forced = auto if auto.language == lang else analyzer.analyze(path, call=CallSettings(language=lang))
            text = lambda r: normalise_text(" ".join(u.text for u in r.utterances))  # noqa: E731
            row["wer_auto"] = round(jiwer.wer(normalise_text(ref), text(auto)), 4)
            row["wer_forced"] = round(jiwer.wer(normalise_text(ref), text(forced)), 4)
            row["ref_words"] = len(normalise_text(ref).split())
        rows.append(row)
    return rows


def _fit_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The score threshold with the best balanced accuracy on these sentences."""
    grid = np.linspace(-0.5, 0.5, 101)

    def balanced(t: float) -> float:
        pred = scores > t
        return float(np.mean([np.mean(pred[labels == c] == bool(c)) for c in (0, 1) if np.any(labels == c)]))

    return float(max(grid, key=lambda t: (balanced(t), -abs(t))))


def text_rows() -> list[dict]:
    from callscope.scoring.sentiment import SentimentModel
    from callscope.scoring.train_sentiment import cached_embeddings

    model = SentimentModel()
    cache = Path.home() / ".cache" / "callscope" / "embeddings"
    sets: dict[str, tuple[list[str], np.ndarray]] = {}
    with open(DATA / "text" / "meld" / "dev_sent_emo.csv", newline="", encoding="utf-8") as f:
        meld = [r for r in csv.DictReader(f) if r["Sentiment"] in ("positive", "negative")]
    sets["en"] = ([r["Utterance"].replace("\x92", "'") for r in meld], np.array([r["Sentiment"] == "positive" for r in meld], dtype=int))
    for lang, names in TEXT_SETS.items():
        t_all, l_all = [], []
        for name in names:
            for row in csv.reader(open(DATA / "multilingual" / "text" / f"{name}.tsv", newline="", encoding="utf-8"), delimiter="\t"):
                if len(row) == 2:
                    l_all.append(int(row[0]))
                    t_all.append(row[1])
        sets[lang] = (t_all, np.array(l_all))
    rows = []
    for lang, (texts, labels) in sets.items():
        rng = np.random.default_rng(0)  # the same split for a language whatever else is measured
        scores = np.array([s.score for s in model.score_embeddings(cached_embeddings(model.encoder, texts, cache))])
        half = rng.permutation(len(texts)) < len(texts) // 2
        calibrated = []
        for fit, test in ((half, ~half), (~half, half)):
            t = _fit_threshold(scores[fit], labels[fit])
            calibrated.append((np.sum((scores[test] > t) == labels[test].astype(bool)), int(np.sum(test)), t))
        rows.append({"language": lang, "sentences": len(texts),
                     "accuracy_english_trained": round(float(np.mean((scores > 0) == labels.astype(bool))), 4),
                     "accuracy_in_language_threshold": round(sum(c[0] for c in calibrated) / sum(c[1] for c in calibrated), 4),
                     "thresholds": [round(c[2], 3) for c in calibrated]})
    return rows


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "languages.json")
    parser.add_argument("--text-only", action="store_true", help="measure text again, keep --out's audio rows")
    args = parser.parse_args()

    t0 = time.perf_counter()
    audio = json.loads(args.out.read_text())["audio"] if args.text_only else audio_rows()
    text = text_rows()
    table = []
    for lang in ("en", "sv", "da", "no", "fi", "de", "fr", "es", "pl"):
        mine = [r for r in audio if r["language"] == lang]
        short = [r for r in mine if r["duration_s"] < SHORT_S]
        long_ = [r for r in mine if r["duration_s"] >= SHORT_S]
        refs = [r for r in mine if "wer_auto" in r]
        words = sum(r["ref_words"] for r in refs)
        sent = next((r for r in text if r["language"] == lang), None)
        table.append({
            "language": lang, "clips": len(mine),
            "lid_short": f"{sum(r['detected'] == lang for r in short)}/{len(short)}" if short else None,
            "lid_long": f"{sum(r['detected'] == lang for r in long_)}/{len(long_)}" if long_ else None,
            "wer_auto": round(sum(r["wer_auto"] * r["ref_words"] for r in refs) / words, 4) if refs else None,
            "wer_forced": round(sum(r["wer_forced"] * r["ref_words"] for r in refs) / words, 4) if refs else None,
            "sentiment_english_trained": sent["accuracy_english_trained"] if sent else None,
            "sentiment_in_language_threshold": sent["accuracy_in_language_threshold"] if sent else None,
        })
    fmt = lambda v, pct=True: "–" if v is None else (f"{100 * v:.1f}%" if pct else str(v))  # noqa: E731
    print(f"\n{'lang':5} {'clips':>5} {'LID <5 s':>9} {'LID ≥5 s':>9} {'WER auto':>9} {'WER given':>9} {'sent. EN-trained':>16} {'sent. in-language':>17}")
    for r in table:
        print(f"{r['language']:5} {r['clips']:>5} {fmt(r['lid_short'], False):>9} {fmt(r['lid_long'], False):>9} {fmt(r['wer_auto']):>9} "
              f"{fmt(r['wer_forced']):>9} {fmt(r['sentiment_english_trained']):>16} {fmt(r['sentiment_in_language_threshold']):>17}")
    misses = [f"{r['file']} ({r['language']}, {r['duration_s']:.1f} s) → {r['detected']} {r['confidence']}" for r in audio if r["detected"] != r["language"]]
    print("language ID misses: " + ("; ".join(misses) or "none"))
    print(f"{time.perf_counter() - t0:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "languages", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "table": table,
                                    "audio": audio, "text": text}, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
