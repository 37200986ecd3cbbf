"""Emotion per utterance from text sentiment (valence) and speaker-normalised acoustics (arousal).

Mapping (thresholds in :class:`EmotionThresholds`, all configurable):

* arousal, -1..+1, 0 = this speaker's usual: ``tanh`` of the mean z-score (against the same
  speaker's utterances in this call) of loudness, median pitch, spectral centroid, spectral
  flux and speaking rate. A naturally loud speaker is therefore not "aroused".
* valence, -1..+1: the text sentiment, nudged by prosody: ``s + prosody_nudge * arousal *
  sign(s)`` (raised voice sharpens what the words say; a flat voice softens it), clipped.
* labels:

  ============================  ===========================  ================
  valence                       arousal ≥ high_arousal        otherwise
  ============================  ===========================  ================
  ≤ -neutral_band               frustrated                    dissatisfied
  ≥ +neutral_band               enthusiastic                  satisfied
  in between, uncertainty cues  uncertain                     uncertain
  in between, no cues           neutral                       neutral
  ============================  ===========================  ================

  An agent's routine apology or empathy formula ("sorry for the inconvenience", see
  :mod:`callscope.scoring.courtesy`) is labelled ``empathetic`` unless what remains of the
  utterance once the formula is cut out is negative: it is a politeness act, not the agent's
  dissatisfaction.

  Uncertainty cues are hedges and fillers in the words ("I'm not sure", "maybe", "um") or a
  question asked with long pauses. Without acoustics (an agent, unless the deployment opted
  in), arousal is absent and frustrated/enthusiastic cannot be given: the label says only
  what the text supports.
* confidence, 0..1: how often a label of its valence class (negative, neutral/uncertain,
  positive) at that distance from neutral was right on conversational comments people labelled
  (:mod:`callscope.scoring.label_confidence`, calibrated: a stated 0.6 was right about 6 in 10
  times there); for a label that also rests on the voice (frustrated, enthusiastic, and
  dissatisfied/satisfied read with acoustics) times ``0.5 + 0.5 · margin`` of arousal from its
  threshold (full at 0.25 away; not calibrated: no labelled real calls); an ``empathetic``
  formula keeps its sentence's sign confidence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from callscope.scoring.label_confidence import load_map, text_class

EMOTION_RULES_VERSION = "emotion-rules/3"
LABELS = ("frustrated", "dissatisfied", "uncertain", "neutral", "satisfied", "enthusiastic", "empathetic")
#: |sentiment| below this is neutral: a mean human rating of ±0.5 on vader's -4..+4 scale.
NEUTRAL_BAND = 0.125

_HEDGES = re.compile(
    r"\b(not sure|i'?m not certain|maybe|perhaps|i think|i guess|i suppose|probably|might be|"
    r"don'?t know|no idea|kind of|sort of|um+|uh+|erm|hmm+)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EmotionThresholds:
    """Configurable thresholds of the mapping in the module doc."""

    neutral_band: float = NEUTRAL_BAND
    high_arousal: float = 0.35
    prosody_nudge: float = 0.15
    question_pause_s: float = 0.5


@dataclass(frozen=True)
class EmotionEstimate:
    """One utterance's emotion. ``arousal`` is None when acoustics were not used."""

    label: str
    confidence: float
    valence: float
    arousal: float | None
    acoustic: bool


def arousal_from_z(z_scores: list[float | None]) -> float:
    """Arousal -1..+1 from the z-scores (speaker-normalised) of the arousal features."""
    usable = [z for z in z_scores if z is not None and math.isfinite(z)]
    return math.tanh(sum(usable) / len(usable)) if usable else 0.0


def uncertainty_cues(text: str, longest_pause_s: float, thresholds: EmotionThresholds) -> bool:
    """Hedges or fillers in ``text``, or a question asked with a long pause inside it."""
    if _HEDGES.search(text):
        return True
    return text.rstrip().endswith("?") and longest_pause_s >= thresholds.question_pause_s


def _margin(value: float, boundaries: list[float]) -> float:
    return min(1.0, min(abs(value - b) for b in boundaries) / 0.25)


def classify(
    sentiment: float,
    sentiment_confidence: float,
    arousal: float | None,
    text: str,
    longest_pause_s: float,
    thresholds: EmotionThresholds = EmotionThresholds(),
    empathy_formula: bool = False,
) -> EmotionEstimate:
    """Label one utterance (see the module doc). ``arousal`` None = no acoustics for this speaker;
    ``empathy_formula``: an agent's utterance held an apology/empathy formula (the sentiment is
    then that of the rest of the utterance)."""
    band = thresholds.neutral_band
    valence = sentiment
    if arousal is not None and abs(sentiment) >= band:
        valence = max(-1.0, min(1.0, sentiment + thresholds.prosody_nudge * arousal * (1 if sentiment > 0 else -1)))
    high = arousal is not None and arousal >= thresholds.high_arousal
    if empathy_formula and valence > -band:
        label = "empathetic"
    elif valence <= -band:
        label = "frustrated" if high else "dissatisfied"
    elif valence >= band:
        label = "enthusiastic" if high else "satisfied"
    else:
        label = "uncertain" if uncertainty_cues(text, longest_pause_s, thresholds) else "neutral"
    if label == "empathetic":
        confidence = sentiment_confidence
    else:
        confidence = load_map().probability(text_class(valence, band), valence)
    if arousal is not None and label in ("frustrated", "dissatisfied", "satisfied", "enthusiastic"):
        confidence *= 0.5 + 0.5 * _margin(arousal, [thresholds.high_arousal])
    return EmotionEstimate(label, round(confidence, 4), round(valence, 4), None if arousal is None else round(arousal, 4), arousal is not None)
