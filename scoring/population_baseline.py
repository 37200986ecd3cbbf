"""The deployment's own population for arousal: how this deployment's callers usually sound.

A speaker with too few utterances for a baseline of their own (a short call, a voicemail, one
acted clip per file) is measured against a population. The shipped prior
(:mod:`callscope.scoring.arousal_prior`) was fitted on other recordings: other microphones,
gains, codecs and speaking styles, so a deployment whose recordings are louder or brighter than
those reads every short speaker as aroused (one clip per file of acted speech: 427 of 428 clips
at or above the high-arousal threshold while the ranking was right, AUC 0.95). The recording
chain, not the caller, moved them.

This module learns the deployment's own population as calls are scored: for each speaker whose
voice may be used, the median of each arousal feature over their utterances is added to a
histogram per audio band (telephone / wideband). Once a band has heard
:data:`MIN_SPEAKERS` speakers, its short speakers are measured from the median of those
speaker medians (the centre: where the deployment's microphones, gains and codecs put a usual
caller), with the shipped prior's spreads (the scale: how much voices vary with arousal, a
property of speech that a few hundred callers of one deployment estimate worse than the prior's
many speakers, and which weighs the features against each other), and the output says so
(``arousal_baseline = "deployment"``, with the number of speakers in the version). Until then
the shipped prior is used (``"population"``). Learning the spreads too was tried: on EmoDB one
clip per file it let a feature that is level-normalised in that corpus (loudness) dominate and
the AUC fell from 0.99 to 0.79 (``benchmarks/arousal.py``); the centre alone leaves the ranking
as it was.

What is kept is counts in fixed bins (no call, no speaker, no time): an aggregate that cannot be
traced back to a person and needs no erasure. Memory is fixed (:data:`BINS`); the counts are
halved when a feature's total passes :data:`HALVE_AT`, so the population follows a deployment
whose audio chain changes. With a ``path`` the counts persist across processes (a JSON file,
replaced atomically); several workers writing one file keep the last writer's counts, which only
slows the learning down.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.scoring.arousal_prior import FEATURES, Prior

POPULATION_VERSION = "deployment-population/1"
#: Speakers a band must have heard before its own population replaces the shipped prior: with
#: 20, the median's standard error is about a quarter of the spread (1.25 σ / √n for a normal
#: population). Chosen from that, not from any evaluation set.
MIN_SPEAKERS = 20
#: A feature's counts are halved when their total passes this (about the last 2,000 speakers).
HALVE_AT = 4_000.0
#: Fixed bins per feature: (low, high, width) in the feature's unit; values outside are clipped.
BINS: dict[str, tuple[float, float, float]] = {
    "loudness_dbfs": (-90.0, 0.0, 0.5),
    "f0_median_st": (-15.0, 40.0, 0.25),
    "centroid_hz": (0.0, 5_000.0, 10.0),
    "flux": (0.0, 10.0, 0.01),
    "words_per_minute": (0.0, 600.0, 2.0),
}
BANDS = ("narrowband", "wideband")


@dataclass
class _Histogram:
    low: float
    width: float
    counts: np.ndarray

    @classmethod
    def empty(cls, low: float, high: float, width: float) -> _Histogram:
        return cls(low, width, np.zeros(int(round((high - low) / width)), dtype=float))

    def add(self, value: float) -> None:
        i = int(np.clip((value - self.low) // self.width, 0, len(self.counts) - 1))
        self.counts[i] += 1.0
        if self.counts.sum() > HALVE_AT:
            self.counts *= 0.5

    def centres(self) -> np.ndarray:
        return self.low + self.width * (np.arange(len(self.counts)) + 0.5)

    def median(self) -> float:
        """Weighted median of the bin centres (within one bin width of the values' median)."""
        return _weighted_median(self.centres(), self.counts)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[int(np.searchsorted(cum, cum[-1] / 2.0))])


class PopulationBaseline:
    """Histograms of speaker medians per band and feature; see the module doc.

    ``path``: a JSON file to load the counts from (when it exists) and to write them to after
    each call; None keeps them in this process only.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.speakers = {band: 0.0 for band in BANDS}
        self.hist = {band: {k: _Histogram.empty(*BINS[k]) for k in FEATURES} for band in BANDS}
        if path is not None and path.is_file():
            self._load(path)

    def add_speaker(self, narrowband: bool, rows: list[dict[str, float | None]]) -> bool:
        """Add one speaker (their utterances' arousal features, as
        :func:`callscope.scoring.utterance_scores.arousal_inputs` gives them). Returns whether
        anything was added (a speaker without a loudness value has no acoustics to add)."""
        band = BANDS[0] if narrowband else BANDS[1]
        added = False
        for key in FEATURES:
            values = [float(r[key]) for r in rows if r.get(key) is not None and np.isfinite(float(r[key]))]  # type: ignore[arg-type]
            if values:
                self.hist[band][key].add(float(np.median(values)))
                added = added or key == "loudness_dbfs"
        if added:
            self.speakers[band] = min(self.speakers[band] + 1.0, HALVE_AT)
        return added

    def heard(self, narrowband: bool) -> int:
        """Speakers this band's population holds (after halving, a weighted count)."""
        return int(self.speakers[BANDS[0] if narrowband else BANDS[1]])

    def prior(self, narrowband: bool, shipped: Prior) -> Prior:
        """The deployment's population for the band once it has :data:`MIN_SPEAKERS` speakers (its
        medians, ``shipped``'s spreads); else ``shipped``. A feature with fewer values keeps the
        shipped median."""
        band = BANDS[0] if narrowband else BANDS[1]
        n = self.heard(narrowband)
        if n < MIN_SPEAKERS:
            return shipped
        median = dict(shipped.median)
        for key in FEATURES:
            h = self.hist[band][key]
            if h.counts.sum() >= MIN_SPEAKERS:
                median[key] = h.median()
        return Prior(f"{POPULATION_VERSION} ({n} speakers, {band}; median of speaker medians; spreads of {shipped.version})",
                     band, median, dict(shipped.spread), source="deployment")

    def save(self) -> None:
        """Write the counts to ``path`` (atomically); nothing without a path."""
        if self.path is None:
            return
        data = {"version": POPULATION_VERSION, "speakers": self.speakers,
                "bins": {k: list(BINS[k]) for k in FEATURES},
                "counts": {band: {k: {str(i): c for i, c in enumerate(self.hist[band][k].counts.tolist()) if c}
                                  for k in FEATURES} for band in BANDS}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".arousal-population-")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, self.path)

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text())
        if data.get("version") != POPULATION_VERSION or data.get("bins") != {k: list(BINS[k]) for k in FEATURES}:
            return  # another layout: start afresh rather than misread it
        for band in BANDS:
            self.speakers[band] = float(data["speakers"].get(band, 0.0))
            for key in FEATURES:
                for i, c in data["counts"].get(band, {}).get(key, {}).items():
                    self.hist[band][key].counts[int(i)] = float(c)
