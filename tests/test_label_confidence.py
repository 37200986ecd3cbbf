"""Emotion label confidences mean what they say (issue 30, item 5): on conversational comments
people labelled, a label stated at confidence c is right about c of the time.

Held-out data: 800 comments of GoEmotions' *test* split (the map was fitted on its dev split),
scored by the real sentiment model; the label's class (negative / neutral / positive) against
the raters' sentiment group.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from callscope.scoring.emotion import classify
from callscope.scoring.label_confidence import MAP_PATH, LabelConfidenceMap, load_map
from callscope.scoring.sentiment import SentimentModel
from callscope.scoring.train_sentiment import read_goemotions

GOEMOTIONS = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "goemotions"
CLASS_OF = {"dissatisfied": "negative", "frustrated": "negative", "neutral": "neutral", "uncertain": "neutral",
            "satisfied": "positive", "enthusiastic": "positive"}


def _ece(confidence: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    idx = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(sum((idx == b).mean() * abs(right[idx == b].mean() - confidence[idx == b].mean())
                     for b in range(bins) if (idx == b).any()))


def test_label_confidence_is_calibrated_on_held_out_conversation():
    rows = read_goemotions(GOEMOTIONS / "test.tsv.gz", three_classes=True)
    rows = random.Random(0).sample(rows, 800)
    model = SentimentModel()
    scored = model.score([t for t, _ in rows], "en")
    labels = [classify(s.score, s.confidence, None, t, 0.0) for s, (t, _) in zip(scored, rows)]
    labels_gold = [(e, g) for e, (_, g) in zip(labels, rows) if e.label != "empathetic"]
    confidence = np.array([e.confidence for e, _ in labels_gold])
    right = np.array([CLASS_OF[e.label] == g for e, g in labels_gold])
    assert 0.5 < right.mean() < 0.75  # the labels themselves are far from perfect: the point of stating how far
    assert _ece(confidence, right) < 0.06
    for klass in ("negative", "neutral", "positive"):  # each class says its own accuracy, within 8 points
        inside = np.array([CLASS_OF[e.label] == klass for e, _ in labels_gold])
        assert inside.sum() > 50
        assert abs(confidence[inside].mean() - right[inside].mean()) < 0.08, klass


def test_the_map_belongs_to_the_shipped_head_and_is_named_in_the_versions():
    model = SentimentModel()
    shipped = load_map()
    assert shipped.head_version == model.version  # a retrained head without a refitted map fails here
    assert shipped.version.startswith("label-confidence/1(") and "GoEmotions dev" in shipped.version
    from callscope.scoring.scorer import CallScorer

    assert shipped.version in CallScorer(sentiment=model).versions["emotion"]


def test_confidence_rises_away_from_neutral_for_polar_labels_and_towards_it_for_neutral():
    m = load_map()
    assert m.probability("negative", -0.9) > m.probability("negative", -0.2)
    assert m.probability("positive", 0.9) > m.probability("positive", 0.2)
    assert m.probability("neutral", 0.0) > m.probability("neutral", 0.1)
    assert all(0.0 < m.probability(k, s) < 1.0 for k in ("negative", "neutral", "positive") for s in (0.0, 0.5, 1.0))


def test_a_map_without_a_class_is_refused(tmp_path):
    import json

    data = json.loads(MAP_PATH.read_text(encoding="utf-8"))
    del data["curves"]["neutral"]
    with pytest.raises(ValueError, match="neutral"):
        LabelConfidenceMap.from_json(data)
