"""Retrain the shipped sentiment head (``scoring/models/sentiment_head.npz``).

    python -m callscope.scoring.train_sentiment [--data ../shared/data/text] [--out PATH]

Training data, both commercially redistributable:
* vader/movieReviewSnippets_GroundTruth.txt (MIT): 10,605 sentences with the mean rating of
  ≥ 20 people on -4..+4 → the ridge head regresses rating / 4 (the score, -1..+1);
* sentence_polarity (CC BY 4.0): the same Rotten Tomatoes sentences as pos/neg → the logistic
  head (the confidence of the score's sign).
vader's tweets and Amazon snippets are never used here: they are the cross-domain test sets
(benchmarks/sentiment.py). Regularisation strengths are chosen on a held-out fifth of the
movie sentences, never on the test sets.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from callscope.scoring.sentiment import HEAD_PATH

DEFAULT_DATA = Path(os.environ.get("CALLSCOPE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "text"


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


def read_sentence_polarity(directory: Path) -> tuple[list[str], np.ndarray]:
    """Texts and labels (1 positive, 0 negative) of the sentence_polarity corpus."""
    texts, labels = [], []
    for name, label in (("rt-polarity.pos", 1), ("rt-polarity.neg", 0)):
        for line in (directory / name).read_text(encoding="latin-1").splitlines():
            if line.strip():
                texts.append(line.strip())
                labels.append(label)
    return texts, np.array(labels)


def train(data: Path, out: Path, seed: int = 0) -> dict:
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import train_test_split

    from callscope.scoring.text_encoder import TextEncoder

    encoder = TextEncoder()
    movie_texts, movie_ratings = read_vader(data / "vader" / "movieReviewSnippets_GroundTruth.txt")
    pol_texts, pol_labels = read_sentence_polarity(data / "sentence_polarity")
    t0 = time.perf_counter()
    x_movie = encoder.encode(movie_texts)
    x_pol = encoder.encode(pol_texts)
    embed_s = time.perf_counter() - t0
    y_movie = movie_ratings / 4.0

    xa, xb, ya, yb = train_test_split(x_movie, y_movie, test_size=0.2, random_state=seed)
    alphas = [0.3, 1.0, 3.0, 10.0, 30.0]
    r_by_alpha = {a: float(np.corrcoef(Ridge(alpha=a).fit(xa, ya).predict(xb), yb)[0, 1]) for a in alphas}
    alpha = max(r_by_alpha, key=r_by_alpha.get)
    pa, pb, la, lb = train_test_split(x_pol, pol_labels, test_size=0.2, random_state=seed)
    cs = [0.3, 1.0, 3.0, 10.0]
    ll_by_c = {}
    for c in cs:
        p = LogisticRegression(C=c, max_iter=2000).fit(pa, la).predict_proba(pb)[:, 1]
        ll_by_c[c] = float(-np.mean(lb * np.log(p + 1e-9) + (1 - lb) * np.log(1 - p + 1e-9)))
    c_best = min(ll_by_c, key=ll_by_c.get)

    ridge = Ridge(alpha=alpha).fit(x_movie, y_movie)
    logit = LogisticRegression(C=c_best, max_iter=2000).fit(x_pol, pol_labels)
    version = f"minilm-l6-v2+linear-heads/{time.strftime('%Y%m%d')}"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        ridge_coef=ridge.coef_.astype(np.float32), ridge_intercept=np.float32(ridge.intercept_),
        logit_coef=logit.coef_[0].astype(np.float32), logit_intercept=np.float32(logit.intercept_[0]),
        version=np.array(version),
    )
    return {"version": version, "ridge_alpha": alpha, "heldout_r_by_alpha": r_by_alpha, "logit_C": c_best,
            "heldout_logloss_by_C": ll_by_c, "train_sentences": len(movie_texts) + len(pol_texts), "embed_s": embed_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the text/ folder of the shared data")
    parser.add_argument("--out", type=Path, default=HEAD_PATH)
    args = parser.parse_args()
    info = train(args.data, args.out)
    for key, value in info.items():
        print(f"{key}: {value}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
