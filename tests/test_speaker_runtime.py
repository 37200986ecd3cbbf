"""The speaker encoder without torch (issue 29, start-up budget): resemblyzer's network run by
onnxruntime gives resemblyzer's own d-vectors, and analysing a call imports neither torch nor
librosa (on main both were imported: 1.4 s each, and torch's teardown at exit)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from callscope.audio.decode import decode_file
from callscope.transcription.speaker_runtime import SpeakerRuntime, mel_frames, partial_slices

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "pyannote_sample.wav"  # two people talking (pyannote's sample, MIT)


def _speech() -> np.ndarray:
    audio = decode_file(SAMPLE)
    return audio.samples.mean(axis=0).astype(np.float32)


def test_d_vectors_and_mels_are_resemblyzers(tmp_path, monkeypatch):
    import librosa
    import torch
    from resemblyzer import VoiceEncoder

    monkeypatch.setenv("CALLSCOPE_CACHE_DIR", str(tmp_path))
    wav = _speech()[: 16_000 * 12]
    runtime = SpeakerRuntime()
    assert list(tmp_path.glob("ge2e-*.onnx")) and list(tmp_path.glob("ge2e-*-mel.npy"))  # cached for the next load
    reference_mel = librosa.feature.melspectrogram(y=wav, sr=16_000, n_fft=400, hop_length=160, n_mels=40,
                                                   center=False).astype(np.float32).T
    mel = mel_frames(wav, runtime.mel_basis)
    assert mel.shape == reference_mel.shape
    assert np.abs(mel - reference_mel).max() <= 1e-5 * np.abs(reference_mel).max()
    encoder = VoiceEncoder(device="cpu", verbose=False)
    wav_slices, mel_slices = partial_slices(len(wav), 2.5, 0.5)
    assert (wav_slices, mel_slices) == tuple(encoder.compute_partial_slices(len(wav), 2.5, 0.5))
    mels = np.stack([reference_mel[s] for s in mel_slices if s.stop <= len(reference_mel)])
    with torch.no_grad():
        theirs = encoder(torch.from_numpy(mels)).numpy()
    ours = SpeakerRuntime().embed(mels)  # the second load reads the cached graph
    assert ours.shape == theirs.shape == (len(mels), 256)
    assert float((ours * theirs).sum(axis=1).min()) > 0.9999


@pytest.mark.slow
def test_analysing_a_call_imports_neither_torch_nor_librosa(tmp_path):
    probe = ("import json, sys\nfrom callscope.analysis.pipeline import Analyzer, build_analysis_settings\n"
             f"result = Analyzer(build_analysis_settings(), lazy=True).analyze({str(SAMPLE)!r})\n"
             "print(json.dumps([len({u.speaker for u in result.utterances}), result.call_scores is not None,\n"
             "                  sorted(m for m in ('torch', 'librosa', 'resemblyzer', 'numba') if m in sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "CALLSCOPE_CACHE_DIR": str(tmp_path / "cache")})
    assert out.returncode == 0, out.stderr[-2000:]
    speakers, scored, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert speakers == 2 and scored  # diarised into its two people, and scored
    # the first load in a fresh cache builds the graph with torch; every later process reads it
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "CALLSCOPE_CACHE_DIR": str(tmp_path / "cache")})
    speakers, scored, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert (speakers, scored, heavy) == (2, True, [])
