"""How often a call's level is right, given how far its sentiment is from the nearest band edge.

The level is read from one value, the customer's sentiment mean or end (-1..+1), against the
bands (:class:`~callscope.scoring.escalation.EscalationBands`). Every sentence score carries an
error, so a value 0.02 inside orange is a coin toss between orange and yellow, and one 0.4 past
the red edge is not. The level's confidence is P(the level is right | that margin): a logistic
curve over the distance to the nearest band edge, fitted (:mod:`callscope.scoring.fit_level_confidence`)
on texts in which people rated every sentence, "right" meaning that the same rule reads the same
level from the people's ratings. Shipped as ``scoring/models/level_confidence.json``; stated 0.6
means about 6 in 10 such levels held on that data (``benchmarks/level_confidence.py``).

Words of the evidence that the decoder was unsure of (the score's ``unreliable_share``) are not
counted as evidence: the probability is multiplied by the share of reliable words (not
calibrated: no labelled real calls say by how much a doubtful passage moves a level).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MAP_PATH = Path(__file__).resolve().parent / "models" / "level_confidence.json"


def band_margin(value: float, edges: tuple[float, ...]) -> float:
    """The distance (sentiment units, ≥ 0) from ``value`` to the nearest band edge in ``edges``."""
    return float(min(abs(value - e) for e in edges))


@dataclass(frozen=True)
class LevelConfidenceMap:
    """P(level right) = 1 / (1 + exp(-(slope · margin + intercept))), 0..1."""

    version: str
    head_version: str
    slope: float
    intercept: float

    def probability(self, margin: float) -> float:
        """P(the level is right) for a value ``margin`` (≥ 0) from its nearest band edge."""
        return float(1.0 / (1.0 + np.exp(-(self.slope * max(margin, 0.0) + self.intercept))))

    def to_json(self) -> dict:
        return {"version": self.version, "head_version": self.head_version,
                "slope": self.slope, "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict) -> "LevelConfidenceMap":
        return cls(str(data["version"]), str(data["head_version"]), float(data["slope"]), float(data["intercept"]))


@lru_cache(maxsize=4)
def load_map(path: Path = MAP_PATH) -> LevelConfidenceMap:
    """The shipped map (read once)."""
    return LevelConfidenceMap.from_json(json.loads(path.read_text(encoding="utf-8")))


def level_confidence(value: float, edges: tuple[float, ...], unreliable_share: float | None = None,
                     confidence_map: LevelConfidenceMap | None = None) -> float:
    """The confidence (0..1, three decimals) of a level read from ``value`` (-1..+1) with the band
    edges ``edges``; ``unreliable_share`` (0..1): the evidence's words in unreliable utterances."""
    p = (confidence_map or load_map()).probability(band_margin(value, edges))
    return round(p * (1.0 - min(max(unreliable_share or 0.0, 0.0), 1.0)), 3)
