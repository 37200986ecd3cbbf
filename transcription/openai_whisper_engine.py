"""openai-whisper (PyTorch) over the same CTranslate2 weights, converted once and cached."""

from __future__ import annotations

import numpy as np

from callscope.transcription.engine import NO_FALLBACK, AsrSettings, Engine, clean_word
from callscope.transcription.types import DecoderWindow, Word
from callscope.transcription.weights import force_offline, resolve_model_dir


class OpenAIWhisperEngine(Engine):
    name = "openai-whisper"

    def __init__(self, settings: AsrSettings) -> None:
        force_offline()
        import torch

        from callscope.transcription.ct2_to_openai import load_openai_whisper

        self.settings = settings
        if settings.device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for, but torch sees no CUDA device")
        self.device = "cuda" if settings.device in ("cuda", "auto") and torch.cuda.is_available() else "cpu"
        self.compute_type = "float16" if self.device == "cuda" else "float32"
        if self.device == "cpu":
            torch.set_num_threads(settings.cpu_threads())
        self.model_path = resolve_model_dir(settings.model, settings.model_dir)
        self.model = load_openai_whisper(self.model_path, self.device)
        self.multilingual = bool(self.model.is_multilingual)

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        import whisper

        if not self.multilingual or len(audio) == 0:
            return {}
        segment = whisper.pad_or_trim(audio.astype(np.float32, copy=False))
        mel = whisper.log_mel_spectrogram(segment, n_mels=self.model.dims.n_mels).to(self.model.device)
        _tokens, probs = self.model.detect_language(mel.half() if self.device == "cuda" else mel)
        return {lang: float(p) for lang, p in probs.items()}

    def transcribe(self, audio: np.ndarray, language: str | None = None,
                   clips: list[tuple[float, float]] | None = None) -> list[Word]:
        import whisper

        if len(audio) == 0:
            return []
        options = dict(
            word_timestamps=True,
            condition_on_previous_text=False,
            temperature=NO_FALLBACK,  # deterministic: see faster_whisper_engine
            fp16=self.device == "cuda",
            verbose=None,
            beam_size=self.settings.beam_size if self.settings.beam_size > 1 else None,
            language="en" if not self.model.is_multilingual else (language or self.settings.language),
            task="transcribe",  # never "translate"
            hallucination_silence_threshold=self.settings.hallucination_silence_s,
        )
        result = whisper.transcribe(self.model, audio.astype(np.float32, copy=False), **options)
        words: list[Word] = []
        for segment in result["segments"]:
            window = DecoderWindow(round(float(segment["avg_logprob"]), 4), round(float(segment["compression_ratio"]), 4),
                                   round(float(segment["no_speech_prob"]), 4))
            for w in segment.get("words", []):
                text = clean_word(w["word"])
                if text:
                    words.append(Word(text, float(w["start"]), float(w["end"]), float(w["probability"]), window=window))
        return words
