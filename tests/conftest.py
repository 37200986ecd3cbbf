"""Shared fixtures: the real data in ../shared/data and one real Analyzer per test session."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import av
import numpy as np
import pytest

from benchmarks.reference import AUDIO, DATA
from tests.support.postgres import new_postgres_database

warnings.filterwarnings("ignore", category=UserWarning)
ROOT = Path(__file__).resolve().parents[1]


def pytest_sessionstart(session: pytest.Session) -> None:
    if not (AUDIO / "jfk.flac").is_file():
        raise pytest.UsageError(
            f"real test data not found at {DATA}: clone the repo beside shared/ or set CALLSCOPE_SHARED_DATA"
        )


@pytest.fixture(scope="session")
def postgres_admin_url():
    """Admin URL of a PostgreSQL server: ``CALLSCOPE_TEST_POSTGRES_URL`` (``.ci/run`` starts one
    from Debian's package), else a throwaway server started here. Under CI a missing PostgreSQL
    fails the tests instead of skipping them."""
    url = os.environ.get("CALLSCOPE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    from tests.support.postgres import TempPostgres, bin_dir

    if bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed and CALLSCOPE_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL is not installed (Debian package 'postgresql'); `bash .ci/run` installs it")
    pg = TempPostgres()
    try:
        yield pg.start()
    finally:
        pg.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request):
    """Run a test module against each database: a function data_dir -> database URL."""
    if request.param == "sqlite":
        return lambda data_dir: f"sqlite:///{data_dir / 'callscope.db'}"
    admin = request.getfixturevalue("postgres_admin_url")
    return lambda _data_dir: new_postgres_database(admin)


@pytest.fixture(scope="session")
def audio_dir() -> Path:
    return AUDIO


@pytest.fixture(scope="session")
def analyzer():
    """The default pipeline (faster-whisper, Whisper base, CPU), loaded once."""
    from callscope.analysis.pipeline import AnalysisSettings, Analyzer
    from callscope.transcription.engine import AsrSettings

    return Analyzer(AnalysisSettings(asr=AsrSettings(device="cpu")))


@pytest.fixture(scope="session")
def call01_result(analyzer):
    """Full analysis of the real Call01 (mono, agent and customer; done once)."""
    return analyzer.analyze(AUDIO / "callytics" / "Call01.wav")


@pytest.fixture(scope="session")
def pyannote_result(analyzer):
    """Full analysis of pyannote's 30 s two-speaker sample (done once)."""
    return analyzer.analyze(AUDIO / "pyannote_sample" / "sample.wav")


@pytest.fixture(scope="session")
def spokenwoz_result(analyzer):
    """Full analysis of the real 183 s dual-channel phone call (done once)."""
    return analyzer.analyze(AUDIO / "spokenwoz" / "MUL1011.opus")


def transcode(src: Path, dst: Path, codec: str, rate: int, layout: str = "mono") -> Path:
    """Re-encode a real recording with PyAV (for formats ../shared/data has no file in)."""
    from callscope.audio.decode import decode_file

    audio = decode_file(src, target_sample_rate=rate)
    samples = audio.samples[:1] if layout == "mono" else audio.samples[:2]
    with av.open(str(dst), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        frame_size = stream.codec_context.frame_size or 1024
        pcm = samples.astype(np.float32)
        for i in range(0, pcm.shape[1], frame_size):
            chunk = np.ascontiguousarray(pcm[:, i : i + frame_size])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)  # encoder converts
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return dst
