"""How often an emotion label's valence class is right, given how far its sentiment is from neutral.

The text side of every label is one of three classes: negative (dissatisfied, frustrated),
neutral (neutral, uncertain) or positive (satisfied, enthusiastic), read from the sentiment
score with the neutral band. Its confidence is P(that class is right | the class, |score|): a
logistic curve per class over |score| (Platt scaling: further from 0 is surer for a polar class,
closer to 0 is surer for neutral), fitted on conversational comments people labelled
(:mod:`callscope.scoring.fit_label_confidence`) and shipped as
``scoring/models/label_confidence.json``. Stated 0.6 means about 6 in 10 such labels were right
on that data; how far it holds on other conversation is in ``benchmarks/confidence.py``.

The map was fitted with the shipped sentiment head; a deployment with its own head refits it
(``python -m callscope.scoring.fit_label_confidence``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MAP_PATH = Path(__file__).resolve().parent / "models" / "label_confidence.json"
CLASSES = ("negative", "neutral", "positive")


def text_class(score: float, neutral_band: float) -> str:
    """The valence class of a sentiment ``score`` (-1..+1) with the neutral band (0..1)."""
    if score <= -neutral_band:
        return "negative"
    if score >= neutral_band:
        return "positive"
    return "neutral"


@dataclass(frozen=True)
class LabelConfidenceMap:
    """Per class, P(right) = 1 / (1 + exp(-(slope · |score| + intercept))), 0..1."""

    version: str
    head_version: str
    curves: dict[str, tuple[float, float]]  # class -> (slope, intercept)

    def probability(self, klass: str, score: float) -> float:
        """P(the class ``klass`` is right) for a text whose sentiment is ``score`` (-1..+1)."""
        slope, intercept = self.curves[klass]
        return float(1.0 / (1.0 + np.exp(-(slope * abs(score) + intercept))))

    def to_json(self) -> dict:
        return {"version": self.version, "head_version": self.head_version,
                "curves": {k: {"slope": a, "intercept": b} for k, (a, b) in self.curves.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "LabelConfidenceMap":
        curves = {k: (float(c["slope"]), float(c["intercept"])) for k, c in data["curves"].items()}
        missing = [k for k in CLASSES if k not in curves]
        if missing:
            raise ValueError(f"label confidence map lacks the class(es) {', '.join(missing)}")
        return cls(str(data["version"]), str(data["head_version"]), curves)


@lru_cache(maxsize=4)
def load_map(path: Path = MAP_PATH) -> LabelConfidenceMap:
    """The shipped map (read once)."""
    return LabelConfidenceMap.from_json(json.loads(path.read_text(encoding="utf-8")))
