"""Voice activity detection with silero-vad's ONNX model, run by onnxruntime (no torch).

The model ships inside the ``silero-vad`` PyPI package (``silero_vad/data/silero_vad.onnx``).
It scores 32 ms windows (512 samples at 16 kHz) with a speech probability 0..1; a hysteresis
(start above ``threshold``, end below ``threshold - 0.15``) turns those into speech regions,
as silero's own ``get_speech_timestamps`` does.

Telephone audio (a source at 8 kHz or less) is scored by silero's own 8 kHz mode (256-sample
windows, the same 32 ms) on the signal taken back down to 8 kHz: the 16 kHz mode, fed speech
with nothing above 4 kHz, under-reads it. On the real Call01 (WhatsApp, 8 kHz) the agent's
"I'm sorry for the inconvenience" peaked at 0.41 in the 16 kHz mode (missed at threshold 0.5)
and at 0.88 in the 8 kHz mode; benchmarks/asr_phone.py shows what it does to WER.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.errors import MissingWeightsError

WINDOW_SAMPLES = 512  # at 16 kHz: 32 ms
CONTEXT_SAMPLES = 64
VAD_SAMPLE_RATE = 16_000
#: silero's telephone mode: 256-sample windows (32 ms) with 32 samples of context at 8 kHz
NARROWBAND_RATE = 8_000
#: a source recorded at this rate or lower is telephone-band audio
NARROWBAND_MAX_SOURCE_HZ = 8_000
_BLOCK_WINDOWS = 1875  # windows per resampled block: 60 s


def _blocks(signal: np.ndarray, rate: int, block: int):
    """``signal`` (16 kHz) at ``rate`` Hz in consecutive blocks of ``block`` samples (the last
    may be shorter), resampled as a stream so no whole-signal copy is made."""
    if rate == VAD_SAMPLE_RATE:
        for a in range(0, len(signal), block):
            yield signal[a:a + block]
        return
    import soxr

    stream = soxr.ResampleStream(VAD_SAMPLE_RATE, rate, 1, dtype="float32")
    step = block * VAD_SAMPLE_RATE // rate
    carry = np.zeros(0, dtype=np.float32)
    for a in range(0, max(len(signal), 1), step):
        chunk = np.ascontiguousarray(signal[a:a + step], dtype=np.float32)
        carry = np.concatenate([carry, stream.resample_chunk(chunk, last=a + step >= len(signal))])
        while len(carry) >= block:
            yield carry[:block]
            carry = carry[block:]
    if len(carry):
        yield carry


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
    """The ONNX file inside the silero-vad wheel, found without importing the package (its
    ``__init__`` imports torch: 1.5 s of a CLI's start for a file read by onnxruntime)."""
    try:
        spec = importlib.util.find_spec("silero_vad")
    except (ModuleNotFoundError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MissingWeightsError(
            "The voice activity model is missing: install the PyPI package 'silero-vad' (pip install silero-vad==6.2.3)."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "silero_vad.onnx"
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

    def probabilities(self, audio: np.ndarray, narrowband: bool = False) -> np.ndarray:
        """Speech probability (0..1) for each 32 ms window of ``audio`` (16 kHz mono float32);
        ``narrowband``: telephone-band audio, scored in silero's 8 kHz mode."""
        return self.probabilities_batch([audio], narrowband)[0]

    def probabilities_batch(self, signals: list[np.ndarray], narrowband: bool = False) -> list[np.ndarray]:
        """Probabilities for several signals (e.g. the channels of a call) in one pass:
        each ONNX call scores one window of every signal, which halves the calls for a
        two-channel recording. ``narrowband``: see the module doc."""
        if not signals:
            return []
        rate = NARROWBAND_RATE if narrowband else VAD_SAMPLE_RATE
        win, ctx = WINDOW_SAMPLES * rate // VAD_SAMPLE_RATE, CONTEXT_SAMPLES * rate // VAD_SAMPLE_RATE
        n_windows = int(np.ceil(max(len(s) for s in signals) / WINDOW_SAMPLES))
        if n_windows == 0:
            return [np.zeros(0, dtype=np.float32) for _ in signals]
        batch = len(signals)
        state = np.zeros((2, batch, 128), dtype=np.float32)
        x = np.zeros((batch, ctx + win), dtype=np.float32)
        sr = np.array(rate, dtype=np.int64)
        probs = np.empty((batch, n_windows), dtype=np.float32)
        streams = [_blocks(sig, rate, _BLOCK_WINDOWS * win) for sig in signals]
        blocks = [np.zeros(0, dtype=np.float32)] * batch
        for i in range(n_windows):  # windows are read from the (resampled) blocks in place: no padded copy
            if i % _BLOCK_WINDOWS == 0:
                blocks = [next(st, np.zeros(0, dtype=np.float32)) for st in streams]
            x[:, :ctx] = x[:, -ctx:]
            a = (i % _BLOCK_WINDOWS) * win
            for j, blk in enumerate(blocks):
                w = blk[a : a + win]
                x[j, ctx : ctx + len(w)] = w
                if len(w) < win:
                    x[j, ctx + len(w) :] = 0.0
            out, state = self.session.run(None, {"input": x, "state": state, "sr": sr})
            probs[:, i] = out[:, 0]
        return [probs[i, : int(np.ceil(len(s) / WINDOW_SAMPLES))] for i, s in enumerate(signals)]

    def regions_batch(self, signals: list[np.ndarray], narrowband: bool = False) -> list[list[SpeechRegion]]:
        """Speech regions of each signal (16 kHz mono float32), scored in one batched pass;
        ``narrowband``: telephone-band audio (see the module doc)."""
        return [
            regions_from_probabilities(p, len(s) / VAD_SAMPLE_RATE, self.settings)
            for p, s in zip(self.probabilities_batch(signals, narrowband), signals)
        ]

    def regions(self, audio: np.ndarray, narrowband: bool = False) -> list[SpeechRegion]:
        """Speech regions of ``audio`` (16 kHz mono float32), padded and merged as in :class:`VadSettings`."""
        return regions_from_probabilities(self.probabilities(audio, narrowband), len(audio) / VAD_SAMPLE_RATE, self.settings)


def add_regions(base: list[SpeechRegion], extra: list[SpeechRegion], min_s: float = 0.25) -> list[SpeechRegion]:
    """``base`` plus the parts of ``extra`` that no base region covers (each at least ``min_s``
    seconds), each kept as a region of its own: the base regions' boundaries all survive."""
    out = list(base)
    for region in extra:
        pieces = [(region.start, region.end)]
        for b in base:
            if b.end <= region.start or b.start >= region.end:
                continue
            cut = []
            for s, e in pieces:
                if b.end <= s or b.start >= e:
                    cut.append((s, e))
                    continue
                if b.start > s:
                    cut.append((s, b.start))
                if b.end < e:
                    cut.append((b.end, e))
            pieces = cut
        out += [SpeechRegion(s, e) for s, e in pieces if e - s >= min_s]
    return sorted(out, key=lambda r: (r.start, r.end))


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
