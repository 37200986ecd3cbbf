"""Per-speaker emotion timeline: utterance points plus smoothed series on a fixed grid."""

from __future__ import annotations

import math

import numpy as np

from callscope.audio.features import FrameFeatures, summarise
from callscope.scoring.arousal_prior import Prior
from callscope.scoring.results import SpeakerTimeline, TimelinePoint, UtteranceScores
from callscope.transcription.types import Utterance

GRID_S = 1.0
SMOOTHING_S = 8.0  # Gaussian σ (seconds) of the valence series


#: Fewer of the speaker's own 1 s windows than this: their windows are measured against the
#: population prior (:mod:`callscope.scoring.arousal_prior`) instead.
MIN_BASELINE_WINDOWS = 5
_WINDOW_FEATURES = ("loudness_dbfs", "f0_median_st", "centroid_hz")


def _grid_arousal(frames: FrameFeatures, utterances: list[Utterance], t: np.ndarray,
                  prior: Prior | None = None) -> list[float | None]:
    """Arousal of each 1 s window in which the speaker talks: tanh of the mean z-score of level,
    pitch and spectral centroid against this speaker's own windows, or against ``prior`` when
    the speaker has fewer than :data:`MIN_BASELINE_WINDOWS` of them."""
    spans = [(u.start, u.end) for u in utterances]
    rows = []
    for c in t:
        talking = sum(max(0.0, min(e, c + GRID_S / 2) - max(s, c - GRID_S / 2)) for s, e in spans)
        s = summarise(frames, c - GRID_S / 2, c + GRID_S / 2, min_voiced_frames=5) if talking >= 0.3 else None
        rows.append(None if s is None else (s.loudness_dbfs, None if s.f0_median_hz is None else 12 * math.log2(s.f0_median_hz / 100), s.centroid_hz))
    out: list[float | None] = [None] * len(t)
    cols = []
    for k in range(3):
        vals = np.array([r[k] if r is not None and r[k] is not None else np.nan for r in rows])
        fin = vals[np.isfinite(vals)]
        if len(fin) >= MIN_BASELINE_WINDOWS:
            med = np.median(fin)
            spread = max(1.4826 * np.median(np.abs(fin - med)), 1e-3)
        elif prior is not None:
            med, spread = prior.median[_WINDOW_FEATURES[k]], max(prior.spread[_WINDOW_FEATURES[k]], 1e-3)
        else:
            cols.append(np.full(len(t), np.nan))
            continue
        cols.append((vals - med) / spread)
    z = np.vstack(cols)
    for i, r in enumerate(rows):
        zi = z[:, i][np.isfinite(z[:, i])]
        if r is not None and len(zi):
            out[i] = round(float(math.tanh(np.mean(zi))), 4)
    return out


def build_timeline(
    speaker: str,
    role: str,
    utterances: list[Utterance],
    scores: list[UtteranceScores],
    duration: float,
    frames: FrameFeatures | None,
    prior: Prior | None = None,
) -> SpeakerTimeline:
    """The timeline of ``speaker``; ``frames`` None means no acoustic arousal for them; ``prior``:
    the population prior for a speaker with too little speech for a baseline of their own."""
    idx = [i for i, u in enumerate(utterances) if u.speaker == speaker]
    points = [
        TimelinePoint(utterance=i, t=round((utterances[i].start + utterances[i].end) / 2, 3),
                      valence=scores[i].emotion.valence, arousal=scores[i].emotion.arousal, label=scores[i].emotion.label)
        for i in idx
    ]
    # cell k covers [k, k+1) * GRID_S, the last one possibly partial: the whole call is covered
    t = (np.arange(max(1, int(np.ceil(duration / GRID_S)))) + 0.5) * GRID_S
    valence: list[float | None] = [None] * len(t)
    if points:
        pt = np.array([p.t for p in points])
        pv = np.array([p.valence for p in points])
        pw = np.array([max(len(utterances[i].words), 1) for i in idx], dtype=float)
        for k, c in enumerate(t):
            kernel = np.exp(-0.5 * ((pt - c) / SMOOTHING_S) ** 2) * pw
            if kernel.sum() > 0.05 * pw.max():  # far from any of this speaker's speech: no value
                valence[k] = round(float(np.sum(kernel * pv) / kernel.sum()), 4)
    arousal = _grid_arousal(frames, [utterances[i] for i in idx], t, prior) if frames is not None else [None] * len(t)
    return SpeakerTimeline(speaker=speaker, role=role, points=points, grid_s=GRID_S,
                           grid_t=[round(float(x), 3) for x in t], valence=valence, arousal=arousal)
