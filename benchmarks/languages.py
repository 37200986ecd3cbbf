"""Nordic and European speech and text, in one table (issue 10; 8 kHz columns from issue 23):
language ID on audio per language (short clips < 5 s vs longer; over Whisper's whole language
set), WER per language with the language detected vs given, the same at 8 kHz (each clip as a
G.711 µ-law copy) with the transcript's reliability, the written dialogues spoken by espeak-ng
into 8 kHz calls (synthetic speech: the only figure for sv, da, fi and pl, labelled as such),
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
    """Each clip as recorded and as a G.711 µ-law copy at 8 kHz (a telephone line): the language
    heard (over Whisper's whole set), WER with it and with the language given, and the
    transcript's reliability."""
    import tempfile

    import jiwer

    from callscope.analysis.call_settings import CallSettings
    from callscope.analysis.pipeline import AnalysisSettings, Analyzer
    from callscope.audio.telephone import g711_copy
    from callscope.transcription.redaction.apply import RedactionPolicy

    # ASR as written, for WER; a call heard outside the nine is transcribed in what was heard
    analyzer = Analyzer(AnalysisSettings(redaction=RedactionPolicy(enabled=False), unsupported_language="transcribe"))
    text = lambda r: normalise_text(" ".join(u.text for u in r.utterances))  # noqa: E731
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for lang, path, ref in clips():
            for band, p in (("recorded", path), ("g711", g711_copy(path, Path(tmp) / f"{path.stem}.g711.wav"))):
                auto = analyzer.analyze(p)
                row = {"language": lang, "file": path.name, "band": band, "duration_s": auto.duration_s,
                       "detected": auto.language, "confidence": auto.language_confidence,
                       "supported": auto.language_supported, "note": auto.language_note,
                       "reliability": auto.transcript_reliability.score if auto.transcript_reliability else None}
                if ref is not None:
                    forced = auto if auto.language == lang else analyzer.analyze(p, call=CallSettings(language=lang))
                    row["wer_auto"] = round(jiwer.wer(normalise_text(ref), text(auto)), 4) if text(auto) else 1.0
                    row["wer_forced"] = round(jiwer.wer(normalise_text(ref), text(forced)), 4) if text(forced) else 1.0
                    row["reliability_forced"] = forced.transcript_reliability.score if forced.transcript_reliability else None
                    row["ref_words"] = len(normalise_text(ref).split())
                rows.append(row)
            print(f"{lang} {path.name}: {rows[-2]['detected']} / 8 kHz {rows[-1]['detected']}", flush=True)
    return rows


def dialogue_rows() -> list[dict]:
    """The written dialogues (benchmarks/data/dialogues.json) spoken by espeak-ng into G.711 calls:
    language heard, WER against the script, reliability. Synthetic speech: the languages the shared
    data has no reference speech for (sv, da, fi, pl) at least get a figure, labelled as such."""
    import tempfile

    import jiwer

    from benchmarks.dialogue_audio import available, dialogues, speak
    from callscope.analysis.call_settings import CallSettings
    from callscope.analysis.pipeline import AnalysisSettings, Analyzer
    from callscope.transcription.redaction.apply import RedactionPolicy

    if not available():
        print("espeak-ng is not installed: the spoken dialogues are left out")
        return []
    analyzer = Analyzer(AnalysisSettings(redaction=RedactionPolicy(enabled=False), unsupported_language="transcribe"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in dialogues():
            path, _ = speak(d, Path(tmp))
            ref = normalise_text(" ".join(text for _, text in d["lines"]))
            auto = analyzer.analyze(path)
            forced = auto if auto.language == d["language"] else analyzer.analyze(path, call=CallSettings(language=d["language"]))
            hyp = lambda r: normalise_text(" ".join(u.text for u in r.utterances))  # noqa: E731
            rows.append({"dialogue": d["id"], "language": d["language"], "detected": auto.language,
                         "confidence": auto.language_confidence, "wer_forced": round(jiwer.wer(ref, hyp(forced)), 4),
                         "reliability_forced": forced.transcript_reliability.score, "ref_words": len(ref.split())})
            print(f"{d['id']}: {auto.language} {auto.language_confidence:.2f}, WER given {rows[-1]['wer_forced']:.2f}", flush=True)
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
    stored = json.loads(args.out.read_text()) if args.text_only else {}
    audio = stored["audio"] if args.text_only else audio_rows()
    spoken = stored.get("dialogues", []) if args.text_only else dialogue_rows()
    text = text_rows()
    table = []
    for lang in ("en", "sv", "da", "no", "fi", "de", "fr", "es", "pl"):
        mine = [r for r in audio if r["language"] == lang and r.get("band", "recorded") == "recorded"]
        phone = [r for r in audio if r["language"] == lang and r.get("band") == "g711"]
        short = [r for r in mine if r["duration_s"] < SHORT_S]
        long_ = [r for r in mine if r["duration_s"] >= SHORT_S]
        refs = [r for r in mine if "wer_auto" in r]
        phone_refs = [r for r in phone if "wer_auto" in r]
        said = [r for r in spoken if r["language"] == lang]
        sent = next((r for r in text if r["language"] == lang), None)

        def wer(rows, key):
            n = sum(r["ref_words"] for r in rows)
            return round(sum(r[key] * r["ref_words"] for r in rows) / n, 4) if rows else None

        table.append({
            "language": lang, "clips": len(mine),
            "lid_short": f"{sum(r['detected'] == lang for r in short)}/{len(short)}" if short else None,
            "lid_long": f"{sum(r['detected'] == lang for r in long_)}/{len(long_)}" if long_ else None,
            "wer_auto": wer(refs, "wer_auto"), "wer_forced": wer(refs, "wer_forced"),
            "lid_8k": f"{sum(r['detected'] == lang for r in phone)}/{len(phone)}" if phone else None,
            "wer_8k_forced": wer(phone_refs, "wer_forced"),
            "reliability_8k": round(float(np.mean([r["reliability_forced"] for r in phone_refs
                                                   if r.get("reliability_forced") is not None])), 3) if phone_refs else None,
            "espeak_8k": {"lid": f"{sum(r['detected'] == lang for r in said)}/{len(said)}", "wer_forced": wer(said, "wer_forced"),
                          "reliability": round(float(np.mean([r["reliability_forced"] for r in said])), 3)} if said else None,
            "sentiment_english_trained": sent["accuracy_english_trained"] if sent else None,
            "sentiment_in_language_threshold": sent["accuracy_in_language_threshold"] if sent else None,
        })
    fmt = lambda v, pct=True: "–" if v is None else (f"{100 * v:.1f}%" if pct else str(v))  # noqa: E731
    print(f"\n{'lang':5} {'clips':>5} {'LID <5 s':>9} {'LID ≥5 s':>9} {'WER auto':>9} {'WER given':>9} {'LID 8k':>7} "
          f"{'WER 8k':>7} {'rel 8k':>6} {'espeak 8k: LID, WER, rel':>26} {'sent. EN-trained':>16} {'sent. in-language':>17}")
    for r in table:
        e = r["espeak_8k"]
        espeak = f"{e['lid']}, {fmt(e['wer_forced'])}, {e['reliability']:.2f}" if e else "–"
        print(f"{r['language']:5} {r['clips']:>5} {fmt(r['lid_short'], False):>9} {fmt(r['lid_long'], False):>9} {fmt(r['wer_auto']):>9} "
              f"{fmt(r['wer_forced']):>9} {fmt(r['lid_8k'], False):>7} {fmt(r['wer_8k_forced']):>7} "
              f"{fmt(r['reliability_8k'], False):>6} {espeak:>26} "
              f"{fmt(r['sentiment_english_trained']):>16} {fmt(r['sentiment_in_language_threshold']):>17}")
    misses = [f"{r['file']} {r.get('band', 'recorded')} ({r['language']}, {r['duration_s']:.1f} s) → {r['detected']} {r['confidence']}"
              for r in audio if r["detected"] != r["language"]]
    print("language ID misses: " + ("; ".join(misses) or "none"))
    print(f"{time.perf_counter() - t0:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "languages", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "table": table,
                                    "audio": audio, "dialogues": spoken, "text": text}, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
