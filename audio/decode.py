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
#: A decode this much shorter than the header's duration is reported as truncated: more than
#: 0.5 s and more than 2 % of the declared length (encoders' padding and rounding stay below).
TRUNCATED_MIN_S = 0.5
TRUNCATED_SHARE = 0.02


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded recording.

    Attributes:
        path: the file it came from.
        samples: float32 array, shape (channels, frames), values in -1..+1, at ``sample_rate``;
            1 or 2 channels (more are mixed down to one while decoding). Each row is contiguous.
        sample_rate: rate of ``samples`` in Hz (16 000 after :func:`decode_file`).
        source_sample_rate: the file's own rate in Hz (8 000 for telephone audio).
        codec: the codec FFmpeg named (e.g. ``pcm_mulaw``, ``opus``).
        warnings: what went wrong while decoding that did not stop it (the data corrupt after
            some point, fewer seconds decoded than the header declares): the file is analysed
            as far as it decoded, and says so.
    """

    path: str
    samples: np.ndarray
    sample_rate: int
    source_sample_rate: int
    codec: str
    warnings: tuple[str, ...] = ()

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / float(self.sample_rate)

    def mono(self) -> np.ndarray:
        """The channels averaged into one float32 signal (frames,); a mono file's own samples (no copy)."""
        if self.channels == 1:
            return self.samples[0]
        return self.samples.mean(axis=0, dtype=np.float32)


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
    info = np.iinfo(data.dtype)  # type: ignore[type-var]  # an integer PCM dtype here
    return data.astype(np.float32) / float(-info.min)


#: Most channels a recording may have; more is refused (a call has one or two).
DEFAULT_MAX_CHANNELS = 8
#: Source audio is gathered into blocks of this many seconds before it is downmixed and resampled.
_BLOCK_S = 1.0


class _GrowingBuffer:
    """float32 (channels, n) that grows by doubling, never past ``limit`` frames (+ one block)."""

    def __init__(self, channels: int, capacity: int) -> None:
        self.data = np.zeros((channels, max(capacity, 1)), dtype=np.float32)
        self.n = 0

    def append(self, block: np.ndarray) -> None:
        m = block.shape[1]
        if self.n + m > self.data.shape[1]:
            grown = np.zeros((self.data.shape[0], max(2 * self.data.shape[1], self.n + m)), dtype=np.float32)
            grown[:, : self.n] = self.data[:, : self.n]
            self.data = grown
        self.data[:, self.n : self.n + m] = block
        self.n += m

    def view(self) -> np.ndarray:
        """The samples so far: (channels, n), each row contiguous, no copy."""
        return self.data[:, : self.n]


def decode_file(
    path: str | os.PathLike[str],
    target_sample_rate: int = ANALYSIS_SAMPLE_RATE,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    max_channels: int = DEFAULT_MAX_CHANNELS,
) -> DecodedAudio:
    """Decode ``path`` to float32 (channels, frames) at ``target_sample_rate`` Hz, as a stream.

    Blocks of about a second are downmixed and resampled as they are decoded, so memory is the
    output at ``target_sample_rate`` (4 bytes per sample and kept channel), never the source at
    its own rate: a 192 kHz 8-channel file costs what its 16 kHz mono downmix costs. One or two
    channels are kept as they are (two may be one party each); 3..``max_channels`` are averaged
    to mono; more are refused.

    Raises:
        AudioInputError: missing, empty, not audio, too many channels, or corrupt/truncated
            beyond use.
        AudioTooLongError: longer than ``max_duration_s`` seconds (checked from the container's
            header before decoding, and on the decoded sample count while decoding).
    """
    p = Path(path)
    container = _open(p)
    with container:
        stream, rate, declared = _checked_stream(container, p, max_duration_s, max_channels)
        codec = stream.codec_context.name
        max_out = int(max_duration_s * target_sample_rate) + target_sample_rate
        guess_s = declared if declared is not None else 60.0
        block_frames = max(1, int(_BLOCK_S * rate))
        out: _GrowingBuffer | None = None
        resampler = None
        out_channels = 0
        pending: list[np.ndarray] = []
        pending_n = 0
        decoded_any = False
        source_frames = 0  # frames decoded at the file's own rate
        warnings: list[str] = []

        def flush(last: bool) -> None:
            nonlocal pending, pending_n, out
            if not pending and not (last and resampler is not None):
                return
            block = np.concatenate(pending, axis=1) if pending else np.zeros((out_channels, 0), dtype=np.float32)
            pending, pending_n = [], 0
            if block.shape[0] > 2:  # 3+ channels: one mono mix
                block = block.mean(axis=0, keepdims=True, dtype=np.float32)
            if not np.all(np.isfinite(block)):
                block = np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)
            if resampler is not None:
                block = resampler.resample_chunk(np.ascontiguousarray(block.T), last=last).T
                block = np.clip(block, -1.0, 1.0)  # after resampling, whose ringing can overshoot
            if out is None:
                out = _GrowingBuffer(block.shape[0], min(max_out, int(guess_s * target_sample_rate * 1.02) + target_sample_rate))
            out.append(block)
            if out.n > max_out:
                raise AudioTooLongError(str(p), f"recording is longer than the limit of {_human_duration(max_duration_s)}")

        try:
            for frame in container.decode(stream):
                planar = _frame_to_planar(frame)
                if planar.shape[1] == 0:
                    continue
                if not decoded_any:
                    decoded_any = True
                    out_channels = planar.shape[0]
                    if out_channels > max_channels:
                        raise AudioInputError(str(p), f"has {out_channels} channels; at most {max_channels} are accepted")
                    if rate != target_sample_rate:
                        resampler = soxr.ResampleStream(rate, target_sample_rate, min(out_channels, 2) if out_channels <= 2 else 1,
                                                        dtype="float32", quality="HQ")
                elif planar.shape[0] != out_channels:  # a layout change mid-stream: follow the first
                    planar = np.repeat(planar[:1], out_channels, axis=0) if planar.shape[0] < out_channels else planar[:out_channels]
                pending.append(planar)
                pending_n += planar.shape[1]
                source_frames += planar.shape[1]
                if pending_n >= block_frames:
                    flush(last=False)
        except (AudioTooLongError, AudioInputError):
            raise
        except (av.error.FFmpegError, ValueError) as exc:
            if not decoded_any:
                raise AudioInputError(str(p), f"audio data is corrupt ({_short(exc)})") from exc
            # A truncated tail: keep what decoded cleanly (common for uploads cut short), and say so.
            warnings.append(f"the audio data is corrupt after {source_frames / rate:.1f} s ({_short(exc)}); "
                            "what follows was not decoded")
    decoded_s = source_frames / rate
    if declared is not None and declared - decoded_s > max(TRUNCATED_MIN_S, TRUNCATED_SHARE * declared):
        warnings.append(f"decoded {decoded_s:.1f} s of the {declared:.1f} s the file's header declares: "
                        "the file looks truncated")
    if not decoded_any:
        raise AudioInputError(str(p), "no audio could be decoded (file truncated or corrupt)")
    flush(last=True)
    if out is None or out.n == 0:
        raise AudioInputError(str(p), "audio stream holds no samples")
    return DecodedAudio(
        path=str(p),
        samples=out.view(),
        sample_rate=target_sample_rate,
        source_sample_rate=rate,
        codec=codec,
        warnings=tuple(warnings),
    )


def _open(p: Path) -> av.container.InputContainer:
    _check_file(p)
    try:
        return av.open(str(p), mode="r")
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioInputError(str(p), f"not a readable audio file ({_short(exc)})") from exc


def _checked_stream(container: av.container.InputContainer, p: Path, max_duration_s: float,
                    max_channels: int) -> tuple[av.AudioStream, int, float | None]:
    """The first audio stream, its sample rate (Hz) and declared duration (s, None if unknown),
    after the checks that need no decoding."""
    if not container.streams.audio:
        raise AudioInputError(str(p), "contains no audio stream")
    stream = container.streams.audio[0]
    rate = int(stream.codec_context.sample_rate or stream.rate or 0)
    if rate <= 0:
        raise AudioInputError(str(p), "audio stream has no sample rate")
    declared_channels = int(getattr(stream.codec_context, "channels", 0) or len(stream.codec_context.layout.channels) or 0)
    if declared_channels > max_channels:
        raise AudioInputError(str(p), f"has {declared_channels} channels; a call recording has 1 or 2 "
                                      f"(at most {max_channels} are accepted and mixed down)")
    declared = _declared_duration_s(container, stream)
    if declared is not None and declared > max_duration_s:
        raise AudioTooLongError(
            str(p), f"recording is {_human_duration(declared)} long, over the limit of {_human_duration(max_duration_s)}"
        )
    return stream, rate, declared


def probe_file(path: str | os.PathLike[str], max_duration_s: float = DEFAULT_MAX_DURATION_S,
               max_channels: int = DEFAULT_MAX_CHANNELS, probe_s: float = 1.0) -> None:
    """Raise what :func:`decode_file` would raise about ``path`` before its first sample (missing,
    empty, a directory, not audio, no audio stream, too many channels, declared too long, corrupt
    from the start), decoding at most ``probe_s`` seconds: milliseconds, with no model loaded,
    so a run can refuse a bad file before it loads anything. A file that passes may still fail
    later in its full decode."""
    p = Path(path)
    container = _open(p)
    with container:
        stream, rate, _ = _checked_stream(container, p, max_duration_s, max_channels)
        frames = 0
        try:
            for frame in container.decode(stream):
                planar = _frame_to_planar(frame)
                if planar.shape[0] > max_channels:
                    raise AudioInputError(str(p), f"has {planar.shape[0]} channels; at most {max_channels} are accepted")
                frames += planar.shape[1]
                if frames >= probe_s * rate:
                    return
        except AudioInputError:
            raise
        except (av.error.FFmpegError, ValueError) as exc:
            if frames == 0:
                raise AudioInputError(str(p), f"audio data is corrupt ({_short(exc)})") from exc
            return
    if frames == 0:
        raise AudioInputError(str(p), "no audio could be decoded (file truncated or corrupt)")


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
