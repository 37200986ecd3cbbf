"""Classify how a recording's channels are used.

* ``mono``: one channel.
* ``dual_mono``: two or more channels carrying the same signal (e.g. jfk.flac): analysed as mono.
* ``dual_channel``: a call recorded with one party per channel (agent on one, customer on the
  other): diarisation is then exact, one speaker per channel.
* ``mixed_stereo``: channels differ but both carry both parties (e.g. a stereo room mic):
  downmixed and diarised like mono.

The rule (measured on the real SpokenWOZ call, see ../shared/MODELS.md): channels whose
frame-energy envelopes are nearly uncorrelated and where each channel dominates the other by
more than ``dominance_db`` in at least ``min_dominant_share`` of the active frames are one party
per channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np


class ChannelLayout(str, Enum):
    MONO = "mono"
    DUAL_MONO = "dual_mono"
    DUAL_CHANNEL = "dual_channel"
    MIXED_STEREO = "mixed_stereo"


@dataclass(frozen=True)
class ChannelAnalysis:
    """What :func:`classify_channels` measured.

    Attributes:
        layout: the verdict.
        correlation: Pearson correlation of the two channels' samples (-1..+1); ``nan`` for mono.
        dominant_share: per channel, share (0..1) of active frames where it is louder than the
            other by more than the dominance margin.
    """

    layout: ChannelLayout
    correlation: float
    dominant_share: tuple[float, ...]


def classify_channels(
    samples: np.ndarray,
    sample_rate: int,
    identical_correlation: float = 0.98,
    max_dual_correlation: float = 0.3,
    dominance_db: float = 10.0,
    min_dominant_share: float = 0.05,
) -> ChannelAnalysis:
    """Classify ``samples`` (channels, frames) at ``sample_rate`` Hz; thresholds as in the module doc.

    Args:
        identical_correlation: at or above this sample correlation, the channels are one signal.
        max_dual_correlation: below this, the channels may be one party each.
        dominance_db: level difference (dB) for a frame to count as one channel's.
        min_dominant_share: share of active frames (0..1) each channel must dominate.
    """
    if samples.ndim == 1 or samples.shape[0] == 1:
        return ChannelAnalysis(ChannelLayout.MONO, float("nan"), (1.0,))
    stats = _pair_stats(samples[0], samples[1], max(1, int(0.02 * sample_rate)))
    if stats.max_abs_diff < 1e-4:
        return ChannelAnalysis(ChannelLayout.DUAL_MONO, 1.0, (0.0, 0.0))
    sl, sr = stats.std_left, stats.std_right
    if sl < 1e-7 or sr < 1e-7:
        # One channel silent: a mono call in a stereo file.
        layout = ChannelLayout.DUAL_MONO if (sl < 1e-7 and sr < 1e-7) else ChannelLayout.MIXED_STEREO
        return ChannelAnalysis(layout, 0.0, (float(sl >= 1e-7), float(sr >= 1e-7)))
    correlation = stats.correlation
    if correlation >= identical_correlation:
        return ChannelAnalysis(ChannelLayout.DUAL_MONO, correlation, (0.0, 0.0))
    db_l, db_r = stats.db_left, stats.db_right
    active = np.maximum(db_l, db_r) > (np.max(np.maximum(db_l, db_r)) - 50.0)
    n_active = max(1, int(active.sum()))
    share_l = float(np.sum(active & (db_l - db_r > dominance_db)) / n_active)
    share_r = float(np.sum(active & (db_r - db_l > dominance_db)) / n_active)
    if abs(correlation) < max_dual_correlation and min(share_l, share_r) > min_dominant_share:
        layout = ChannelLayout.DUAL_CHANNEL
    else:
        layout = ChannelLayout.MIXED_STEREO
    return ChannelAnalysis(layout, correlation, (share_l, share_r))


@dataclass(frozen=True)
class _PairStats:
    max_abs_diff: float
    std_left: float
    std_right: float
    correlation: float
    db_left: np.ndarray  # frame levels (dB)
    db_right: np.ndarray


def _pair_stats(left: np.ndarray, right: np.ndarray, frame: int, block_frames: int = 2000) -> _PairStats:
    """Sample statistics of two channels and their frame levels, computed block by block (float64
    sums over blocks of ``block_frames`` frames): memory stays a block, whatever the length."""
    n = min(len(left), len(right))
    sums = np.zeros(5)  # sum l, sum r, sum l², sum r², sum l·r
    max_diff = 0.0
    dbs_l, dbs_r = [], []
    step = frame * block_frames
    for a in range(0, n, step):
        lb = left[a : min(n, a + step)].astype(np.float64)
        rb = right[a : min(n, a + step)].astype(np.float64)
        max_diff = max(max_diff, float(np.max(np.abs(lb - rb))) if len(lb) else 0.0)
        sums += (lb.sum(), rb.sum(), np.dot(lb, lb), np.dot(rb, rb), np.dot(lb, rb))
        dbs_l.append(_frame_db_full(lb, frame))
        dbs_r.append(_frame_db_full(rb, frame))
    mean_l, mean_r = sums[0] / n, sums[1] / n
    var_l, var_r = max(sums[2] / n - mean_l**2, 0.0), max(sums[3] / n - mean_r**2, 0.0)
    cov = sums[4] / n - mean_l * mean_r
    corr = float(cov / np.sqrt(var_l * var_r)) if var_l > 0 and var_r > 0 else 0.0
    db_l = np.concatenate(dbs_l) if dbs_l else np.zeros(0)
    db_r = np.concatenate(dbs_r) if dbs_r else np.zeros(0)
    if len(db_l) == 0:  # shorter than one frame
        db_l, db_r = np.full(1, -120.0), np.full(1, -120.0)
    return _PairStats(max_diff, float(np.sqrt(var_l)), float(np.sqrt(var_r)), corr, db_l, db_r)


def _frame_db_full(x: np.ndarray, frame: int) -> np.ndarray:
    """Levels (dB) of the whole frames in ``x`` (a block whose length is a multiple of ``frame``
    except at the end)."""
    n = len(x) // frame
    if n == 0:
        return np.zeros(0)
    power = np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)
    return 10.0 * np.log10(power + 1e-12)
