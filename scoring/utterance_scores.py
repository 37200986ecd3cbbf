"""Per-utterance features, sentiment and emotion, with each speaker normalised to themself."""

from __future__ import annotations

import math

import numpy as np

from callscope.audio.features import FrameFeatures, summarise
from callscope.scoring.arousal_prior import FEATURES as PRIOR_FEATURES
from callscope.scoring.arousal_prior import Prior
from callscope.scoring.emotion import EmotionThresholds, arousal_from_z, classify
from callscope.scoring.results import EmotionOut, SentimentOut, UtteranceFeatures, UtteranceScores
from callscope.scoring.sentiment import Sentiment
from callscope.transcription.reliability import reliability_weight
from callscope.transcription.types import Utterance

#: Features whose rise (against the speaker's own baseline) means higher arousal: level, pitch,
#: spectral balance (vocal effort lifts the high frequencies), spectral change and speaking rate.
#: Pitch variability is reported but not used: on EmoDB it fell with arousal (AUC 0.19,
#: benchmarks/features.py) and the literature is mixed. The population prior holds the same ones.
AROUSAL_FEATURES = PRIOR_FEATURES
MIN_BASELINE_UTTERANCES = 3


def word_features(u: Utterance) -> UtteranceFeatures:
    """Speaking rate (words per minute of utterance time) and pauses between words (seconds)."""
    duration = u.end - u.start
    gaps = [b.start - a.end for a, b in zip(u.words, u.words[1:]) if b.start - a.end > 0.2]
    return UtteranceFeatures(
        words_per_minute=round(60.0 * len(u.words) / duration, 1) if duration >= 0.5 else None,
        pause_mean_s=round(float(np.mean(gaps)), 3) if gaps else 0.0,
        pause_max_s=round(float(max(gaps)), 3) if gaps else 0.0,
    )


def acoustic_features(u: Utterance, frames: FrameFeatures, base: UtteranceFeatures) -> UtteranceFeatures:
    s = summarise(frames, u.start, u.end)
    if s is None:
        return base
    r = lambda v, n=2: None if v is None else round(float(v), n)  # noqa: E731
    return base.model_copy(update=dict(
        f0_median_hz=r(s.f0_median_hz, 1), f0_range_st=r(s.f0_range_st), f0_std_st=r(s.f0_std_st),
        voiced_fraction=r(s.voiced_fraction, 3), loudness_dbfs=r(s.loudness_dbfs, 1),
        centroid_hz=r(s.centroid_hz, 0), flux=r(s.flux, 3), flatness=r(s.flatness, 4),
    ))


def arousal_inputs(f: UtteranceFeatures) -> dict[str, float | None]:
    """The arousal features of one utterance (names as in :data:`AROUSAL_FEATURES`; pitch in
    semitones above 100 Hz)."""
    return {
        "loudness_dbfs": f.loudness_dbfs,
        "f0_median_st": None if not f.f0_median_hz else 12 * math.log2(f.f0_median_hz / 100.0),
        "centroid_hz": f.centroid_hz,
        "flux": f.flux,
        "words_per_minute": f.words_per_minute,
    }


def speaker_z_scores(features: list[UtteranceFeatures], prior: Prior | None = None) -> tuple[list[list[float | None]], str]:
    """Robust z-scores (median, 1.4826·MAD) of the arousal features, and the baseline used.

    Against this speaker's own utterances when they have at least :data:`MIN_BASELINE_UTTERANCES`
    with acoustics (baseline ``"speaker"``); otherwise against the population ``prior`` (its
    ``source``: ``"population"`` for the shipped prior, ``"deployment"`` for the deployment's own),
    or not at all without one (``"none"``: every z-score None).
    """
    table = [arousal_inputs(f) for f in features]
    out: list[list[float | None]] = [[] for _ in features]
    own = sum(f.loudness_dbfs is not None for f in features) >= MIN_BASELINE_UTTERANCES
    baseline = "speaker" if own else (prior.source if prior is not None else "none")
    for key in AROUSAL_FEATURES:
        values = np.array([row[key] if row[key] is not None else np.nan for row in table], dtype=float)
        finite = values[np.isfinite(values)]
        if own and len(finite) >= MIN_BASELINE_UTTERANCES:
            med = float(np.median(finite))
            spread = 1.4826 * float(np.median(np.abs(finite - med)))
            spread = max(spread, 1e-3, 0.1 * float(np.std(finite)))
        elif not own and prior is not None:
            med, spread = prior.median[key], max(prior.spread[key], 1e-3)
        else:
            for row in out:
                row.append(None)
            continue
        for row, v in zip(out, values):
            row.append(float(np.clip((v - med) / spread, -4, 4)) if np.isfinite(v) else None)
    return out, baseline


def emotion_out(e, u, arousal: float | None, acoustic: bool) -> EmotionOut:
    """The utterance's emotion label as output. A label read from doubtful words is a doubtful
    label: its confidence is scaled by the transcript's reliability (halfway, where the voice
    carries part of it)."""
    r = reliability_weight(u)
    scale = (1.0 + r) / 2 if acoustic and arousal is not None else r
    return EmotionOut(label=e.label, confidence=round(e.confidence * scale, 4), valence=e.valence, arousal=arousal,
                      acoustic=acoustic)


def score_utterances(
    utterances: list[Utterance],
    sentiments: list[Sentiment],
    frames_of: dict[str, FrameFeatures | None],
    acoustic_allowed: dict[str, bool],
    thresholds: EmotionThresholds,
    empathy_formula: list[bool] | None = None,
    prior: Prior | None = None,
    baselines: dict[str, str] | None = None,
) -> list[UtteranceScores]:
    """Scores for every utterance, in order. ``frames_of[speaker]`` is the signal the speaker is
    heard on; acoustics are used only where ``acoustic_allowed[speaker]``. ``empathy_formula[i]``:
    utterance i is an agent's apology/empathy formula (see :mod:`callscope.scoring.courtesy`).
    ``prior``: the population prior for speakers too short for a baseline of their own;
    ``baselines``, if given, receives each acoustic speaker's baseline (speaker/population/none)."""
    empathy_formula = empathy_formula or [False] * len(utterances)
    features = []
    for u in utterances:
        f = word_features(u)
        frames = frames_of.get(u.speaker)
        if acoustic_allowed.get(u.speaker) and frames is not None:
            f = acoustic_features(u, frames, f)
        features.append(f)
    arousal: list[float | None] = [None] * len(utterances)
    for speaker in {u.speaker for u in utterances}:
        idx = [i for i, u in enumerate(utterances) if u.speaker == speaker]
        if not acoustic_allowed.get(speaker):
            continue
        z_scores, baseline = speaker_z_scores([features[i] for i in idx], prior)
        if baselines is not None:
            baselines[speaker] = baseline
        if baseline == "none":
            continue
        for i, z in zip(idx, z_scores):
            arousal[i] = arousal_from_z(z)
    out = []
    for u, f, s, a, formula in zip(utterances, features, sentiments, arousal, empathy_formula):
        longest_pause = f.pause_max_s or 0.0
        e = classify(s.score, s.confidence, a, u.text, longest_pause, thresholds, formula)
        out.append(UtteranceScores(
            sentiment=SentimentOut(score=s.score, confidence=s.confidence),
            emotion=emotion_out(e, u, e.arousal, e.acoustic),
            features=f,
        ))
    return out
