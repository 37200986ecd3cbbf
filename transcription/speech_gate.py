"""Run ASR on speech only: VAD regions are joined into one signal and times mapped back.

Whisper invents text on silence and hold music; giving it only what silero-vad calls speech
avoids that and saves the time the silence would cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callscope.audio.vad import SpeechRegion
from callscope.transcription.engine import Engine
from callscope.transcription.types import Word


@dataclass(frozen=True)
class SpeechMap:
    """Where each region of the original recording sits in the joined speech signal (seconds)."""

    regions: tuple[SpeechRegion, ...]
    offsets: tuple[float, ...]  # start of each region inside the joined signal

    def to_original(self, t: float, prefer_end: bool = False) -> float:
        """Time ``t`` (s) in the joined signal → time in the original recording."""
        if not self.regions:
            return t
        idx = int(np.searchsorted(self.offsets, t, side="left" if prefer_end else "right")) - 1
        idx = min(max(idx, 0), len(self.regions) - 1)
        region = self.regions[idx]
        return min(region.start + (t - self.offsets[idx]), region.end) if t >= self.offsets[idx] else region.start


def gather_speech(audio: np.ndarray, regions: list[SpeechRegion], sample_rate: int) -> tuple[np.ndarray, SpeechMap]:
    """The speech of ``audio`` (mono float32 at ``sample_rate`` Hz) joined, and its time map."""
    pieces, offsets, kept = [], [], []
    pos = 0
    for r in regions:
        a, b = int(r.start * sample_rate), int(r.end * sample_rate)
        piece = audio[a:b]
        if len(piece) == 0:
            continue
        pieces.append(piece)
        offsets.append(pos / sample_rate)
        kept.append(SpeechRegion(a / sample_rate, a / sample_rate + len(piece) / sample_rate))
        pos += len(piece)
    joined = np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, dtype=np.float32)
    return joined, SpeechMap(tuple(kept), tuple(offsets))


def transcribe_speech(
    engine: Engine, audio: np.ndarray, regions: list[SpeechRegion], sample_rate: int, channel: int | None = None
) -> list[Word]:
    """Words of the speech regions of ``audio``, times in seconds of the original recording."""
    joined, speech_map = gather_speech(audio, regions, sample_rate)
    if len(joined) < int(0.1 * sample_rate):
        return []
    words = []
    for w in engine.transcribe(joined):
        start = speech_map.to_original(w.start)
        end = max(start, speech_map.to_original(w.end, prefer_end=True))
        words.append(Word(w.word, round(start, 3), round(end, 3), round(w.probability, 4), channel))
    return words
