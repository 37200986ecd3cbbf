"""faster-whisper (CTranslate2): int8 on CPU, float16 on CUDA."""

from __future__ import annotations

import numpy as np

from callscope.transcription.engine import CUDA_BATCH_SIZE, NO_FALLBACK, AsrSettings, Engine, clean_word
from callscope.transcription.types import DecoderWindow, Word
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
        self.batch_size = settings.batch_size if settings.batch_size is not None else (
            CUDA_BATCH_SIZE if self.device == "cuda" else 0)
        self._batched = None
        if self.batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(self.model)

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        if self.english_only or len(audio) == 0:
            return {}
        _lang, _p, probs = self.model.detect_language(audio.astype(np.float32, copy=False))
        return {lang: float(p) for lang, p in probs}

    def describe(self) -> str:
        batched = f", batched {self.batch_size}" if self._batched is not None else ""
        return super().describe()[:-1] + batched + ")"

    def transcribe(self, audio: np.ndarray, language: str | None = None,
                   clips: list[tuple[float, float]] | None = None) -> list[Word]:
        if len(audio) == 0:
            return []
        options = dict(
            language=None if self.english_only else (language or self.settings.language),
            task="transcribe",  # never "translate": the words stay in the language spoken
            beam_size=self.settings.beam_size,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            # no temperature fallback: it samples, and the same clip gave different words on each
            # run; seeding CTranslate2 did not make it repeatable. On the phone clips of
            # benchmarks/asr_phone.py it never changed a word (base: 21.4 % WER either way).
            temperature=NO_FALLBACK,
        )
        samples = audio.astype(np.float32, copy=False)
        if self._batched is not None:
            spans = [{"start": a, "end": b} for a, b in window_spans(clips or [(0.0, len(audio) / 16_000)])]
            segments, _info = self._batched.transcribe(samples, clip_timestamps=spans, batch_size=self.batch_size,
                                                       without_timestamps=True, **options)
        else:
            segments, _info = self.model.transcribe(
                samples, hallucination_silence_threshold=self.settings.hallucination_silence_s, **options)
        words: list[Word] = []
        window: DecoderWindow | None = None
        for segment in segments:
            # faster-whisper repeats one window's statistics on each of its segments
            stats = (round(float(segment.avg_logprob), 4), round(float(segment.compression_ratio), 4),
                     round(float(segment.no_speech_prob), 4))
            if window is None or (window.avg_logprob, window.compression_ratio, window.no_speech_prob) != stats:
                window = DecoderWindow(*stats)
            for w in segment.words or []:
                text = clean_word(w.word)
                if text:
                    words.append(Word(text, float(w.start), float(w.end), float(w.probability), window=window))
        return words


def window_spans(clips: list[tuple[float, float]], max_s: float = 30.0) -> list[tuple[float, float]]:
    """Consecutive ``clips`` (seconds) joined into spans of at most ``max_s`` seconds, cut only
    between clips (a clip longer than ``max_s`` is cut into pieces): the windows the batched
    pipeline decodes independently."""
    spans: list[tuple[float, float]] = []
    for a, b in clips:
        while b - a > max_s:
            spans.append((a, a + max_s))
            a += max_s
        if spans and b - spans[-1][0] <= max_s and a - spans[-1][1] < 1.0:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans
