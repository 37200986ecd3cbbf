"""Do the confidences mean what they say? Reliability diagrams and expected calibration error
(issue 30, item 5: measured; not yet recalibrated).

* **Sentiment sign confidence** (``sentiment.confidence``: P that the score's sign is right,
  0.5..1), on sentences whose polarity people labelled: vader's held-out tenth (|rating| ≥ 0.5;
  the fold the head is checked on, never trained on), MELD dev's positive and negative lines (TV
  dialogue, evaluation only), and the Danish and Norwegian sets (heads trained on English).
* **Role confidence** (``call_scores.role_confidence``, 0.5..1) of the words-only rules
  (``roles_from_text``), on every window of 6 consecutive utterances holding both parties, as if
  a call were that short: Call01's hand-made reference transcript (real call, roles known) and
  the twelve contact-centre dialogues of ``benchmarks/data/dialogues.json`` (written for the role
  benchmark before the roles/3 cues; roles known by construction; as text, not spoken).
* **Level confidence**: not measured. No shared call has a human level, and none may be made up.

ECE: 10 equal-width bins over 0.5..1, the mean |accuracy − confidence| weighted by the bin's
share. PNGs: ``benchmarks/results/confidence_{sentiment,roles}.png``.

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
from benchmarks.reference import AUDIO, DATA  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CACHE = Path.home() / ".cache" / "callscope" / "embeddings"
BINS = np.linspace(0.5, 1.0, 11)
WINDOW, STEP = 6, 2


def reliability(confidence: np.ndarray, right: np.ndarray) -> dict:
    """ECE and the per-bin (mean confidence, accuracy, n) of ``confidence`` (0.5..1) against ``right``."""
    idx = np.clip(np.digitize(confidence, BINS[1:-1]), 0, len(BINS) - 2)
    bins, ece = [], 0.0
    for b in range(len(BINS) - 1):
        inside = idx == b
        if inside.any():
            conf, acc = float(confidence[inside].mean()), float(right[inside].mean())
            ece += inside.mean() * abs(acc - conf)
            bins.append({"from": round(float(BINS[b]), 2), "to": round(float(BINS[b + 1]), 2), "n": int(inside.sum()),
                         "confidence": round(conf, 3), "accuracy": round(acc, 3)})
    return {"n": int(len(right)), "accuracy": round(float(right.mean()), 4), "mean_confidence": round(float(confidence.mean()), 4),
            "ece": round(float(ece), 4), "bins": bins}


def sentiment_sets() -> dict[str, tuple[list[str], np.ndarray, str]]:
    from benchmarks.sentiment import dialogue_sets
    from callscope.scoring.train_sentiment import FOLDS, SEED, load_domains

    domains = load_domains(DATA / "text")
    texts = [t for ts, _ in domains.values() for t in ts]
    ratings = np.concatenate([r for _, r in domains.values()])
    order = np.random.default_rng(SEED).permutation(len(ratings))
    test = order[int(FOLDS[0] * len(order)) + int(FOLDS[1] * len(order)):]
    polar = test[np.abs(ratings[test]) >= 0.5]
    out = {"vader held-out tenth": ([texts[i] for i in polar], ratings[polar] > 0, "en")}
    meld_texts, _prev, gold = dialogue_sets()["meld_dev"]
    keep = [i for i, g in enumerate(gold) if g != "neutral"]
    out["MELD dev (polar lines)"] = ([meld_texts[i] for i in keep], np.array([gold[i] == "positive" for i in keep]), "en")
    for name in ("da_lcc", "no_norec"):
        rows = [line.split("\t", 1) for line in (DATA / "multilingual" / "text" / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
                if "\t" in line]
        out[name] = ([r[1] for r in rows], np.array([r[0] == "1" for r in rows]), name[:2])
    return out


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


def plot(curves: dict[str, dict], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.0), dpi=120)
    ax.plot([0.5, 1.0], [0.5, 1.0], color="#888888", linestyle="--", label="perfectly calibrated")
    for name, r in curves.items():
        xs = [b["confidence"] for b in r["bins"]]
        ys = [b["accuracy"] for b in r["bins"]]
        ax.plot(xs, ys, marker="o", label=f"{name} (n={r['n']}, ECE {r['ece']:.3f})")
    ax.set_xlim(0.5, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("stated confidence (bin mean)")
    ax.set_ylabel("observed accuracy")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "confidence.json")
    args = parser.parse_args()

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
    windows = role_windows()
    roles = {"all windows": reliability(np.array([c for c, _, _ in windows]), np.array([r for _, r, _ in windows]))}
    calls = [w for w in windows if w[2] == "Call01 reference"]
    roles["Call01 reference"] = reliability(np.array([c for c, _, _ in calls]), np.array([r for _, r, _ in calls]))

    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(sentiment, "Sentiment sign confidence (shipped head)", RESULTS / "confidence_sentiment.png")
    plot(roles, f"Role confidence, words only ({ROLE_RULES_VERSION.split()[0]}),\nwindows of {WINDOW} utterances",
         RESULTS / "confidence_roles.png")
    print(f"\n{'what':40} {'n':>6} {'accuracy':>9} {'mean conf':>10} {'ECE':>7}")
    for group, rows in (("sentiment sign", sentiment), ("roles", roles)):
        for name, r in rows.items():
            print(f"{group + ': ' + name:40} {r['n']:>6} {r['accuracy']:>9.3f} {r['mean_confidence']:>10.3f} {r['ece']:>7.3f}")
    print("level confidence: not measured (no human levels exist for the shared calls)")
    args.out.write_text(json.dumps({"benchmark": "confidence", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "sentiment_model": model.version, "role_rules": ROLE_RULES_VERSION,
                                    "sentiment": sentiment, "roles": roles, "level": "not measured: no labelled levels"},
                                   indent=2) + "\n")
    print(f"wrote {args.out} and the two PNGs beside it")


if __name__ == "__main__":
    main()
