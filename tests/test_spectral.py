"""The acoustic features' spectral measures are librosa's (issue 29: computed without importing
librosa): the STFT magnitude, RMS, centroid, flatness, dB and YIN f0 of real speech at 16 and
8 kHz agree with librosa's own functions to float precision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callscope.audio import spectral
from callscope.audio.decode import decode_file
from callscope.audio.features import F0_MAX_HZ, F0_MIN_HZ

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("rate", [16_000, 8_000])
def test_spectral_measures_are_librosas(rate):
    import librosa

    audio = decode_file(ROOT / "samples" / "jfk.flac")
    y = librosa.resample(audio.samples.mean(axis=0).astype(np.float32), orig_sr=audio.sample_rate, target_sr=rate)[: rate * 6]
    frame, hop = (2048 if rate > 16_000 else 1024), int(round(0.01 * rate))
    reference = np.abs(librosa.stft(y, n_fft=frame // 2, hop_length=hop))
    spec = spectral.stft_magnitude(y, frame // 2, hop)
    assert spec.shape == reference.shape and spec.dtype == reference.dtype
    assert np.abs(spec - reference).max() <= 1e-5 * reference.max()
    pairs = {
        "rms": (librosa.feature.rms(S=reference, frame_length=frame // 2)[0], spectral.rms(reference, frame // 2)),
        "centroid": (librosa.feature.spectral_centroid(S=reference, sr=rate)[0], spectral.centroid(reference, rate)),
        "flatness": (librosa.feature.spectral_flatness(S=reference)[0], spectral.flatness(reference)),
        "dB": (librosa.amplitude_to_db(reference, ref=1.0, amin=1e-4, top_db=None), spectral.amplitude_to_db(reference)),
        "yin": (librosa.yin(y, fmin=F0_MIN_HZ, fmax=F0_MAX_HZ, sr=rate, frame_length=frame, hop_length=hop,
                            trough_threshold=0.1), spectral.yin(y, F0_MIN_HZ, F0_MAX_HZ, rate, frame, hop)),
    }
    for name, (theirs, ours) in pairs.items():
        assert ours.shape == theirs.shape, name
        assert np.allclose(ours, theirs, rtol=1e-4, atol=1e-4), (name, float(np.max(np.abs(ours - theirs))))
    assert 80 < np.nanmedian(pairs["yin"][1]) < 250  # a man's voice: the f0 is a voice's


def test_a_signal_shorter_than_one_frame_is_refused_clearly():
    with pytest.raises(ValueError, match="shorter than one frame"):
        spectral.frame(np.zeros(100, dtype=np.float32), 1024, 160)
