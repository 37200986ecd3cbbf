"""The same file with the same settings gives the same answer (issue 15, item 4)."""

from __future__ import annotations

import pytest

from callscope.audio.decode import decode_file

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast


@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
def test_a_clip_that_makes_whisper_fall_back_is_transcribed_the_same_every_time(audio_dir, engine):
    """Real German speech (EmoDB 03a02Fc) decoded as English makes Whisper base doubt its
    greedy output; its temperature fallback then sampled, and three runs gave three different
    transcripts."""
    from callscope.transcription.engine import AsrSettings, create_engine

    audio = decode_file(audio_dir / "emodb" / "wav" / "03a02Fc.wav").mono()
    asr = create_engine(AsrSettings(engine=engine, device="cpu", language="en"))
    runs = [[(w.word, w.start, w.end) for w in asr.transcribe(audio)] for _ in range(3)]
    assert runs[0] and runs[0] == runs[1] == runs[2]


def test_two_analyses_of_a_shared_call_are_identical(analyzer, audio_dir):
    """The whole result, timings aside, byte for byte."""
    first, second = (analyzer.analyze(audio_dir / "telephone_codecs" / "Call01_mulaw_8k.wav")
                     for _ in range(2))
    assert first.model_dump_json(exclude={"timings_s"}) == second.model_dump_json(exclude={"timings_s"})
