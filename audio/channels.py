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


def _frame_db(x: np.ndarray, frame: int) -> np.ndarray:
    n = len(x) // frame
    if n == 0:
        return np.full(1, -120.0)
    power = np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)
    return 10.0 * np.log10(power + 1e-12)


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
    left, right = samples[0].astype(np.float64), samples[1].astype(np.float64)
    if np.max(np.abs(left - right)) < 1e-4:
        return ChannelAnalysis(ChannelLayout.DUAL_MONO, 1.0, (0.0, 0.0))
    sl, sr = left.std(), right.std()
    if sl < 1e-7 or sr < 1e-7:
        # One channel silent: a mono call in a stereo file.
        layout = ChannelLayout.DUAL_MONO if (sl < 1e-7 and sr < 1e-7) else ChannelLayout.MIXED_STEREO
        return ChannelAnalysis(layout, 0.0, (float(sl >= 1e-7), float(sr >= 1e-7)))
    correlation = float(np.corrcoef(left, right)[0, 1])
    if correlation >= identical_correlation:
        return ChannelAnalysis(ChannelLayout.DUAL_MONO, correlation, (0.0, 0.0))
    frame = max(1, int(0.02 * sample_rate))
    db_l, db_r = _frame_db(left, frame), _frame_db(right, frame)
    active = np.maximum(db_l, db_r) > (np.max(np.maximum(db_l, db_r)) - 50.0)
    n_active = max(1, int(active.sum()))
    share_l = float(np.sum(active & (db_l - db_r > dominance_db)) / n_active)
    share_r = float(np.sum(active & (db_r - db_l > dominance_db)) / n_active)
    if abs(correlation) < max_dual_correlation and min(share_l, share_r) > min_dominant_share:
        layout = ChannelLayout.DUAL_CHANNEL
    else:
        layout = ChannelLayout.MIXED_STEREO
    return ChannelAnalysis(layout, correlation, (share_l, share_r))
