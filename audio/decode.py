"""Decode any recording a contact centre uploads into float32 samples at 16 kHz.

One decoder, PyAV (it carries its own FFmpeg), reads WAV (PCM, 8-bit mu-law/A-law),
MP3, FLAC, Ogg/Opus and M4A; soxr resamples. Channels are kept, so that a call with
one party per channel can be diarised exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soxr

from callscope.errors import AudioInputError, AudioTooLongError

#: Sample rate (Hz) every later stage works at: Whisper, silero-vad and resemblyzer all use 16 kHz.
ANALYSIS_SAMPLE_RATE = 16_000
#: Default limit on a recording's length (seconds): 4 hours.
DEFAULT_MAX_DURATION_S = 4 * 3600.0


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded recording.

    Attributes:
        path: the file it came from.
        samples: float32 array, shape (channels, frames), values in -1..+1, at ``sample_rate``.
        sample_rate: rate of ``samples`` in Hz (16 000 after :func:`decode_file`).
        source_sample_rate: the file's own rate in Hz (8 000 for telephone audio).
        codec: the codec FFmpeg named (e.g. ``pcm_mulaw``, ``opus``).
    """

    path: str
    samples: np.ndarray
    sample_rate: int
    source_sample_rate: int
    codec: str

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / float(self.sample_rate)

    def mono(self) -> np.ndarray:
        """The channels averaged into one float32 signal (frames,)."""
        return self.samples.mean(axis=0).astype(np.float32)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioInputError(str(path), "file not found")
    if path.is_dir():
        raise AudioInputError(str(path), "is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioInputError(str(path), "file is empty (0 bytes)")


def _frame_to_planar(frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame as float32 (channels, n) whatever its sample format."""
    data = frame.to_ndarray()
    fmt = frame.format
    channels = len(frame.layout.channels)
    if not fmt.is_planar:  # interleaved: (1, n * channels)
        data = data.reshape(-1, channels).T
    if data.dtype == np.float32 or data.dtype == np.float64:
        return data.astype(np.float32, copy=False)
    if data.dtype == np.uint8:  # unsigned 8-bit PCM, centred on 128
        return ((data.astype(np.float32) - 128.0) / 128.0)
    info = np.iinfo(data.dtype)
    return data.astype(np.float32) / float(-info.min)


def decode_file(
    path: str | os.PathLike[str],
    target_sample_rate: int = ANALYSIS_SAMPLE_RATE,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
) -> DecodedAudio:
    """Decode ``path`` to float32 (channels, frames) at ``target_sample_rate`` Hz.

    Raises:
        AudioInputError: missing, empty, not audio, or corrupt/truncated beyond use.
        AudioTooLongError: longer than ``max_duration_s`` seconds (checked from the
            container's header before decoding, and again while decoding).
    """
    p = Path(path)
    _check_file(p)
    try:
        container = av.open(str(p), mode="r")
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioInputError(str(p), f"not a readable audio file ({_short(exc)})") from exc
    with container:
        if not container.streams.audio:
            raise AudioInputError(str(p), "contains no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        if rate <= 0:
            raise AudioInputError(str(p), "audio stream has no sample rate")
        declared = _declared_duration_s(container, stream)
        if declared is not None and declared > max_duration_s:
            raise AudioTooLongError(
                str(p), f"recording is {_human_duration(declared)} long, over the limit of {_human_duration(max_duration_s)}"
            )
        codec = stream.codec_context.name
        chunks: list[np.ndarray] = []
        decoded_frames = 0
        max_frames = int(max_duration_s * rate) + rate
        try:
            for frame in container.decode(stream):
                planar = _frame_to_planar(frame)
                chunks.append(planar)
                decoded_frames += planar.shape[1]
                if decoded_frames > max_frames:
                    raise AudioTooLongError(
                        str(p), f"recording is longer than the limit of {_human_duration(max_duration_s)}"
                    )
        except AudioTooLongError:
            raise
        except (av.error.FFmpegError, ValueError) as exc:
            if not chunks:
                raise AudioInputError(str(p), f"audio data is corrupt ({_short(exc)})") from exc
            # A truncated tail: keep what decoded cleanly (common for uploads cut short).
    if not chunks:
        raise AudioInputError(str(p), "no audio could be decoded (file truncated or corrupt)")
    channels = max(c.shape[0] for c in chunks)
    chunks = [c if c.shape[0] == channels else np.repeat(c[:1], channels, axis=0) for c in chunks]
    samples = np.concatenate(chunks, axis=1)
    if samples.shape[1] == 0:
        raise AudioInputError(str(p), "audio stream holds no samples")
    if not np.all(np.isfinite(samples)):
        samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
    if rate != target_sample_rate:
        samples = soxr.resample(samples.T, rate, target_sample_rate, quality="HQ").T
    samples = np.clip(samples, -1.0, 1.0)  # after resampling, whose ringing can overshoot
    return DecodedAudio(
        path=str(p),
        samples=np.ascontiguousarray(samples, dtype=np.float32),
        sample_rate=target_sample_rate,
        source_sample_rate=rate,
        codec=codec,
    )


def _declared_duration_s(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000.0
    return None


def _human_duration(seconds: float) -> str:
    """``seconds`` as "2.50 h", "12.5 min" or "42.0 s"."""
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _short(exc: BaseException) -> str:
    """FFmpeg's reason without the file name it repeats."""
    text = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:160]
