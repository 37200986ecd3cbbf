"""Fits the emotion labels' confidence map (:mod:`callscope.scoring.label_confidence`).

Data: GoEmotions' dev split (Demszky et al. 2020; google-research/google-research @ 2adf640a14f1
goemotions/data/dev.tsv, Apache-2.0; the copy in ``benchmarks/data/goemotions/``), the comments
whose raters' emotions fall in one sentiment group only: neutral, positive or negative (4,547;
the paper's own grouping). Everyday conversational English, like calls and unlike reviews. The
split was also used to choose the neutral gate's C and point, never its weights; the test split
and the conversation sets of ``benchmarks/`` (MELD, DailyDialog) are not read here.

Each comment is scored by the sentiment model (the shipped head unless ``--head``); per valence
class (the score's, with the neutral band) a logistic regression of "the class is right" on
|score| (unregularised, C=1e6: Platt scaling) gives the curve. No seed: the fit is
deterministic.

    .venv/bin/python -m callscope.scoring.fit_label_confidence [--head FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from callscope.environment import cache_root
from callscope.scoring.emotion import NEUTRAL_BAND
from callscope.scoring.label_confidence import CLASSES, MAP_PATH, LabelConfidenceMap, text_class


def fit(scores: np.ndarray, gold: list[str], version_data: str, head_version: str,
        band: float = NEUTRAL_BAND) -> LabelConfidenceMap:
    """The map from scores (-1..+1) and their texts' gold classes (negative/neutral/positive)."""
    from sklearn.linear_model import LogisticRegression

    klass = np.array([text_class(float(s), band) for s in scores])
    right = klass == np.array(gold)
    curves = {}
    for k in CLASSES:
        inside = klass == k
        if inside.sum() < 20 or len(set(right[inside])) < 2:
            raise ValueError(f"too few texts scored {k} ({int(inside.sum())}), or all right or all wrong, "
                             "to fit its confidence")
        lr = LogisticRegression(C=1e6).fit(np.abs(scores[inside])[:, None], right[inside])
        curves[k] = (round(float(lr.coef_[0, 0]), 4), round(float(lr.intercept_[0]), 4))
    counts = ",".join(f"{k}{int((klass == k).sum())}" for k in CLASSES)
    version = f"label-confidence/1(Platt per class on |score|;{version_data};{counts})"
    return LabelConfidenceMap(version, head_version, curves)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head", type=Path, default=None, help="a sentiment head file (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=MAP_PATH)
    args = parser.parse_args()

    from callscope.scoring.sentiment import SentimentModel
    from callscope.scoring.train_sentiment import GOEMOTIONS, cached_embeddings, read_goemotions

    model = SentimentModel(head_path=args.head) if args.head else SentimentModel()
    rows = read_goemotions(GOEMOTIONS / "dev.tsv.gz", three_classes=True)
    scored = model.score_embeddings(cached_embeddings(model.encoder, [t for t, _ in rows], cache_root() / "embeddings"), "en")
    fitted = fit(np.array([s.score for s in scored]), [k for _, k in rows],
                 f"GoEmotions dev 3-class Apache-2.0 n={len(rows)}", model.version)
    args.out.write_text(json.dumps(fitted.to_json(), indent=1) + "\n", encoding="utf-8")
    print(f"{fitted.version}\nwrote {args.out}")


if __name__ == "__main__":
    main()
