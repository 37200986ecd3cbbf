"""Diarisation on real conversations, scored against their human references."""

from __future__ import annotations

import pytest
from pyannote.database.util import load_rttm
from pyannote.metrics.diarization import DiarizationErrorRate

from benchmarks.reference import spokenwoz_customer_turns, tsv_turns, word_attribution_accuracy
from callscope.transcription.diarisation import to_annotation
from callscope.transcription.types import SpeakerTurn

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast


def _turns(result):
    return [SpeakerTurn(t.speaker, t.start, t.end) for t in result.turns]


def test_two_speaker_mono_der(analyzer, audio_dir):
    result = analyzer.analyze(audio_dir / "pyannote_sample" / "sample.wav")
    reference = load_rttm(audio_dir / "pyannote_sample" / "sample.rttm")["sample"]
    der = DiarizationErrorRate(collar=0.5)(reference, to_annotation(_turns(result)))  # ±0.25 s
    assert len(result.speakers) == 2
    assert der <= 0.15


def test_phone_call_mono_speakers_and_words(analyzer, audio_dir):
    """Callytics Call01: a real (AMR → 8 kHz) call, agent and customer, hand-timed turns."""
    result = analyzer.analyze(audio_dir / "telephone_codecs" / "Call01_mulaw_8k.wav")
    assert len(result.speakers) == 2
    words = [(u.speaker, w.start, w.end) for u in result.utterances for w in u.words]
    assert word_attribution_accuracy(words, tsv_turns(audio_dir / "callytics" / "Call01.turns.tsv")) >= 0.9


def test_one_speaker_stays_one(analyzer, audio_dir):
    for name in ("jfk.flac", "librivox/sense_and_sensibility_01_austen_64kb-0870.wav"):
        result = analyzer.analyze(audio_dir / name)
        assert [s.id for s in result.speakers] == ["S0"], name


def test_dual_channel_call_two_speakers_matching_customer_turns(spokenwoz_result, audio_dir):
    result = spokenwoz_result
    assert result.channel_layout == "dual_channel"
    assert [(s.id, s.channel) for s in result.speakers] == [("S0", 0), ("S1", 1)]
    customer_turns = spokenwoz_customer_turns(audio_dir / "spokenwoz" / "dialogue_state_tracking_sample_spokenwoz.csv")
    # the customer (the caller) is on one channel: find which, then check every turn
    def hits(speaker):
        return sum(
            any(u.speaker == speaker and min(u.end, e) - max(u.start, s) > 0 for u in result.utterances)
            for s, e in customer_turns
        )
    best = max(hits("S0"), hits("S1"))
    assert best / len(customer_turns) >= 0.9


def test_dual_channel_overlap_is_kept(spokenwoz_result):
    turns = spokenwoz_result.turns
    overlapping = [
        (a, b) for a in turns for b in turns if a.speaker < b.speaker and min(a.end, b.end) - max(a.start, b.start) > 0
    ]
    assert overlapping, "the parties talk over each other in this call; per-channel turns must keep that"
    for u in spokenwoz_result.utterances:
        own = [t for t in turns if t.speaker == u.speaker]
        for w in u.words:
            assert u.start - 1e-6 <= w.start <= w.end <= u.end + 1e-6
            assert any(t.start - 1e-3 <= w.start and w.end <= t.end + 1e-3 for t in own)


def test_silence_gives_an_empty_valid_result(analyzer, tmp_path):
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "hold.wav", np.zeros(8000 * 15, dtype=np.int16), 8000)
    result = analyzer.analyze(tmp_path / "hold.wav")
    assert result.utterances == [] and result.speakers == [] and result.duration_s == pytest.approx(15.0)
