"""Channel layout classification and voice activity on real recordings."""

from __future__ import annotations

import numpy as np
import pytest

from callscope.audio.channels import ChannelLayout, classify_channels
from callscope.audio.decode import decode_file
from callscope.audio.vad import SileroVad


@pytest.fixture(scope="module")
def vad():
    return SileroVad()


@pytest.mark.parametrize(
    "name, layout",
    [
        ("jfk.flac", ChannelLayout.DUAL_MONO),
        ("stereo_diarization.wav", ChannelLayout.DUAL_CHANNEL),
        ("spokenwoz/MUL1011.opus", ChannelLayout.DUAL_CHANNEL),
        ("pyannote_sample/sample.wav", ChannelLayout.MONO),
    ],
)
def test_layout_of_real_files(audio_dir, name, layout):
    audio = decode_file(audio_dir / name)
    assert classify_channels(audio.samples, audio.sample_rate).layout == layout


def test_both_parties_on_both_channels_is_mixed_stereo(audio_dir):
    a = decode_file(audio_dir / "pyannote_sample" / "sample.wav").mono()
    b = decode_file(audio_dir / "callytics" / "Call01.wav").mono()[: len(a)]
    mixed = np.stack([0.7 * a + 0.3 * b, 0.3 * a + 0.7 * b])
    assert classify_channels(mixed, 16000).layout == ChannelLayout.MIXED_STEREO


def test_silence_has_no_speech(vad):
    assert vad.regions(np.zeros(16000 * 10, dtype=np.float32)) == []


def test_speech_regions_cover_the_speech(audio_dir, vad):
    audio = decode_file(audio_dir / "jfk.flac").mono()
    regions = vad.regions(audio)
    speech = sum(r.duration for r in regions)
    assert 6.0 < speech < 10.5  # 11 s with rhetorical pauses
    assert all(0 <= r.start < r.end <= 11.0 for r in regions)
    assert regions[0].start < 0.6  # "And so" starts at once


def test_vad_on_each_channel_of_a_dual_channel_call(audio_dir, vad):
    audio = decode_file(audio_dir / "spokenwoz" / "MUL1011.opus")
    left, right = (vad.regions(ch) for ch in audio.samples)
    assert len(left) > 10 and len(right) > 10
    # the parties mostly take turns: little of one channel's speech lies inside the other's
    overlap = sum(max(0.0, min(a.end, b.end) - max(a.start, b.start)) for a in left for b in right)
    assert overlap < 0.2 * min(sum(r.duration for r in left), sum(r.duration for r in right))
