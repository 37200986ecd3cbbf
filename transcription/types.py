"""Results of the transcription layer that cross into scoring and api (times in seconds)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    """One recognised word.

    Attributes:
        word: the text as Whisper wrote it, stripped of surrounding spaces.
        start, end: seconds from the start of the recording.
        probability: Whisper's token probability for the word, 0..1.
        channel: the channel it was heard on (dual-channel calls), else ``None``.
    """

    word: str
    start: float
    end: float
    probability: float
    channel: int | None = None


@dataclass(frozen=True)
class SpeakerTurn:
    """A stretch where one speaker talks, seconds from the start of the recording."""

    speaker: str
    start: float
    end: float


@dataclass
class Utterance:
    """Consecutive words of one speaker (a speaker turn, split at long pauses)."""

    speaker: str
    start: float
    end: float
    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words).strip()
