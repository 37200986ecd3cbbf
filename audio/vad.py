"""Voice activity detection with silero-vad's ONNX model, run by onnxruntime (no torch).

The model ships inside the ``silero-vad`` PyPI package (``silero_vad/data/silero_vad.onnx``).
It scores 32 ms windows (512 samples at 16 kHz) with a speech probability 0..1; a hysteresis
(start above ``threshold``, end below ``threshold - 0.15``) turns those into speech regions,
as silero's own ``get_speech_timestamps`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from callscope.errors import MissingWeightsError

WINDOW_SAMPLES = 512  # at 16 kHz: 32 ms
CONTEXT_SAMPLES = 64
VAD_SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class SpeechRegion:
    """A stretch of speech, times in seconds from the start of the recording."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class VadSettings:
    """Hysteresis settings; durations in seconds, threshold a probability 0..1."""

    threshold: float = 0.5
    min_speech_s: float = 0.25
    min_silence_s: float = 0.3
    speech_pad_s: float = 0.1


def _model_path() -> str:
    try:
        path = resources.files("silero_vad") / "data" / "silero_vad.onnx"
    except ModuleNotFoundError as exc:
        raise MissingWeightsError(
            "The voice activity model is missing: install the PyPI package 'silero-vad' (pip install silero-vad==6.2.3)."
        ) from exc
    if not path.is_file():
        raise MissingWeightsError(f"silero-vad is installed but {path} is missing: reinstall 'silero-vad'.")
    return str(path)


class SileroVad:
    """Speech probabilities and regions for 16 kHz mono float32 audio."""

    def __init__(self, settings: VadSettings | None = None) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            _model_path(), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.settings = settings or VadSettings()

    def probabilities(self, audio: np.ndarray) -> np.ndarray:
        """Speech probability (0..1) for each 32 ms window of ``audio`` (16 kHz mono float32)."""
        return self.probabilities_batch([audio])[0]

    def probabilities_batch(self, signals: list[np.ndarray]) -> list[np.ndarray]:
        """Probabilities for several signals (e.g. the channels of a call) in one pass:
        each ONNX call scores one window of every signal, which halves the calls for a
        two-channel recording."""
        if not signals:
            return []
        n_windows = int(np.ceil(max(len(s) for s in signals) / WINDOW_SAMPLES))
        if n_windows == 0:
            return [np.zeros(0, dtype=np.float32) for _ in signals]
        batch = len(signals)
        state = np.zeros((2, batch, 128), dtype=np.float32)
        x = np.zeros((batch, CONTEXT_SAMPLES + WINDOW_SAMPLES), dtype=np.float32)
        sr = np.array(VAD_SAMPLE_RATE, dtype=np.int64)
        probs = np.empty((batch, n_windows), dtype=np.float32)
        for i in range(n_windows):  # windows are read from the signals in place: no padded copy
            x[:, :CONTEXT_SAMPLES] = x[:, -CONTEXT_SAMPLES:]
            a = i * WINDOW_SAMPLES
            for j, sig in enumerate(signals):
                w = sig[a : a + WINDOW_SAMPLES]
                x[j, CONTEXT_SAMPLES : CONTEXT_SAMPLES + len(w)] = w
                if len(w) < WINDOW_SAMPLES:
                    x[j, CONTEXT_SAMPLES + len(w) :] = 0.0
            out, state = self.session.run(None, {"input": x, "state": state, "sr": sr})
            probs[:, i] = out[:, 0]
        return [probs[i, : int(np.ceil(len(s) / WINDOW_SAMPLES))] for i, s in enumerate(signals)]

    def regions_batch(self, signals: list[np.ndarray]) -> list[list[SpeechRegion]]:
        """Speech regions of each signal (16 kHz mono float32), scored in one batched pass."""
        return [
            regions_from_probabilities(p, len(s) / VAD_SAMPLE_RATE, self.settings)
            for p, s in zip(self.probabilities_batch(signals), signals)
        ]

    def regions(self, audio: np.ndarray) -> list[SpeechRegion]:
        """Speech regions of ``audio`` (16 kHz mono float32), padded and merged as in :class:`VadSettings`."""
        return regions_from_probabilities(self.probabilities(audio), len(audio) / VAD_SAMPLE_RATE, self.settings)


def regions_from_probabilities(
    probs: np.ndarray, duration_s: float, settings: VadSettings
) -> list[SpeechRegion]:
    """Hysteresis over per-window probabilities (32 ms windows) → speech regions in seconds."""
    step = WINDOW_SAMPLES / VAD_SAMPLE_RATE
    on, off = settings.threshold, max(settings.threshold - 0.15, 0.01)
    raw: list[list[float]] = []
    speaking = False
    start = 0.0
    for i, p in enumerate(probs):
        t = i * step
        if not speaking and p >= on:
            speaking, start = True, t
        elif speaking and p < off:
            speaking = False
            raw.append([start, t])
    if speaking:
        raw.append([start, len(probs) * step])
    merged: list[list[float]] = []
    for seg in raw:
        if merged and seg[0] - merged[-1][1] < settings.min_silence_s:
            merged[-1][1] = seg[1]
        else:
            merged.append(seg)
    out: list[SpeechRegion] = []
    for s, e in merged:
        if e - s < settings.min_speech_s:
            continue
        s = max(0.0, s - settings.speech_pad_s)
        e = min(duration_s, e + settings.speech_pad_s)
        if out and s <= out[-1].end:
            out[-1] = SpeechRegion(out[-1].start, e)
        else:
            out.append(SpeechRegion(s, e))
    return out
