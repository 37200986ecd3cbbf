"""The `callscope` command as a user runs it: real files, bad files, every output format."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from callscope.analysis.schema import CallAnalysis

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

ROOT = Path(__file__).resolve().parents[1]
CALLSCOPE = [sys.executable, "-m", "callscope.cli"]


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CALLSCOPE, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def bulk_run(tmp_path_factory):
    """One bulk run over good and bad files, as operations would start it."""
    work = tmp_path_factory.mktemp("bulk")
    (work / "empty.wav").write_bytes(b"")
    (work / "notes.mp3").write_text("not a recording")
    # two good files with the same name in different folders must not overwrite each other
    (work / "a").mkdir()
    (work / "b").mkdir()
    shutil.copy(ROOT / "samples" / "stereo_diarization.wav", work / "a" / "call.wav")
    shutil.copy(ROOT / "samples" / "pyannote_sample_mulaw_8k.wav", work / "b" / "call.wav")
    files = [work / "a" / "call.wav", work / "empty.wav", work / "missing.wav", work / "notes.mp3", work / "b" / "call.wav"]
    out = work / "out"
    proc = _run("analyze", *map(str, files), "--out", str(out), *sum((["-f", f] for f in ("json", "rttm", "srt", "vtt", "txt")), []))
    return proc, out, work


def test_bad_files_fail_alone_with_one_line_each(bulk_run):
    proc, out, work = bulk_run
    assert proc.returncode == 1
    err = " ".join(proc.stderr.split())  # rich wraps long lines
    assert f"failed: {work / 'empty.wav'}: file is empty (0 bytes)" in err
    assert f"failed: {work / 'missing.wav'}: file not found" in err
    assert f"failed: {work / 'notes.mp3'}: not a readable audio file" in err
    assert "2 of 5 call(s) analysed, 3 failed" in err


def test_good_files_are_written_in_every_format(bulk_run):
    proc, out, _ = bulk_run
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{stem}.{ext}" for stem in ("call", "call-2") for ext in ("json", "rttm", "srt", "vtt", "txt")
    )
    dual = CallAnalysis.model_validate_json((out / "call.json").read_text())
    assert dual.channel_layout == "dual_channel" and len(dual.speakers) == 2
    mono = CallAnalysis.model_validate_json((out / "call-2.json").read_text())
    assert mono.sample_rate == 8000 and mono.channel_layout == "mono" and len(mono.speakers) == 2
    raw = json.loads((out / "call-2.json").read_text())
    assert set(raw) >= {"schema_version", "file", "duration_s", "sample_rate", "channel_layout", "engine", "model", "speakers", "utterances", "timings_s"}
    assert set(raw["timings_s"]) == {"decode", "vad", "asr", "diarise", "features", "sentiment", "fusion", "redaction", "total"}
    assert set(raw) >= {"speaker_scores", "call_scores", "timeline"}
    assert all(u["sentiment"] is not None and u["emotion"] is not None for u in raw["utterances"])
    rttm = (out / "call-2.rttm").read_text().splitlines()
    assert rttm and all(line.startswith("SPEAKER call 1 ") for line in rttm)
    assert (out / "call-2.vtt").read_text().startswith("WEBVTT")
    srt = (out / "call.srt").read_text()
    assert "[S0] He began a confused complaint" in srt and "--> 00:00:04," in srt
    assert "S1: The horizon seems extremely distant." in (out / "call.txt").read_text()


def test_missing_weights_for_small_exit_2(tmp_path):
    proc = _run("analyze", str(ROOT / "samples" / "jfk.flac"), "--model", "small", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "--model-dir" in " ".join(proc.stderr.split())
    assert not any(tmp_path.iterdir())


def test_help_lists_the_options():
    proc = _run("analyze", "--help")
    assert proc.returncode == 0
    for option in ("--out", "--format", "--model", "--engine", "--device", "--min-speakers", "--max-speakers", "--model-dir"):
        assert option in proc.stdout
