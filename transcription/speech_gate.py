"""Run ASR on speech only: VAD regions are joined into one signal and times mapped back.

Whisper invents text on silence and hold music; giving it only what silero-vad calls speech
avoids that and saves the time the silence would cost. For ASR the regions are joined with
``ASR_GAP_S`` of digital silence between them (the VAD's own shortest pause): spliced back to
back, the regions cost accuracy (benchmarks/asr_phone.py: tiny.en beam 5 on phone audio, WER
28.7 % joined back to back, 25.6 % with the gap, 25.9 % on the whole ungated signal).
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

    def region_index(self, t: float) -> int:
        """Index of the region that joined-signal time ``t`` (s) falls in; a time in the gap
        after a region belongs to the next region (Whisper's word starts run early)."""
        idx = min(max(int(np.searchsorted(self.offsets, t, side="right")) - 1, 0), len(self.regions) - 1)
        if idx + 1 < len(self.regions) and t > self.offsets[idx] + self.regions[idx].duration + 1e-9:
            idx += 1
        return idx

    def to_original(self, t: float) -> float:
        """Time ``t`` (s) in the joined signal → time in the original recording."""
        if not self.regions:
            return t
        idx = self.region_index(t)
        region = self.regions[idx]
        return min(max(region.start + (t - self.offsets[idx]), region.start), region.end)

    def span_to_original(self, start: float, end: float) -> tuple[float, float]:
        """A word's (start, end) in the joined signal → original times, kept inside the region
        its start falls in: a word never spans a pause the VAD found."""
        if not self.regions:
            return start, end
        idx = self.region_index(start)
        region = self.regions[idx]
        s = self.to_original(start)
        e = min(region.start + (end - self.offsets[idx]), region.end)
        return s, max(s, e)


#: Seconds of silence between joined speech regions for ASR (= VadSettings.min_silence_s).
ASR_GAP_S = 0.3


def gather_speech(audio: np.ndarray, regions: list[SpeechRegion], sample_rate: int,
                  gap_s: float = 0.0) -> tuple[np.ndarray, SpeechMap]:
    """The speech of ``audio`` (mono float32 at ``sample_rate`` Hz) joined, with ``gap_s``
    seconds of silence between regions, and its time map (a time in a gap maps to the end of
    the region before it)."""
    pieces: list = []
    offsets: list = []
    kept: list = []
    pos = 0
    gap = np.zeros(int(round(gap_s * sample_rate)), dtype=np.float32)
    for r in regions:
        a, b = int(r.start * sample_rate), int(r.end * sample_rate)
        piece = audio[a:b]
        if len(piece) == 0:
            continue
        if pieces and len(gap):
            pieces.append(gap)
            pos += len(gap)
        pieces.append(piece)
        offsets.append(pos / sample_rate)
        kept.append(SpeechRegion(a / sample_rate, a / sample_rate + len(piece) / sample_rate))
        pos += len(piece)
    joined = np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, dtype=np.float32)
    return joined, SpeechMap(tuple(kept), tuple(offsets))


#: Most seconds of speech transcribed in one engine call: longer calls go in chunks split at
#: pauses, so the engine's feature and decoder memory stays bounded on a 4-hour call.
ASR_CHUNK_S = 600.0


def chunk_regions(regions: list[SpeechRegion], chunk_s: float = ASR_CHUNK_S) -> list[list[SpeechRegion]]:
    """Consecutive groups of ``regions`` holding at most ``chunk_s`` seconds of speech each (a
    region longer than that is cut into ``chunk_s`` pieces)."""
    groups: list[list[SpeechRegion]] = [[]]
    held = 0.0
    for r in regions:
        pieces = [r]
        if r.duration > chunk_s:
            n = int(np.ceil(r.duration / chunk_s))
            edges = np.linspace(r.start, r.end, n + 1)
            pieces = [SpeechRegion(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:])]
        for piece in pieces:
            if groups[-1] and held + piece.duration > chunk_s:
                groups.append([])
                held = 0.0
            groups[-1].append(piece)
            held += piece.duration
    return [g for g in groups if g]


def transcribe_speech(
    engine: Engine, audio: np.ndarray, regions: list[SpeechRegion], sample_rate: int, channel: int | None = None,
    chunk_s: float = ASR_CHUNK_S, gap_s: float = ASR_GAP_S, language: str | None = None,
) -> list[Word]:
    """Words of the speech regions of ``audio``, times in seconds of the original recording;
    at most ``chunk_s`` seconds of speech per engine call, regions ``gap_s`` apart, in
    ``language`` (None: the engine's setting)."""
    words = []
    for group in chunk_regions(regions, chunk_s):
        joined, speech_map = gather_speech(audio, group, sample_rate, gap_s)
        if len(joined) < int(0.1 * sample_rate):
            continue
        clips = [(o, o + r.duration) for o, r in zip(speech_map.offsets, speech_map.regions)]
        for w in engine.transcribe(joined, language, clips=clips):
            start, end = speech_map.span_to_original(w.start, w.end)
            words.append(Word(w.word, round(start, 3), round(end, 3), round(w.probability, 4), channel, w.window))
    return words
