"""The ASR engine interface and its settings.

Two engines implement it over the same CTranslate2 Whisper weights:
``faster-whisper`` (default) and ``openai-whisper`` (PyTorch, converted weights).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from callscope.transcription.types import Word

ENGINE_CHOICES = ("faster-whisper", "openai-whisper")
DEVICE_CHOICES = ("auto", "cpu", "cuda")
#: Decoding temperatures: greedy/beam only. Whisper's fallback to sampling at higher temperatures
#: made the same audio give different words on each run; the analysis must be reproducible.
NO_FALLBACK = (0.0,)
#: Seconds of silence Whisper skips when a decoded window looks like a hallucination (its own
#: ``hallucination_silence_threshold``). Without temperature fallback, the compression-ratio and
#: log-probability thresholds only ever trigger sampling, which is off, so this is the option that
#: cuts loops at decode time. Measured by ``benchmarks/transcript_reliability.py --decode-options``
#: (90 shared recordings with references, as recorded and G.711; docs/transcript-reliability.md):
#: 2 s left no loop and the lowest WER of the sequential options (28.3 % against 29.6 % without;
#: Call01 51 % -> 29 %); 3 s kept one loop; repetition_penalty 1.1 removed them but raised
#: LibriVox's WER from 2.8 % to 8.5 %.
HALLUCINATION_SILENCE_S = 2.0
#: Windows decoded at once by faster-whisper's batched pipeline on CUDA (``batch_size`` auto).
CUDA_BATCH_SIZE = 8


@dataclass(frozen=True)
class AsrSettings:
    """How to run ASR.

    Attributes:
        engine: ``faster-whisper`` or ``openai-whisper``.
        model: ``base`` (default, multilingual), ``tiny.en`` or ``small`` (``small`` needs ``model_dir``).
            base at beam 1 is the default: on real phone audio it makes a sixth fewer errors than
            tiny.en at beam 5 for about the same time, and does not invert Call01's complaint
            (benchmarks/asr_phone.py).
        model_dir: a user-supplied CTranslate2 Whisper directory; overrides the bundled weights.
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
        beam_size: beam width (1 = greedy).
        language: ISO code forced for every call; None (default): detected per call among the
            allowed languages (:mod:`callscope.transcription.language`). English-only (``.en``)
            models transcribe English only.
        threads: CPU threads (0 = all cores).
        model_dirs: per language, a CTranslate2 Whisper directory to transcribe that language with
            (e.g. ``(("sv", "/models/whisper-sv"),)`` for a Swedish fine-tuned Whisper); loaded on
            the first call in that language.
        hallucination_silence_s: seconds of silence the decoder skips where a window looks
            hallucinated (see :data:`HALLUCINATION_SILENCE_S`); None turns it off. Sequential
            decoding only.
        batch_size: windows of up to 30 s decoded at once by faster-whisper's batched pipeline
            (0: one after another, as on CPU; None: :data:`CUDA_BATCH_SIZE` on CUDA, sequential
            on CPU). Batched windows are cut at the speech regions and decoded independently.
    """

    engine: str = "faster-whisper"
    model: str = "base"
    model_dir: str | None = None
    device: str = "auto"
    beam_size: int = 1
    language: str | None = None
    threads: int = 0
    model_dirs: tuple[tuple[str, str], ...] = ()
    hallucination_silence_s: float | None = HALLUCINATION_SILENCE_S
    batch_size: int | None = None

    def cpu_threads(self) -> int:
        return self.threads or (os.cpu_count() or 1)


class Engine(ABC):
    """Transcribes 16 kHz mono float32 audio into words with timestamps."""

    name: str
    settings: AsrSettings
    device: str  # the device actually used: "cpu" or "cuda"
    compute_type: str

    multilingual: bool = True

    @abstractmethod
    def transcribe(self, audio: np.ndarray, language: str | None = None,
                   clips: list[tuple[float, float]] | None = None) -> list[Word]:
        """Words of ``audio`` (16 kHz mono float32), times in seconds from its first sample, each
        with its decoder window's statistics; ``language`` (ISO code) for this audio, else the
        settings' (multilingual models only). ``clips``: (start, end) seconds of ``audio`` where
        windows may be cut (speech regions), for batched decoding."""

    @abstractmethod
    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        """Whisper's language probabilities for the first 30 s of ``audio`` (16 kHz mono
        float32); empty for an English-only model."""

    def describe(self) -> str:
        return f"{self.name} {self.settings.model} ({self.device}, {self.compute_type}, beam {self.settings.beam_size})"


def parse_model_dirs(items: list[str] | tuple[str, ...] | str) -> tuple[tuple[str, str], ...]:
    """``["sv=/models/sv", "da=/models/da"]`` or ``"sv=/models/sv,da=/models/da"`` → pairs."""
    from callscope.transcription.language import SUPPORTED_LANGUAGES, WHISPER_LANGUAGES

    if isinstance(items, str):
        items = [x for x in items.split(",") if x.strip()]
    out = []
    for item in items:
        lang, sep, path = item.partition("=")
        lang = lang.strip().lower()
        if not sep or not path.strip() or lang not in WHISPER_LANGUAGES:
            raise ValueError(f"{item!r}: give LANGUAGE=DIRECTORY with a language Whisper knows (ISO 639-1: "
                             f"{', '.join(SUPPORTED_LANGUAGES)}, …)")
        out.append((lang, path.strip()))
    return tuple(out)


def create_engine(settings: AsrSettings) -> Engine:
    """Load the engine named in ``settings`` (weights from disk only)."""
    if settings.engine == "faster-whisper":
        from callscope.transcription.faster_whisper_engine import FasterWhisperEngine

        return FasterWhisperEngine(settings)
    if settings.engine == "openai-whisper":
        from callscope.transcription.openai_whisper_engine import OpenAIWhisperEngine

        return OpenAIWhisperEngine(settings)
    raise ValueError(f"unknown engine {settings.engine!r}; choose one of {', '.join(ENGINE_CHOICES)}")


def clean_word(text: str) -> str:
    return text.strip()
