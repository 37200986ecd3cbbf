"""The analysis result as it leaves callscope (JSON), as pydantic models.

``SCHEMA_VERSION`` changes only when a field changes meaning or disappears; new fields are
added without a change (consumers must ignore fields they don't know). All times are seconds
from the start of the recording.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from callscope.scoring.results import (
    CallScores,
    EmotionOut,
    SentimentOut,
    SpeakerScores,
    SpeakerTimeline,
    UtteranceFeatures,
)
from callscope.transcription.redaction import KINDS

SCHEMA_VERSION = "1.0"


class WordOut(BaseModel):
    word: str
    start: float = Field(description="seconds")
    end: float = Field(description="seconds")
    probability: float = Field(ge=0.0, le=1.0)


class ReliabilityOut(BaseModel):
    """How far an utterance's words can be trusted as evidence (transcription/reliability.py)."""

    score: float = Field(ge=0.0, le=1.0, description="the expected share of its words that are right (an estimate of "
                         "1 - WER, calibrated on reference transcripts)")
    reliable: bool = Field(description="false: under the threshold; marked in the QA app, weighed less in every score")
    marks: list[str] = Field(default_factory=list, description="why it is doubtful, in words")
    features: dict[str, float] = Field(default_factory=dict, description="the decoder's and the words' measurements "
                                       "the score was computed from")


class UtteranceOut(BaseModel):
    speaker: str
    start: float = Field(description="seconds")
    end: float = Field(description="seconds")
    text: str
    words: list[WordOut]
    sentiment: SentimentOut | None = None
    emotion: EmotionOut | None = None
    features: UtteranceFeatures | None = None
    reliability: ReliabilityOut | None = Field(None, description="null in results written before transcript reliability")
    sent_at: str | None = Field(None, description="text interactions: when the message was sent (ISO 8601); start "
                                                  "and end are then on the analysis clock (0.4 s a word, end to end)")


class SpeakerOut(BaseModel):
    id: str
    channel: int | None = Field(None, description="channel index for dual-channel calls")
    talk_time_s: float
    role: str | None = Field(None, description="agent | customer | unknown")


class TurnOut(BaseModel):
    speaker: str
    start: float
    end: float


class HeardLanguage(BaseModel):
    language: str = Field(description="ISO 639-1 code, any language Whisper knows")
    probability: float = Field(ge=0.0, le=1.0)


class LanguageOut(BaseModel):
    """The language of the call, or of one channel of a dual-channel call."""

    channel: int | None = Field(None, description="the channel (dual-channel calls); null for the whole call")
    language: str = Field(description="ISO 639-1 code: what was heard (any language Whisper knows), and what the "
                          "speech was transcribed in")
    confidence: float = Field(ge=0.0, le=1.0, description="1 when forced; else Whisper's speech-weighted probability "
                              "for it over its whole language set")
    source: str = Field(description="forced (given per upload, CLI or deployment) | detected | default (no speech)")
    supported: bool = Field(True, description="whether the language is one of the deployment's languages")
    heard: list[HeardLanguage] = Field(default_factory=list, description="the likeliest languages Whisper heard (at "
                                       "most 3), over its whole set")


class TranscriptReliabilityOut(BaseModel):
    """The call's transcript as evidence (transcription/reliability.py)."""

    score: float | None = Field(None, ge=0.0, le=1.0, description="the expected share of right words over the words "
                                "written plus those the speech without words would have held; null without speech")
    unreliable_share: float = Field(ge=0.0, le=1.0, description="share of the words in unreliable utterances")
    speech_without_words_s: float = Field(ge=0.0, description="seconds of speech with no word near them")
    threshold: float = Field(description="an utterance under this score is unreliable")
    version: str


class Timings(BaseModel):
    """Wall-clock seconds per stage."""

    decode: float = 0.0
    vad: float = 0.0
    asr: float = 0.0
    diarise: float = 0.0
    features: float = 0.0
    sentiment: float = 0.0
    fusion: float = 0.0
    redaction: float = 0.0
    total: float = 0.0


class RedactionOut(BaseModel):
    """Personal data taken out of the transcript (never its value): what kind, when, who said it."""

    kind: str = Field(description=" | ".join(KINDS))
    subtype: str | None = Field(None, description="e.g. se_personnummer, fi_hetu; for e-mail: written | spoken | "
                                                  "after_context; for a name: introduced | mentioned | spelled")
    start: float = Field(description="seconds")
    end: float = Field(description="seconds")
    speaker: str
    channel: int | None = Field(None, description="the channel it was said on (dual-channel calls)")
    utterance: int = Field(description="index of the utterance holding its placeholder")
    pseudonym: str | None = Field(None, description="for a kind the deployment pseudonymises: the keyed token in its "
                                                    "placeholder ([KIND:token]), the same for the same value in every call")


class CallAnalysis(BaseModel):
    schema_version: str = SCHEMA_VERSION
    status: str = Field("analysed", description="analysed | unsupported_language (heard outside the deployment's "
                        "languages, which stops after language ID: no transcript and no scores)")
    file: str
    duration_s: float
    sample_rate: int = Field(description="the recording's own sample rate (Hz); analysis runs at 16 kHz")
    channels: int
    channel_layout: str = Field(description="mono | dual_mono | dual_channel | mixed_stereo; chat | email | ticket for a "
                                "text interaction")
    engine: str
    model: str
    language: str | None = Field(None, description="language of the call (of the channel with most speech)")
    language_confidence: float | None = Field(None, ge=0.0, le=1.0)
    language_supported: bool | None = Field(None, description="whether the call's language is one of the "
                                            "deployment's languages")
    languages: list[LanguageOut] = Field(default_factory=list, description="per channel on dual-channel calls, "
                                         "else one entry for the call; how each was chosen")
    language_note: str | None = Field(None, description="set when the language is outside the deployment's, "
                                      "uncertain, contradicted by the transcript's, or an English-only model had to "
                                      "hand a call to the multilingual one")
    transcript_reliability: TranscriptReliabilityOut | None = Field(None, description="the transcript as evidence; "
                                                                    "null when not transcribed")
    decode_warnings: list[str] = Field(default_factory=list, description="what went wrong decoding the recording "
                                       "without stopping it (data corrupt after some point, fewer seconds decoded "
                                       "than its header declares): the call was analysed as far as it decoded")
    speakers: list[SpeakerOut]
    turns: list[TurnOut] = Field(default_factory=list, description="diarisation speaker turns")
    utterances: list[UtteranceOut]
    speaker_scores: list[SpeakerScores] = Field(default_factory=list)
    call_scores: CallScores | None = None
    timeline: list[SpeakerTimeline] = Field(default_factory=list)
    redactions: list[RedactionOut] = Field(default_factory=list, description="personal data replaced in the "
                                           "transcript by [KIND] placeholders")
    redaction: str | None = Field(None, description="the redaction rules' version; null: transcript not redacted")
    timings_s: Timings
