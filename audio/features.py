"""Acoustic features: pitch, loudness, spectral shape and a voice-quality proxy.

Frame features are computed once per signal (10 ms hop at 16 kHz) by :func:`frame_features`
and summarised over any stretch (an utterance, a 1 s grid cell) by :func:`summarise`, so an
hour-long call is framed once, not once per utterance.

Pitch uses YIN (librosa's, as :mod:`callscope.audio.spectral` computes it without importing
librosa), with a frame voiced when its YIN aperiodicity is low and it is loud enough; pYIN
(``librosa.pyin``) is available as ``f0_method="pyin"``. YIN was chosen with numbers:
``benchmarks/features.py`` times both and compares their f0 on real speech. The spectral
measures are librosa's too (STFT magnitude, RMS, centroid, flatness, dB), in numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callscope.audio import spectral

HOP_S = 0.01
F0_MIN_HZ = 65.0
F0_MAX_HZ = 400.0  # covers adult speech, including raised voices


@dataclass(frozen=True)
class FrameFeatures:
    """Per-frame features of one signal; every array has one value per 10 ms frame.

    Attributes:
        f0_hz: fundamental frequency in Hz, ``nan`` where unvoiced.
        rms_dbfs: RMS level in dBFS (0 = full scale; silence about -100).
        centroid_hz: spectral centroid in Hz.
        flux: spectral flux (mean positive change of the log-magnitude spectrum, floored at -80 dB,
            dB per frame).
        flatness: spectral flatness 0..1 (tonal ≈ 0, noise ≈ 1), the voice-quality proxy:
            breathy or strained voice is flatter than modal voice.
    """

    f0_hz: np.ndarray
    rms_dbfs: np.ndarray
    centroid_hz: np.ndarray
    flux: np.ndarray
    flatness: np.ndarray
    hop_s: float = HOP_S

    def window(self, start: float, end: float) -> slice:
        a = max(0, int(start / self.hop_s))
        b = min(len(self.rms_dbfs), int(np.ceil(end / self.hop_s)))
        return slice(a, max(a, b))


@dataclass(frozen=True)
class AcousticSummary:
    """Features of one stretch of speech (None where there was too little voiced speech).

    Attributes:
        f0_median_hz: median pitch (Hz) over voiced frames.
        f0_range_st: 5th-95th percentile pitch range in semitones.
        f0_std_st: pitch variability, standard deviation in semitones.
        voiced_fraction: share of frames that are voiced, 0..1.
        loudness_dbfs: RMS level over the stretch, dBFS.
        centroid_hz: mean spectral centroid, Hz.
        flux: mean spectral flux.
        flatness: mean spectral flatness 0..1 (voice-quality proxy).
    """

    f0_median_hz: float | None
    f0_range_st: float | None
    f0_std_st: float | None
    voiced_fraction: float
    loudness_dbfs: float
    centroid_hz: float
    flux: float
    flatness: float


def _yin_f0(y: np.ndarray, sr: int, hop: int, frame: int) -> np.ndarray:
    f0 = spectral.yin(y, F0_MIN_HZ, F0_MAX_HZ, sr, frame, hop, trough_threshold=0.1)
    # Voicing: YIN's cumulative-mean-normalised difference at the chosen period (aperiodicity).
    frames = spectral.frame(np.pad(y, frame // 2), frame, hop)
    n = min(frames.shape[1], len(f0))
    lag = np.clip(np.round(sr / f0[:n]).astype(int), 1, frame // 2 - 1)
    x = frames[:, :n]
    half = frame // 2
    energy0 = np.sum(x[:half] ** 2, axis=0)
    idx = np.arange(half)[:, None] + lag[None, :]
    shifted = np.take_along_axis(x, idx, axis=0)
    diff = np.sum((x[:half] - shifted) ** 2, axis=0)
    energy_l = np.sum(shifted**2, axis=0)
    aperiodicity = diff / (energy0 + energy_l + 1e-10)  # 0 = perfectly periodic, 1 = noise
    out = f0[:n].astype(np.float64)
    out[aperiodicity > 0.25] = np.nan
    return out


def _frame_block(y: np.ndarray, sr: int, f0_method: str) -> tuple[np.ndarray, ...]:
    """(f0, rms dBFS, centroid, flux, flatness) per 10 ms frame of ``y``."""
    hop = int(round(HOP_S * sr))
    frame = 2048 if sr > 16_000 else 1024  # 64 ms at 16 kHz: two periods of 65 Hz
    if len(y) < frame:
        y = np.pad(y, (0, frame - len(y)))
    spec = spectral.stft_magnitude(y, frame // 2, hop)
    rms = spectral.rms(spec, frame // 2)
    rms_dbfs = 20 * np.log10(rms + 1e-5)
    centroid = spectral.centroid(spec, sr)
    flatness = spectral.flatness(spec)
    log_spec = spectral.amplitude_to_db(spec, amin=1e-4)  # fixed floor: -80 dB
    flux = np.concatenate([[0.0], np.mean(np.maximum(np.diff(log_spec, axis=1), 0.0), axis=0)])
    if f0_method == "pyin":
        import librosa

        f0, voiced, _ = librosa.pyin(y, fmin=F0_MIN_HZ, fmax=F0_MAX_HZ, sr=sr, frame_length=frame, hop_length=hop)
        f0 = np.where(voiced, f0, np.nan)
    elif f0_method == "yin":
        f0 = _yin_f0(y, sr, hop, frame)
    else:
        raise ValueError(f"unknown f0 method {f0_method!r} (yin or pyin)")
    n = min(len(rms_dbfs), len(centroid), len(f0), len(flux))
    return np.asarray(f0[:n], dtype=np.float64), rms_dbfs[:n], centroid[:n], flux[:n], flatness[:n]


def frame_features(
    y: np.ndarray,
    sr: int = 16_000,
    f0_method: str = "yin",
    spans: list[tuple[float, float]] | None = None,
) -> FrameFeatures:
    """Frame features of mono float32 ``y`` at ``sr`` Hz (see :class:`FrameFeatures`).

    With ``spans`` (seconds), only those stretches are analysed (e.g. one speaker's
    utterances): frames elsewhere hold ``nan`` pitch and silence, and the work shrinks to
    the speech. Summaries of the spans are the same as with the whole signal analysed.
    """
    hop = int(round(HOP_S * sr))
    if spans is None:
        f0, rms_dbfs, centroid, flux, flatness = _frame_block(y, sr, f0_method)
    else:
        n = len(y) // hop + 1
        f0 = np.full(n, np.nan)
        rms_dbfs = np.full(n, -100.0)
        centroid, flux, flatness = np.zeros(n), np.zeros(n), np.zeros(n)
        merged: list[list[float]] = []
        for a, b in sorted(spans):
            a, b = max(0.0, a - 0.1), min(len(y) / sr, b + 0.1)
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            elif b > a:
                merged.append([a, b])
        for a, b in merged:
            first = int(a / HOP_S)
            block = _frame_block(y[first * hop : int(b * sr)], sr, f0_method)
            m = min(len(block[0]), n - first)
            for target, values in zip((f0, rms_dbfs, centroid, flux, flatness), block):
                target[first : first + m] = values[:m]
    # Quiet frames are not voice: silence between words must not count as voiced.
    f0[rms_dbfs < np.max(rms_dbfs) - 45.0] = np.nan
    return FrameFeatures(f0, rms_dbfs, centroid, flux, flatness)


def _semitones(f0: np.ndarray, ref: float) -> np.ndarray:
    return 12.0 * np.log2(f0 / ref)


def summarise(frames: FrameFeatures, start: float, end: float, min_voiced_frames: int = 10) -> AcousticSummary | None:
    """Summary of ``frames`` between ``start`` and ``end`` seconds; None if the stretch is empty."""
    w = frames.window(start, end)
    if w.stop - w.start < 3:
        return None
    f0 = frames.f0_hz[w]
    voiced = f0[np.isfinite(f0)]
    rms_linear = 10 ** (frames.rms_dbfs[w] / 20)
    level = float(20 * np.log10(np.sqrt(np.mean(rms_linear**2)) + 1e-5))
    f0_median: float | None
    f0_range: float | None
    f0_std: float | None
    if len(voiced) >= min_voiced_frames:
        median = float(np.median(voiced))
        st = _semitones(voiced, median)
        f0_median, f0_range, f0_std = median, float(np.percentile(st, 95) - np.percentile(st, 5)), float(np.std(st))
    else:
        f0_median = f0_range = f0_std = None  # unvoiced: no pitch
    return AcousticSummary(
        f0_median_hz=f0_median,
        f0_range_st=f0_range,
        f0_std_st=f0_std,
        voiced_fraction=float(len(voiced) / len(f0)),
        loudness_dbfs=level,
        centroid_hz=float(np.mean(frames.centroid_hz[w])),
        flux=float(np.mean(frames.flux[w])),
        flatness=float(np.mean(frames.flatness[w])),
    )
