"""The sentiment head's neutral gate (issue 30, items 1 and 2): everyday lines and factual
questions fall into the neutral band; no score changes its sign; a head without a gate scores
as before; another language is centred before the gate."""

from __future__ import annotations

import copy
import csv

import numpy as np
import pytest

from benchmarks.reference import DATA
from callscope.scoring.emotion import NEUTRAL_BAND
from callscope.scoring.sentiment import HEAD_PATH, Heads, SentimentModel
from callscope.scoring.train_sentiment import save_heads


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel()


def _meld_dev() -> tuple[list[str], list[str]]:
    with open(DATA / "text" / "meld" / "dev_sent_emo.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["Utterance"].replace("\x92", "'").replace("’", "'") for r in rows], [r["Sentiment"] for r in rows]


def test_everyday_lines_fall_into_the_neutral_band_and_no_score_changes_its_sign(model):
    """MELD's dev lines (TV dialogue; evaluation only, never trained on): the lines its
    annotators called neutral are called neutral far more often with the gate, and the gate
    only shrinks before its one rescaling: every score keeps the sign the calibrated head gave it."""
    texts, gold = _meld_dev()
    x = model.encoder.encode(texts)
    heads = model.heads
    assert heads.gate_coef is not None and "GoEmotions" in model.version
    without, with_gate = heads.calibrated(x), heads.score(x, "en")
    neutral = np.array(gold) == "neutral"
    share = lambda s: float(np.mean(np.abs(s[neutral]) < NEUTRAL_BAND))  # noqa: E731
    assert share(with_gate) >= share(without) + 0.15
    assert np.all(np.sign(with_gate) == np.sign(without))
    assert np.all(np.abs(with_gate) <= np.abs(without) * heads.gate_scale + 1e-6)


def test_questions_about_how_things_work_are_not_complaints(model):
    """banking77 test queries of informational intents (real customers' messages; the intent is
    the human label): fewer read as negative with the gate than without."""
    with open(DATA / "text" / "banking77" / "test.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["category"] in ("exchange_rate", "top_up_limits", "card_delivery_estimate",
                                                                    "country_support", "age_limit")]
    x = model.encoder.encode([r["text"] for r in rows])
    negative = lambda s: float(np.mean(s <= -NEUTRAL_BAND))  # noqa: E731
    assert negative(model.heads.score(x, "en")) < negative(model.heads.calibrated(x)) / 2


def test_a_head_without_a_gate_scores_as_before(model, tmp_path):
    """A head file written before the gate (or recalibrated from one) keeps its scores."""
    heads = copy.deepcopy(model.heads)
    heads.gate_coef, heads.gate_offsets = None, {}
    save_heads(heads, tmp_path / "old.npz", "old")
    old, _version, _report = Heads.load(tmp_path / "old.npz")
    x = model.encoder.encode(["The parcel came on Tuesday.", "This is the worst service I have ever had."])
    assert old.p_polar(x) is None
    assert np.allclose(old.score(x, "da"), model.heads.calibrated(x))
    again, _v, _r = Heads.load(HEAD_PATH)  # and the shipped one round-trips with its gate and offsets
    assert set(again.gate_offsets) == {"da", "de", "es", "fi", "fr", "no", "pl", "sv"}


def test_another_language_is_centred_before_the_gate(model):
    """The gate was trained on English: a Danish sentence is moved by Danish's offset first; a
    language without an offset (English, unknown) is not moved."""
    x = model.encoder.encode(["Jeg er meget skuffet over jeres kundeservice."])
    heads = model.heads
    assert heads.p_polar(x, "da")[0] != pytest.approx(heads.p_polar(x, None)[0])
    assert heads.p_polar(x, "en")[0] == pytest.approx(heads.p_polar(x, None)[0])
    assert heads.p_polar(x, "xx")[0] == pytest.approx(heads.p_polar(x, None)[0])
