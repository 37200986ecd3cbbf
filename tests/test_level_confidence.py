"""The level's confidence is P(the level is right) (issue 30, item 5), measured against the level
the same rule reads from people's sentence ratings (scoring/fit_level_confidence.py): on texts
of real rated sentences the shipped head never trained on, scored by the real scorer, the stated
confidence is near the observed accuracy; on main it was the evidence's sign confidence, which
said about 0.8 for levels right about 6 times in 10 (ECE 0.195 on these texts)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.confidence import reliability
from benchmarks.level_confidence import LEVEL_BINS, held_out_texts
from callscope.scoring.escalation import EscalationBands
from callscope.scoring.level_confidence import MAP_PATH, band_margin, level_confidence, load_map


@pytest.mark.slow  # 1,848 sentences through the encoder
def test_the_stated_level_confidence_is_the_observed_accuracy_on_held_out_rated_text():
    from callscope.scoring.fit_level_confidence import level_cases
    from callscope.scoring.sentiment import SentimentModel

    cases = level_cases(SentimentModel(), held_out_texts())
    assert len(cases) == 154
    right = np.array([c.right for c in cases])
    stated = reliability(np.array([c.confidence for c in cases]), right, LEVEL_BINS)
    before = reliability(np.array([c.confidence_before for c in cases]), right, LEVEL_BINS)
    assert 0.5 < right.mean() < 0.8, right.mean()  # the levels are neither all right nor all wrong
    assert stated["ece"] < 0.15 and stated["ece"] < before["ece"] - 0.04, (stated, before)
    assert abs(stated["mean_confidence"] - stated["accuracy"]) < 0.08, stated
    # the confidence separates: levels stated as surer are right more often
    conf = np.array([c.confidence for c in cases])
    assert right[conf >= 0.6].mean() > right[conf < 0.5].mean() + 0.15


def test_a_level_near_a_band_edge_or_on_doubtful_words_is_less_sure():
    bands = EscalationBands()
    edges = (bands.green, bands.yellow, bands.orange)
    assert band_margin(-0.21, edges) == pytest.approx(0.01) and band_margin(0.9, edges) == pytest.approx(0.6)
    near, inside, far = (level_confidence(v, edges) for v in (-0.21, -0.35, -0.95))
    assert near < 0.4 < inside < far and far > 0.8, (near, inside, far)  # orange by 0.01 is a coin toss at best
    assert level_confidence(-0.95, edges, unreliable_share=0.5) == pytest.approx(far / 2, abs=0.002)
    assert level_confidence(-0.95, edges, unreliable_share=1.0) == 0.0


def test_the_map_names_its_data_and_the_head_it_was_fitted_with():
    data = json.loads(MAP_PATH.read_text(encoding="utf-8"))
    shipped = load_map()
    assert shipped.version == data["version"] and shipped.version.startswith("level-confidence/1(")
    assert "vader Amazon review snippets MIT" in shipped.version and "n=300" in shipped.version
    assert "without vader amazon" in shipped.head_version
    assert shipped.slope > 0  # further from an edge is surer


@pytest.mark.slow
def test_the_fit_script_gives_the_shipped_map_again(tmp_path):
    """The training script in the repository makes the shipped map (same data, same fit)."""
    import subprocess
    import sys

    out = tmp_path / "level_confidence.json"
    done = subprocess.run([sys.executable, "-m", "callscope.scoring.fit_level_confidence", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    again, shipped = json.loads(out.read_text(encoding="utf-8")), load_map()
    assert again["version"] == shipped.version
    assert again["slope"] == pytest.approx(shipped.slope, abs=0.01) and again["intercept"] == pytest.approx(shipped.intercept, abs=0.01)
