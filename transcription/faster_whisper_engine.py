"""faster-whisper (CTranslate2): int8 on CPU, float16 on CUDA."""

from __future__ import annotations

import numpy as np

from callscope.transcription.engine import NO_FALLBACK, AsrSettings, Engine, clean_word
from callscope.transcription.types import Word
from callscope.transcription.weights import force_offline, resolve_model_dir


def _cuda_available() -> bool:
    import ctranslate2

    try:
        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # noqa: BLE001 - a CPU-only build raises here
        return False


class FasterWhisperEngine(Engine):
    name = "faster-whisper"

    def __init__(self, settings: AsrSettings) -> None:
        force_offline()
        from faster_whisper import WhisperModel

        self.settings = settings
        self.model_path = resolve_model_dir(settings.model, settings.model_dir)
        if settings.device == "cuda" and not _cuda_available():
            raise RuntimeError("--device cuda was asked for, but CTranslate2 sees no CUDA device")
        self.device = "cuda" if settings.device in ("cuda", "auto") and _cuda_available() else "cpu"
        self.compute_type = "float16" if self.device == "cuda" else "int8"
        self.model = WhisperModel(
            str(self.model_path),
            device=self.device,
            compute_type=self.compute_type,
            cpu_threads=settings.cpu_threads(),
            local_files_only=True,
        )
        self.english_only = not self.model.model.is_multilingual
        self.multilingual = not self.english_only

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        if self.english_only or len(audio) == 0:
            return {}
        _lang, _p, probs = self.model.detect_language(audio.astype(np.float32, copy=False))
        return {lang: float(p) for lang, p in probs}

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> list[Word]:
        if len(audio) == 0:
            return []
        segments, _info = self.model.transcribe(
            audio.astype(np.float32, copy=False),
            language=None if self.english_only else (language or self.settings.language),
            beam_size=self.settings.beam_size,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            # no temperature fallback: it samples, and the same clip gave different words on each
            # run; seeding CTranslate2 did not make it repeatable. On the phone clips of
            # benchmarks/asr_phone.py it never changed a word (base: 21.4 % WER either way).
            temperature=NO_FALLBACK,
        )
        words: list[Word] = []
        for segment in segments:
            for w in segment.words or []:
                text = clean_word(w.word)
                if text:
                    words.append(Word(text, float(w.start), float(w.end), float(w.probability)))
        return words
