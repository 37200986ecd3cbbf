"""Both ASR engines run the real Whisper tiny.en weights on real speech."""

from __future__ import annotations

import jiwer
import pytest

from benchmarks.reference import normalise_text
from callscope.audio.decode import decode_file
from callscope.errors import MissingWeightsError
from callscope.transcription.ct2_format import read_ct2_model
from callscope.transcription.engine import AsrSettings, create_engine
from callscope.transcription.weights import resolve_model_dir

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast


@pytest.fixture(scope="module")
def jfk(audio_dir):
    return decode_file(audio_dir / "jfk.flac").mono(), (audio_dir / "jfk.txt").read_text()


@pytest.mark.parametrize("engine_name", ["faster-whisper", "openai-whisper"])
def test_engine_transcribes_jfk_with_word_times(jfk, engine_name):
    audio, reference = jfk
    engine = create_engine(AsrSettings(engine=engine_name, device="cpu"))
    words = engine.transcribe(audio)
    hyp = normalise_text(" ".join(w.word for w in words))
    assert jiwer.wer(normalise_text(reference), hyp) <= 0.05
    assert all(0.0 <= w.start <= w.end <= 11.1 for w in words)
    assert all(a.start <= b.start for a, b in zip(words, words[1:]))
    assert all(0.0 <= w.probability <= 1.0 for w in words)
    # "country" is the last word, near the end of the clip (10.0-10.6 s)
    assert words[-1].word.lower().startswith("country") and words[-1].end > 9.5


def test_converted_weights_match_the_ctranslate2_file():
    from callscope.transcription.ct2_to_openai import convert

    model_dir = resolve_model_dir("tiny.en")
    dims, state = convert(model_dir)
    _, variables = read_ct2_model(model_dir / "model.bin")
    assert dims["n_audio_layer"] == 4 and dims["n_text_layer"] == 4 and dims["n_vocab"] == 51864
    fused = variables["encoder/layer_0/self_attention/linear_0/weight"].astype("float32")
    assert (state["encoder.blocks.0.attn.key.weight"].numpy() == fused[384:768]).all()
    assert (state["decoder.token_embedding.weight"].numpy() == variables["decoder/projection/weight"].astype("float32")).all()


def test_base_weights_are_joined_from_their_two_packages():
    path = resolve_model_dir("base")
    assert (path / "model.bin").stat().st_size > 140_000_000
    _, variables = read_ct2_model(path / "model.bin")
    assert variables["encoder/conv1/weight"].shape == (512, 80, 3)


def test_small_needs_a_user_supplied_directory(tmp_path):
    with pytest.raises(MissingWeightsError, match="--model-dir"):
        resolve_model_dir("small")
    with pytest.raises(MissingWeightsError, match="not a CTranslate2 Whisper model directory"):
        resolve_model_dir("small", tmp_path)


def test_user_supplied_model_directory_is_used(tmp_path, jfk):
    import shutil

    for f in resolve_model_dir("tiny.en").iterdir():
        shutil.copy(f, tmp_path / f.name)
    engine = create_engine(AsrSettings(model="small", model_dir=str(tmp_path), device="cpu"))
    assert engine.model_path == tmp_path
    assert "country" in " ".join(w.word for w in engine.transcribe(jfk[0])).lower()


def test_speech_gate_words_stay_inside_speech_regions(audio_dir, analyzer):
    """ASR on VAD speech joined with pauses between the regions (the real Call01 phone call):
    every word maps back inside a speech region, in time order, and the complaint is heard."""
    from callscope.transcription.speech_gate import ASR_GAP_S, transcribe_speech

    audio = decode_file(audio_dir / "callytics" / "Call01.wav").mono()
    regions = analyzer.vad.regions(audio)
    assert len(regions) > 3 and ASR_GAP_S > 0
    words = transcribe_speech(analyzer.engine, audio, regions, 16000)
    assert len(words) > 80
    assert all(any(r.start - 1e-3 <= w.start <= w.end <= r.end + 1e-3 for r in regions) for w in words)
    assert all(a.start <= b.start for a, b in zip(words, words[1:]))
    assert "trouble receiving notification" in normalise_text(" ".join(w.word for w in words))


def test_words_carry_their_decoder_windows_statistics(jfk):
    audio, _ = jfk
    words = create_engine(AsrSettings(device="cpu")).transcribe(audio)
    assert words and all(w.window is not None for w in words)
    w = words[0].window
    assert w.avg_logprob < 0 and 0 < w.compression_ratio < 2.4 and 0 <= w.no_speech_prob <= 1


def test_the_batched_pipeline_cut_at_speech_regions_transcribes_as_the_sequential_one(audio_dir):
    """What `--device cuda` runs (faster-whisper's batched pipeline, windows cut where the speech
    regions allow), here on CPU for correctness only: the same words as sequential decoding on
    LibriVox's read sentences joined into one signal, each word with its window's statistics."""
    import numpy as np

    from callscope.audio.vad import SileroVad
    from callscope.transcription.faster_whisper_engine import window_spans
    from callscope.transcription.speech_gate import transcribe_speech

    clips = sorted((audio_dir / "librivox").glob("*.wav"))
    audio = np.concatenate([decode_file(p).mono() for p in clips])
    reference = " ".join(p.with_suffix(".txt").read_text() for p in clips)
    regions = SileroVad().regions(audio)
    batched = create_engine(AsrSettings(device="cpu", batch_size=4))
    sequential = create_engine(AsrSettings(device="cpu", batch_size=0))
    assert batched._batched is not None and sequential._batched is None and "batched 4" in batched.describe()
    got = {name: transcribe_speech(engine, audio, regions, 16_000) for name, engine in
           (("batched", batched), ("sequential", sequential))}
    wer = {name: jiwer.wer(normalise_text(reference), normalise_text(" ".join(w.word for w in words)))
           for name, words in got.items()}
    assert wer["batched"] <= wer["sequential"] + 0.05, wer
    assert all(w.window is not None for w in got["batched"])
    assert all(r.start - 0.5 <= w.start for w in got["batched"] for r in regions[:1])
    spans = window_spans([(0.0, 12.0), (12.5, 20.0), (20.2, 45.0), (46.0, 80.0)])
    assert all(b - a <= 30.0 for a, b in spans) and spans[0] == (0.0, 20.0)
