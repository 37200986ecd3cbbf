"""Scoring results that cross into the API and the JSON output (pydantic).

Every inferred score is a :class:`Score`: its value, a confidence 0..1, the utterances it
came from (``evidence``: indices into the call's ``utterances``) and the model/rule version,
so QA can trust, dispute and re-score it. Times are seconds from the start of the call.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Score(BaseModel):
    value: float | str | None
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[int] = Field(default_factory=list, description="indices into utterances")
    version: str
    detail: str | None = None
    evidence_words: int | None = Field(None, ge=0, description="words in the evidence utterances")
    unreliable_share: float | None = Field(None, ge=0.0, le=1.0, description="share of those words in utterances "
                                           "whose transcript is marked unreliable")


class SentimentOut(BaseModel):
    score: float = Field(ge=-1.0, le=1.0, description="-1 very negative .. +1 very positive")
    confidence: float = Field(ge=0.0, le=1.0)


class EmotionOut(BaseModel):
    label: str = Field(description="frustrated | dissatisfied | uncertain | neutral | satisfied | enthusiastic | empathetic "
                                   "(an agent's apology or acknowledgement; see scoring/courtesy.py)")
    confidence: float = Field(ge=0.0, le=1.0)
    valence: float = Field(ge=-1.0, le=1.0)
    arousal: float | None = Field(None, ge=-1.0, le=1.0, description="None: no acoustic emotion for this speaker")
    acoustic: bool = Field(description="whether voice acoustics were used (customers by default; agents only by opt-in)")


class UtteranceFeatures(BaseModel):
    """Speaking rate and pauses from the words; acoustics only where acoustic emotion is allowed."""

    words_per_minute: float | None = None
    pause_mean_s: float | None = None
    pause_max_s: float | None = None
    f0_median_hz: float | None = None
    f0_range_st: float | None = None
    f0_std_st: float | None = None
    voiced_fraction: float | None = None
    loudness_dbfs: float | None = None
    centroid_hz: float | None = None
    flux: float | None = None
    flatness: float | None = None


class UtteranceScores(BaseModel):
    sentiment: SentimentOut
    emotion: EmotionOut
    features: UtteranceFeatures


class SpeakerScores(BaseModel):
    speaker: str
    role: str = Field(description="agent | customer | unknown")
    acoustic_emotion: bool
    talk_time_s: float
    talk_share: float = Field(ge=0.0, le=1.0, description="share of all talk time in the call")
    words_per_minute: float | None
    loudness_dbfs: float | None = Field(None, description="median utterance level; None without acoustic consent")
    sentiment_mean: Score
    sentiment_min: Score
    sentiment_max: Score
    sentiment_start: Score = Field(description="mean over the speaker's first 25 words or 15 s of speech (at most half "
                                   "their words), weighted by words, clarity and transcript reliability")
    sentiment_end: Score = Field(description="mean over the speaker's last 25 words or 15 s of speech (at most half "
                                 "their words), weighted likewise")
    sentiment_trend: Score = Field(description="end minus start")
    sentiment_by_quarter: list[float | None]
    emotion_shares: dict[str, float] = Field(description="share of this speaker's utterance time per label")
    arousal_baseline: str | None = Field(None, description="what arousal is measured against: speaker (their own "
                                         "utterances in this call), deployment (the speaker medians of this deployment's "
                                         "callers, once 20 were heard) or population (the shipped prior) for speakers with "
                                         "fewer than 3 utterances, or null (no acoustic emotion for this speaker)")
    empathy_statements: int = Field(0, ge=0, description="utterances labelled empathetic: the agent's apologies and "
                                                         "acknowledgements of the customer's problem")


class Interruption(BaseModel):
    by: str = Field(description="the speaker who cut in")
    of: str = Field(description="the speaker who was talking")
    at_s: float
    overlap_s: float
    evidence: list[int]


class SentimentValidation(BaseModel):
    """How far text sentiment is checked for one language (benchmarks/languages.py)."""

    language: str
    validated: bool = Field(description="false: no labelled text in this language was available to test on")
    accuracy: float | None = Field(None, description="polarity accuracy on that language's labelled sentences")
    data: str | None = Field(None, description="the labelled data it was measured on")


class BandsOut(BaseModel):
    """Escalation bands on customer sentiment (-1..+1): green above ``green``, yellow down to
    ``yellow``, orange down to ``orange``, red below."""

    green: float
    yellow: float
    orange: float


class Reason(BaseModel):
    """Why a call has its level, or what else a reviewer should know about it."""

    code: str = Field(description="the message's key in the catalogues of scoring/locale/ (e.g. reason.band, "
                                  "reason.interrupted, reason.qa_level); legacy: a result stored before reasons were structured")
    about: Literal["level", "call", "review"] = Field(
        description="level: the level's own (replaced when the level is read again); call: a fact about the call "
                    "(interruptions, silence, language, role note); review: a QA reviewer's level or role swap")
    params: dict[str, str | int | float | None] = Field(default_factory=dict,
                                                       description="the values the message is written from")
    evidence: list[int] = Field(default_factory=list, description="indices into utterances")
    message: str = Field(description="the reason written in the call's reasons_language")


class CallScores(BaseModel):
    roles: dict[str, str]
    role_source: str = Field(description="channel_map | channel_map_corrected (the words overruled the map, by the "
                                         "deployment's opt-in) | text | lone_speaker_setting | none | qa_review (a QA reviewer "
                                         "swapped agent and customer)")
    role_confidence: float = Field(description="0.5 a guess .. 1; 1 for a declared channel map")
    role_note: str | None = Field(None, description="set when the words contradict the declared channel map "
                                                    "(cleared when a QA reviewer swaps the roles)")
    role_evidence: dict[str, list[int]] = Field(default_factory=dict, description="per speaker, the utterances that "
                                                "carried role cues (greeting, offering help, asking for details, …)")
    direction: str | None = Field(None, description="inbound | outbound | null (unknown)")
    direction_source: str = Field("unknown", description="metadata | inferred | unknown")
    emotion_policy: dict[str, bool] = Field(description="acoustic emotion used for customers / agents")
    silence_s: float = Field(description="time in which nobody speaks")
    silence_share: float
    longest_silence_s: float
    longest_silence_at_s: float | None
    overlap_s: float = Field(description="time in which two or more speakers talk at once")
    interruptions: list[Interruption]
    interruptions_by: dict[str, int]
    escalation: Score
    bands: BandsOut | None = Field(None, description="the escalation bands the level was read with (null: the defaults, "
                                                     "in a result stored before it said)")
    reasons: list[str] = Field(description="the messages of reason_details, in order")
    reason_details: list[Reason] = Field(default_factory=list, description="each reason with its code, parameters and evidence")
    reasons_language: str = Field("en", description="the language the reasons are written in")
    sentiment_validation: SentimentValidation | None = Field(
        None, description="whether text sentiment has been tested on labelled text in the call's language")
    versions: dict[str, str]


class TimelinePoint(BaseModel):
    utterance: int
    t: float = Field(description="utterance midpoint, seconds")
    valence: float
    arousal: float | None
    label: str


class SpeakerTimeline(BaseModel):
    speaker: str
    role: str
    points: list[TimelinePoint]
    grid_s: float = Field(description="spacing of the smoothed series, seconds")
    grid_t: list[float]
    valence: list[float | None] = Field(description="smoothed valence on the grid; None far from this speaker's speech")
    arousal: list[float | None] = Field(description="arousal of 1 s windows on the grid; None where silent or not allowed")
