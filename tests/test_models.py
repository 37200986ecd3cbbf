"""Bring your own Whisper (issue 23, item 4): `callscope models add` takes an OpenAI checkpoint, a
Hugging Face directory or a CTranslate2 one, checks it and registers it; a round trip through the
shipped base weights gives back the same transcripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from benchmarks.reference import AUDIO
from callscope.analysis.pipeline import AnalysisSettings, Analyzer
from callscope.transcription.engine import AsrSettings
from callscope.transcription.redaction.apply import RedactionPolicy
from callscope.transcription.weights import resolve_model_dir

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

CLIP = AUDIO / "callytics" / "Call01.wav"


def _cli(env, *args, timeout=900):
    return subprocess.run([sys.executable, "-m", "callscope.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    """base (CTranslate2, as shipped) → OpenAI checkpoint → Hugging Face (transformers' own
    conversion) → `callscope models add` twice (the Hugging Face directory; the checkpoint)."""
    from callscope.transcription.ct2_to_openai import write_checkpoint
    from callscope.transcription.model_import import openai_to_hf

    tmp = tmp_path_factory.mktemp("models")
    checkpoint = write_checkpoint(resolve_model_dir("base"), tmp / "base.pt")
    openai_to_hf(checkpoint, tmp / "whisper-base-hf")
    env = {**os.environ, "CALLSCOPE_MODELS_DIR": str(tmp / "registry")}
    from_hf = _cli(env, "models", "add", str(tmp / "whisper-base-hf"), "--name", "base-from-hf", "--language", "de")
    from_pt = _cli(env, "models", "add", str(checkpoint), "--name", "base-from-pt")
    return tmp, env, from_hf, from_pt


def _words(model_dir: str | None, model: str = "base"):
    analyzer = Analyzer(AnalysisSettings(asr=AsrSettings(device="cpu", model=model, model_dir=model_dir),
                                         redaction=RedactionPolicy(enabled=False), score=False))
    result = analyzer.analyze(CLIP)
    return [(w.word, w.start, w.end, w.probability) for u in result.utterances for w in u.words]


def test_a_hugging_face_directory_made_by_transformers_is_added_and_transcribes_as_the_shipped_model(round_trip):
    tmp, env, from_hf, _ = round_trip
    assert from_hf.returncode == 0, from_hf.stderr
    assert "added" in from_hf.stderr and "base-from-hf" in from_hf.stderr and "jfk.flac heard as" in from_hf.stderr
    registry = json.loads((tmp / "registry" / "registry.json").read_text())["models"]
    entry = registry["base-from-hf"]
    assert (entry["kind"], entry["language"], entry["quantization"]) == ("hugging-face", "de", "float16")
    assert "ask not what your country" in entry["check"]["text"].lower()
    words = _words(entry["path"])
    assert words and words == _words(None)  # word for word, with the same times and probabilities


def test_an_openai_checkpoint_is_added_the_same_way(round_trip):
    tmp, env, _, from_pt = round_trip
    assert from_pt.returncode == 0, from_pt.stderr
    entry = json.loads((tmp / "registry" / "registry.json").read_text())["models"]["base-from-pt"]
    assert entry["kind"] == "openai" and any("alignment heads of Whisper base" in n for n in entry["check"]["notes"])
    assert _words(entry["path"]) == _words(None)


def test_registered_models_are_listed_with_their_source_and_used_by_name_and_language(round_trip):
    tmp, env, _, _ = round_trip
    listing = _cli(env, "models")
    assert listing.returncode == 0
    for text in ("base-from-hf", "for de", "hugging-face", "base-from-pt", "openai", "bundled"):
        assert text in listing.stderr, (text, listing.stderr)
    out = tmp / "out"
    run = _cli(env, "analyze", str(AUDIO / "jfk.flac"), "--model", "base-from-pt", "--no-scores", "--out", str(out), "-q")
    assert run.returncode == 0, run.stderr
    assert json.loads((out / "jfk.json").read_text())["model"] == "base-from-pt"
    unknown = _cli(env, "analyze", str(AUDIO / "jfk.flac"), "--model", "no-such-model", "--out", str(out))
    assert unknown.returncode == 2 and "no-such-model" in unknown.stderr and "base-from-pt" in unknown.stderr


def test_what_is_not_a_model_is_refused_with_the_reason_and_nothing_registered(round_trip, tmp_path):
    _, env, _, _ = round_trip
    env = {**env, "CALLSCOPE_MODELS_DIR": str(tmp_path / "registry")}
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "config.json").write_text('{"model_type": "bert"}')
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    for path, says in ((tmp_path / "notes", "not of a Whisper model"), (tmp_path / "junk.pt", "not an OpenAI Whisper"),
                       (tmp_path / "missing", "no such file")):
        proc = _cli(env, "models", "add", str(path), "--name", "x")
        assert proc.returncode == 1 and says in " ".join(proc.stderr.split()), proc.stderr
    reserved = _cli(env, "models", "add", str(tmp_path / "notes"), "--name", "base")
    assert reserved.returncode == 1 and "bundled names" in " ".join(reserved.stderr.split())
    assert not (tmp_path / "registry" / "registry.json").exists()
