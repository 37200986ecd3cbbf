"""Results of the transcription layer that cross into scoring and api (times in seconds)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DecoderWindow:
    """What Whisper's decoder reported for one window (at most 30 s) of the audio it decoded.
    Every word decoded in the window carries the same object.

    Attributes:
        avg_logprob: mean log-probability of the window's tokens (≤ 0; below -1 the decoder was
            unsure of most of what it wrote).
        compression_ratio: the window's text length over its gzip-compressed length (above about
            2.4: the text repeats itself, Whisper's loops).
        no_speech_prob: the decoder's probability that the window holds no speech, 0..1.
    """

    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float


@dataclass(frozen=True)
class Word:
    """One recognised word.

    Attributes:
        word: the text as Whisper wrote it, stripped of surrounding spaces.
        start, end: seconds from the start of the recording.
        probability: Whisper's token probability for the word, 0..1.
        channel: the channel it was heard on (dual-channel calls), else ``None``.
        window: what the decoder reported for the window the word was decoded in (None for
            words that did not come from the decoder, e.g. in tests or stored results).
    """

    word: str
    start: float
    end: float
    probability: float
    channel: int | None = None
    window: DecoderWindow | None = None


@dataclass(frozen=True)
class SpeakerTurn:
    """A stretch where one speaker talks, seconds from the start of the recording."""

    speaker: str
    start: float
    end: float


@dataclass(frozen=True)
class Reliability:
    """How far an utterance's words can be trusted as evidence
    (:mod:`callscope.transcription.reliability`).

    Attributes:
        score: the expected share of its words that are right, 0..1 (an estimate of 1 - WER,
            calibrated against reference transcripts).
        reliable: ``score`` reaches the threshold; an unreliable utterance is marked in the
            output and weighs less in every score built on it.
        marks: why it is doubtful, in words (e.g. ``repeats itself``); empty when nothing stands out.
        features: the measurements the score was computed from (see the module).
    """

    score: float
    reliable: bool
    marks: tuple[str, ...] = ()
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class Utterance:
    """Consecutive words of one speaker (a speaker turn, split at long pauses)."""

    speaker: str
    start: float
    end: float
    words: list[Word] = field(default_factory=list)
    reliability: Reliability | None = None

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words).strip()
