"""Decoding every format a contact centre uploads, and every kind of bad input."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import transcode

from callscope.audio.decode import ANALYSIS_SAMPLE_RATE, decode_file
from callscope.errors import AudioInputError, AudioTooLongError


@pytest.mark.parametrize(
    "name, channels, source_rate, codec, duration",
    [
        ("jfk.flac", 2, 44100, "flac", 11.0),
        ("stereo_diarization.wav", 2, 16000, "pcm_s16le", 5.0),
        ("spokenwoz/MUL1011.opus", 2, 48000, "opus", 182.8),
        ("telephone_codecs/Call01_mulaw_8k.wav", 1, 8000, "pcm_mulaw", 73.5),
        ("callytics/Call01.wav", 1, 8000, "pcm_s16le", 73.5),
    ],
)
def test_real_files_decode_to_16k_keeping_channels(audio_dir, name, channels, source_rate, codec, duration):
    audio = decode_file(audio_dir / name)
    assert audio.sample_rate == ANALYSIS_SAMPLE_RATE
    assert audio.source_sample_rate == source_rate
    assert audio.codec == codec
    assert audio.channels == channels
    assert audio.duration_s == pytest.approx(duration, abs=0.1)
    assert audio.samples.dtype == np.float32
    assert 0.01 < np.abs(audio.samples).max() <= 1.0


@pytest.mark.parametrize("codec, suffix", [("mp3", "mp3"), ("aac", "m4a"), ("pcm_alaw", "wav"), ("libopus", "ogg")])
def test_transcoded_formats_decode(audio_dir, tmp_path, codec, suffix):
    src = audio_dir / "telephone_codecs" / "pyannote_sample_mulaw_8k.wav"
    rate = 48000 if codec == "libopus" else 8000 if codec == "pcm_alaw" else 16000
    path = transcode(src, tmp_path / f"call.{suffix}", codec, rate)
    audio = decode_file(path)
    assert audio.channels == 1
    assert audio.duration_s == pytest.approx(30.0, abs=0.2)
    # same speech as the source: 10 ms energy envelopes correlate, at the best lag within
    # ±0.3 s (MP3 and AAC encoders add a priming delay)
    ref, got = decode_file(src).mono(), audio.mono()
    n = min(len(ref), len(got)) // 160 * 160
    env = lambda x: np.sqrt((x[:n].reshape(-1, 160) ** 2).mean(axis=1))  # noqa: E731
    a, b = env(ref), env(got)
    best = max(np.corrcoef(a[30 : -30], np.roll(b, -lag)[30 : -30])[0, 1] for lag in range(-30, 31))
    assert best > 0.9


def test_missing_file(tmp_path):
    with pytest.raises(AudioInputError, match="file not found"):
        decode_file(tmp_path / "nope.wav")


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioInputError, match="empty"):
        decode_file(tmp_path / "empty.wav")


def test_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("agent notes, not a recording\n" * 50)
    with pytest.raises(AudioInputError, match="not a readable audio file") as info:
        decode_file(path)
    assert info.value.path == str(path)


def test_directory_is_not_audio(tmp_path):
    with pytest.raises(AudioInputError, match="directory"):
        decode_file(tmp_path)


def test_header_only_file(audio_dir, tmp_path):
    path = tmp_path / "cut.flac"
    path.write_bytes((audio_dir / "jfk.flac").read_bytes()[:3000])
    with pytest.raises(AudioInputError):
        decode_file(path)


def test_truncated_upload_keeps_what_decodes(audio_dir, tmp_path):
    data = (audio_dir / "callytics" / "Call01.wav").read_bytes()
    path = tmp_path / "half.wav"
    path.write_bytes(data[: len(data) // 2])
    audio = decode_file(path)
    assert audio.duration_s == pytest.approx(73.5 / 2, abs=0.5)


def test_too_long_is_refused_before_decoding(audio_dir, tmp_path):
    shutil.copy(audio_dir / "pyannote_sample" / "sample.wav", tmp_path / "long.wav")
    with pytest.raises(AudioTooLongError, match="over the limit of 10.0 s"):
        decode_file(tmp_path / "long.wav", max_duration_s=10.0)
