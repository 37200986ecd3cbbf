"""The few spectral measures the acoustic features need, in numpy: what librosa computes, without its import.

librosa's spectral code imports ``scipy.signal`` and compiles numba kernels: about 1.4 s before
the first call is scored (``benchmarks/startup.py``), more than the measures themselves take on a
short call. Each function here is the librosa function named in its docstring with the arguments
:mod:`callscope.audio.features` uses, and gives its values to float precision
(``tests/test_spectral.py`` compares them on real speech); pYIN, used only on request, stays
librosa's.
"""

from __future__ import annotations

import numpy as np


def frame(y: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """``librosa.util.frame``: a (frame_length, n_frames) view of ``y``, frames every ``hop_length``."""
    if len(y) < frame_length:
        raise ValueError(f"a signal of {len(y)} samples is shorter than one frame ({frame_length})")
    return np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length].T


def hann(n: int) -> np.ndarray:
    """The periodic Hann window of ``n`` samples (``scipy.signal.get_window('hann', n)``)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def stft_magnitude(y: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """``np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))``: centred frames (the signal
    zero-padded by n_fft/2 at each end), a periodic Hann window; (1 + n_fft/2, n_frames)."""
    padded = np.pad(y, n_fft // 2)
    frames = frame(padded, n_fft, hop_length)
    window = hann(n_fft).astype(y.dtype if np.issubdtype(y.dtype, np.floating) else np.float64)[:, None]
    return np.abs(np.fft.rfft(frames * window, axis=0)).astype(np.float32 if y.dtype == np.float32 else np.float64)


def rms(spec: np.ndarray, frame_length: int) -> np.ndarray:
    """``librosa.feature.rms(S=spec, frame_length=frame_length)[0]``: RMS per frame from a magnitude spectrogram."""
    x = np.square(np.abs(spec))
    x[0] *= 0.5
    if frame_length % 2 == 0:
        x[-1] *= 0.5
    return np.sqrt(2 * np.sum(x, axis=0) / frame_length**2)


def centroid(spec: np.ndarray, sr: int) -> np.ndarray:
    """``librosa.feature.spectral_centroid(S=spec, sr=sr)[0]`` (Hz; 0 for a silent frame)."""
    n_fft = 2 * (spec.shape[0] - 1)
    freq = np.fft.rfftfreq(n_fft, 1.0 / sr)[:, None]
    total = np.sum(np.abs(spec), axis=0, keepdims=True)
    total[total < np.finfo(spec.dtype).tiny] = 1.0
    return np.sum(freq * (spec / total), axis=0)


def flatness(spec: np.ndarray, amin: float = 1e-10) -> np.ndarray:
    """``librosa.feature.spectral_flatness(S=spec)[0]``: geometric over arithmetic mean of the power spectrum, 0..1."""
    power = np.maximum(amin, spec**2.0)
    return np.exp(np.mean(np.log(power), axis=0)) / np.mean(power, axis=0)


def amplitude_to_db(spec: np.ndarray, amin: float = 1e-4) -> np.ndarray:
    """``librosa.amplitude_to_db(spec, ref=1.0, amin=amin, top_db=None)``: 20·log10(max(amin, |S|)) dB."""
    return 10.0 * np.log10(np.maximum(amin**2, np.square(np.abs(spec))))


def _localmin(x: np.ndarray) -> np.ndarray:
    """``librosa.util.localmin(x, axis=0)``: x[i] < x[i-1] and x[i] <= x[i+1]; the first row is
    False, the last x[-1] < x[-2]."""
    out = np.zeros(x.shape, dtype=bool)
    out[1:-1] = (x[1:-1] < x[:-2]) & (x[1:-1] <= x[2:])
    out[-1] = x[-1] < x[-2]
    return out


def _parabolic_shifts(x: np.ndarray) -> np.ndarray:
    """librosa's ``_parabolic_interpolation`` along axis 0: the optimum's offset from each bin,
    0 where it would lie more than a bin away, and at both ends."""
    shifts = np.zeros_like(x)
    a = x[2:] + x[:-2] - 2 * x[1:-1]
    b = (x[2:] - x[:-2]) / 2
    inside = np.abs(b) < np.abs(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        shifts[1:-1] = np.where(inside, -b / np.where(inside, a, 1.0), 0.0)
    return shifts


def yin(y: np.ndarray, fmin: float, fmax: float, sr: int, frame_length: int, hop_length: int,
        trough_threshold: float = 0.1) -> np.ndarray:
    """``librosa.yin`` (centred frames, zero padding): f0 in Hz per frame, every frame given one."""
    frames = frame(np.pad(y, frame_length // 2), frame_length, hop_length)
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    # cumulative mean normalised difference (librosa's _cumulative_mean_normalized_difference)
    n_pad = _next_fast_len(2 * frame_length - 1)
    acf = np.fft.irfft(np.abs(np.fft.rfft(frames, n=n_pad, axis=0)) ** 2, n=n_pad, axis=0)[: max_period + 1]
    diff = np.cumsum(np.square(frames), axis=0)
    diff[0] = 0
    diff[1 : max_period + 1] = 2 * (acf[0:1] - acf[1 : max_period + 1]) - diff[:max_period]
    numerator = diff[min_period : max_period + 1]
    k_range = np.arange(1, max_period + 1)[:, None]
    cumulative_mean = np.cumsum(diff[1 : max_period + 1], axis=0) / k_range
    denominator = cumulative_mean[min_period - 1 : max_period]
    yin_frames = numerator / (denominator + np.finfo(denominator.dtype).tiny)
    shifts = _parabolic_shifts(yin_frames)
    is_trough = _localmin(yin_frames)
    is_trough[0] = yin_frames[0] < yin_frames[1]
    below = is_trough & (yin_frames < trough_threshold)
    period = np.argmax(below, axis=0)
    none_below = ~below.any(axis=0)
    period[none_below] = np.argmin(yin_frames, axis=0)[none_below]
    refined = min_period + period + np.take_along_axis(shifts, period[None, :], axis=0)[0]
    return sr / refined


def _next_fast_len(n: int) -> int:
    """The smallest 2^a·3^b·5^c ≥ ``n`` (``scipy.fft.next_fast_len(n, real=True)``)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p3 = p5
        while p3 < best:
            p2 = p3
            while p2 < n:
                p2 *= 2
            best = min(best, p2)
            p3 *= 3
        p5 *= 5
    return best
