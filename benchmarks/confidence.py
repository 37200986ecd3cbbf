"""Do the confidences mean what they say? Reliability diagrams and expected calibration error
(issue 30, item 5).

* **Sentiment sign confidence** (``sentiment.confidence``: P that the score's sign is right,
  0.5..1), on sentences whose polarity people labelled: vader's held-out tenth (|rating| ≥ 0.5;
  the fold the head is checked on, never trained on), MELD dev's positive and negative lines (TV
  dialogue, evaluation only), GoEmotions' test split's positive-only and negative-only comments
  (Reddit conversation; the gate was trained on its train split, never on the sign), and the Danish and Norwegian sets (heads trained on English).
  A temperature on the sign head's logit, fitted on development data only (GoEmotions' dev
  split, polar comments, and the vader calibration tenth), is printed too: near 1 means the
  head was already calibrated where it may be fitted, and none is applied.
* **Emotion label confidence** (``emotion.confidence`` of a text-only label, 0..1: P(its valence
  class, negative / neutral / positive, is right)), before (emotion-rules/2: the sign confidence
  scaled by the distance from the band) and after (emotion-rules/3: the Platt curves of
  ``scoring/models/label_confidence.json``, fitted on GoEmotions' dev split), on sets the curves
  never saw: GoEmotions' test split (in-domain), MELD dev and DailyDialog's 600 dialogues
  (evaluation only; their labels: the corpus's sentiment, and emotions turned into sentiment).
* **Role confidence** (``call_scores.role_confidence``, 0.5..1) of the words-only rules
  (``roles_from_text``), on every window of 6 consecutive utterances holding both parties, as if
  a call were that short: Call01's hand-made reference transcript (real call, roles known) and
  the twelve contact-centre dialogues of ``benchmarks/data/dialogues.json`` (written for the role
  benchmark before the roles/3 cues; roles known by construction; as text, not spoken).
* **Level confidence**: in ``benchmarks/level_confidence.py`` (no shared call has a human level;
  texts whose every sentence people rated stand in).

ECE: 10 equal-width bins over 0.5..1 (labels: over 0..1), the mean |accuracy − confidence|
weighted by the bin's share. PNGs: ``benchmarks/results/confidence_{sentiment,labels,roles}.png``.

    .venv/bin/python benchmarks/confidence.py [--out benchmarks/results/confidence.json]
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
from benchmarks.sentiment import CACHE  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BINS = np.linspace(0.5, 1.0, 11)
LABEL_BINS = np.linspace(0.0, 1.0, 11)
WINDOW, STEP = 6, 2
CLASS_OF = {"dissatisfied": "negative", "frustrated": "negative", "neutral": "neutral", "uncertain": "neutral",
            "satisfied": "positive", "enthusiastic": "positive"}


def reliability(confidence: np.ndarray, right: np.ndarray, edges: np.ndarray = BINS) -> dict:
    """ECE and the per-bin (mean confidence, accuracy, n) of ``confidence`` against ``right``;
    ``edges``: the bins (default 0.5..1 in tenths)."""
    idx = np.clip(np.digitize(confidence, edges[1:-1]), 0, len(edges) - 2)
    bins, ece = [], 0.0
    for b in range(len(edges) - 1):
        inside = idx == b
        if inside.any():
            conf, acc = float(confidence[inside].mean()), float(right[inside].mean())
            ece += inside.mean() * abs(acc - conf)
            bins.append({"from": round(float(edges[b]), 2), "to": round(float(edges[b + 1]), 2), "n": int(inside.sum()),
                         "confidence": round(conf, 3), "accuracy": round(acc, 3)})
    return {"n": int(len(right)), "accuracy": round(float(right.mean()), 4), "mean_confidence": round(float(confidence.mean()), 4),
            "ece": round(float(ece), 4), "bins": bins}


def _goemotions_polar(split: str) -> list[tuple[str, bool]]:
    """(comment, is positive) of a GoEmotions split's positive-only and negative-only comments."""
    from callscope.scoring.train_sentiment import GOEMOTIONS, read_goemotions

    return [(t, k == "positive") for t, k in read_goemotions(GOEMOTIONS / f"{split}.tsv.gz", three_classes=True)
            if k != "neutral"]


def sentiment_sets() -> dict[str, tuple[list[str], np.ndarray, str]]:
    from benchmarks.sentiment import dialogue_sets, multilingual_set, vader_polar

    texts, ratings = vader_polar("test")
    out = {"vader held-out tenth": (texts, ratings > 0, "en")}
    meld_texts, _prev, gold = dialogue_sets()["meld_dev"]
    keep = [i for i, g in enumerate(gold) if g != "neutral"]
    out["MELD dev (polar lines)"] = ([meld_texts[i] for i in keep], np.array([gold[i] == "positive" for i in keep]), "en")
    comments = _goemotions_polar("test")
    out["GoEmotions test (polar comments)"] = ([t for t, _ in comments], np.array([p for _, p in comments]), "en")
    for name in ("da_lcc", "no_norec"):
        texts, labels = multilingual_set(name)
        out[name] = (texts, labels == 1, name[:2])
    return out


def label_sets() -> dict[str, tuple[list[str], list[str]]]:
    """(texts, gold class) of the 3-class conversational sets the label curves never saw."""
    from benchmarks.sentiment import dialogue_sets
    from callscope.scoring.train_sentiment import GOEMOTIONS, read_goemotions

    rows = read_goemotions(GOEMOTIONS / "test.tsv.gz", three_classes=True)
    out = {"GoEmotions test (in-domain)": ([t for t, _ in rows], [k for _, k in rows])}
    dialogues = dialogue_sets()
    out["MELD dev"] = (dialogues["meld_dev"][0], dialogues["meld_dev"][2])
    out["DailyDialog 600"] = (dialogues["dailydialog_600"][0], dialogues["dailydialog_600"][2])
    return out


def label_reliability(model, texts: list[str], gold: list[str]) -> tuple[dict, dict]:
    """Reliability of the text-only label confidence before (emotion-rules/2's formula) and after."""
    from callscope.scoring.emotion import _margin, classify
    from callscope.scoring.train_sentiment import cached_embeddings

    scored = model.score_embeddings(cached_embeddings(model.encoder, texts, CACHE), "en")
    labels = [classify(s.score, s.confidence, None, t, 0.0) for s, t in zip(scored, texts)]
    keep = [i for i, e in enumerate(labels) if e.label != "empathetic"]
    right = np.array([CLASS_OF[labels[i].label] == gold[i] for i in keep])
    after = np.array([labels[i].confidence for i in keep])
    before = np.array([scored[i].confidence * (0.5 + 0.5 * _margin(labels[i].valence, [-0.125, 0.125])) for i in keep])
    out = []
    for conf in (before, after):
        r = reliability(conf, right, LABEL_BINS)
        r["by_class"] = {k: {"n": int(m.sum()), "stated": round(float(conf[m].mean()), 3), "right": round(float(right[m].mean()), 3)}
                         for k in ("negative", "neutral", "positive")
                         for m in [np.array([CLASS_OF[labels[i].label] == k for i in keep])] if m.any()}
        out.append(r)
    return out[0], out[1]


def dev_temperature(model) -> float:
    """The temperature on the sign head's logit that minimises the log-loss of "the sign is
    right" on development data: GoEmotions dev's positive-only and negative-only comments and
    vader's calibration tenth (|rating| ≥ 0.5). 1 = the head is calibrated there."""
    from benchmarks.sentiment import vader_polar
    from callscope.scoring.train_sentiment import cached_embeddings

    texts, ratings = vader_polar("calibration")
    rows = _goemotions_polar("dev") + [(t, bool(r > 0)) for t, r in zip(texts, ratings)]
    x = cached_embeddings(model.encoder, [t for t, _ in rows], CACHE)
    positive = np.array([p for _, p in rows])
    scores, logit = model.heads.score(x, "en"), x @ model.heads.logit_coef + model.heads.logit_intercept
    right = (scores > 0) == positive

    def loss(t: float) -> float:
        p = 1.0 / (1.0 + np.exp(-logit / t))
        c = np.clip(np.maximum(np.where(scores >= 0, p, 1 - p), 0.5), 1e-6, 1 - 1e-6)
        return float(-np.mean(np.where(right, np.log(c), np.log(1 - c))))

    return float(min(np.arange(0.5, 4.01, 0.05), key=loss))


def _utterances(lines: list[tuple[str, str]]):
    from callscope.transcription.types import Utterance, Word

    out, t = [], 0.0
    for speaker, text in lines:
        words = [Word(w, t + 0.3 * i, t + 0.3 * (i + 1), 1.0) for i, w in enumerate(text.split())]
        out.append(Utterance(speaker, t, t + 0.3 * max(len(words), 1), words))
        t += 0.3 * max(len(words), 1) + 0.5
    return out


def role_windows() -> list[tuple[float, bool, str]]:
    """(confidence, right, source) for every window of the labelled transcripts."""
    from callscope.scoring.roles import roles_from_text

    transcripts = []
    with open(AUDIO / "callytics" / "Call01.turns.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    transcripts.append(("Call01 reference", [("agent" if r["speaker"] == "CSR" else "customer", r["text"]) for r in rows]))
    for d in json.loads((ROOT / "benchmarks" / "data" / "dialogues.json").read_text())["dialogues"]:
        transcripts.append((d["id"], [(role, text) for role, text in d["lines"]]))
    out = []
    for source, lines in transcripts:
        for a in range(0, max(len(lines) - WINDOW, 0) + 1, STEP):
            window = lines[a:a + WINDOW]
            if {r for r, _ in window} != {"agent", "customer"}:
                continue
            utts = _utterances(window)
            talk: dict[str, float] = {}
            for u in utts:
                talk[u.speaker] = talk.get(u.speaker, 0.0) + u.end - u.start
            found = roles_from_text(utts, talk)
            out.append((found.confidence, all(found.roles.get(s) == s for s in ("agent", "customer")), source))
    return out


def plot(curves: dict[str, dict], title: str, path: Path, low: float = 0.5) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.0 + 0.18 * len(curves)), dpi=120)
    ax.plot([low, 1.0], [low, 1.0], color="#888888", linestyle="--", label="perfectly calibrated")
    for name, r in curves.items():
        xs = [b["confidence"] for b in r["bins"]]
        ys = [b["accuracy"] for b in r["bins"]]
        ax.plot(xs, ys, marker="o", linestyle=r.get("style", "-"), color=r.get("color"), label=f"{name} (n={r['n']}, ECE {r['ece']:.3f})")
    ax.set_xlim(low, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("stated confidence (bin mean)")
    ax.set_ylabel("observed accuracy")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "confidence.json")
    args = parser.parse_args()

    from callscope.scoring.emotion import EMOTION_RULES_VERSION
    from callscope.scoring.label_confidence import load_map
    from callscope.scoring.roles import ROLE_RULES_VERSION
    from callscope.scoring.sentiment import SentimentModel
    from callscope.scoring.train_sentiment import cached_embeddings

    model = SentimentModel()
    sentiment = {}
    for name, (texts, positive, language) in sentiment_sets().items():
        scored = model.score_embeddings(cached_embeddings(model.encoder, texts, CACHE), language)
        confidence = np.array([s.confidence for s in scored])
        right = np.array([(s.score > 0) == p for s, p in zip(scored, positive)])
        sentiment[name] = reliability(confidence, right)
    temperature = dev_temperature(model)
    labels: dict[str, dict] = {}
    for name, (texts, gold) in label_sets().items():
        before, after = label_reliability(model, texts, gold)
        labels[name] = {"before": before, "after": after}
    windows = role_windows()
    roles = {"all windows": reliability(np.array([c for c, _, _ in windows]), np.array([r for _, r, _ in windows]))}
    calls = [w for w in windows if w[2] == "Call01 reference"]
    roles["Call01 reference"] = reliability(np.array([c for c, _, _ in calls]), np.array([r for _, r, _ in calls]))

    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(sentiment, "Sentiment sign confidence (shipped head)", RESULTS / "confidence_sentiment.png")
    colours = dict(zip(labels, ("tab:blue", "tab:orange", "tab:green")))
    plot({**{f"{k} before": {**v["before"], "style": ":", "color": colours[k]} for k, v in labels.items()},
          **{f"{k} after": {**v["after"], "color": colours[k]} for k, v in labels.items()}},
         "Emotion label confidence (text only), before / after", RESULTS / "confidence_labels.png", low=0.0)
    plot(roles, f"Role confidence, words only ({ROLE_RULES_VERSION.split()[0]}),\nwindows of {WINDOW} utterances",
         RESULTS / "confidence_roles.png")
    print(f"\n{'what':50} {'n':>6} {'accuracy':>9} {'mean conf':>10} {'ECE':>7}")
    for group, rows in (("sentiment sign", sentiment), ("roles", roles)):
        for name, r in rows.items():
            print(f"{group + ': ' + name:50} {r['n']:>6} {r['accuracy']:>9.3f} {r['mean_confidence']:>10.3f} {r['ece']:>7.3f}")
    print(f"sign head temperature fitted on development data: {temperature:.2f} (not applied)")
    print(f"\n{'label confidence':32} {'n':>6} {'accuracy':>9} {'ECE before':>11} {'ECE after':>10}  stated/right by class (after)")
    for name, r in labels.items():
        classes = "  ".join(f"{k[:3]} {c['stated']:.2f}/{c['right']:.2f}" for k, c in r["after"]["by_class"].items())
        print(f"{name:32} {r['after']['n']:>6} {r['after']['accuracy']:>9.3f} {r['before']['ece']:>11.3f} "
              f"{r['after']['ece']:>10.3f}  {classes}")
    print("level confidence: benchmarks/level_confidence.py")
    args.out.write_text(json.dumps({"benchmark": "confidence", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "sentiment_model": model.version, "role_rules": ROLE_RULES_VERSION,
                                    "sentiment": sentiment, "sign_temperature_on_dev": round(temperature, 2),
                                    "labels": labels, "emotion_rules": f"{EMOTION_RULES_VERSION}+{load_map().version}", "roles": roles, "level": "not measured: no labelled levels"},
                                   indent=2) + "\n")
    print(f"wrote {args.out} and the three PNGs beside it")


if __name__ == "__main__":
    main()
