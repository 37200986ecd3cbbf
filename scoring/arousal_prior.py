"""The population prior for arousal: how loud, high, bright, changing and fast people usually speak.

Arousal is measured against a speaker's own usual (robust z-scores over their utterances in
the call, :mod:`callscope.scoring.utterance_scores`). A speaker with fewer than three
utterances has no usual to speak of; their utterances are then measured against this prior,
fitted on many speakers (``scoring/fit_arousal_prior.py``; data and licences in its version),
and the output says so (``arousal_baseline = "population"``). The prior is the weaker
reference: a naturally loud or high-pitched voice reads as more aroused than it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PRIOR_PATH = Path(__file__).resolve().parent / "models" / "arousal_prior.json"
#: The arousal features (:data:`callscope.scoring.utterance_scores.AROUSAL_FEATURES`), named as
#: :func:`callscope.scoring.utterance_scores.arousal_inputs` returns them.
FEATURES = ("loudness_dbfs", "f0_median_st", "centroid_hz", "flux", "words_per_minute")


@dataclass(frozen=True)
class Prior:
    """Per feature (median, spread) for one audio band; ``version`` names data and fit;
    ``source``: what a speaker measured against it is told (``arousal_baseline``): ``population``
    for the shipped prior, ``deployment`` for the deployment's own
    (:mod:`callscope.scoring.population_baseline`)."""

    version: str
    band: str
    median: dict[str, float]
    spread: dict[str, float]
    source: str = "population"


@lru_cache(maxsize=2)
def load_prior(narrowband: bool) -> Prior:
    """The prior for telephone (``narrowband``, source ≤ 8 kHz) or wideband audio."""
    data = json.loads(PRIOR_PATH.read_text())
    band = "narrowband" if narrowband else "wideband"
    feats = data["bands"][band]
    return Prior(data["version"], band, {k: feats[k]["median"] for k in FEATURES}, {k: feats[k]["spread"] for k in FEATURES})
