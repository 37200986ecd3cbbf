"""The process environment, read and written in this one module.

The deployment's settings (every other ``CALLSCOPE_*`` variable) are read by pydantic-settings in
:class:`callscope.service.config.ServiceSettings`, and ``callscope analyze`` takes the per-call ones
as options with the same variables. What is left is read here, because the lowest layers need
it before any settings object exists: where weights are cached and registered models kept, where
the shared data for the training scripts lies, and the switches that keep the Hugging Face
libraries offline. Like :mod:`callscope.errors`, this is a leaf every layer may import; it imports
no layer (checked by ``make lint``).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The Hugging Face libraries' own switches: no download, no telemetry, in this process and its children.
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
_QUIET = {"HF_HUB_DISABLE_TELEMETRY": "1", "PYANNOTE_METRICS_ENABLED": "false"}


def force_offline() -> None:
    """Forbid every Hugging Face download in this process and its children (set before any HF import)."""
    os.environ.update(_OFFLINE)
    for key, value in _QUIET.items():
        os.environ.setdefault(key, value)


def cache_root() -> Path:
    """The writable cache (``CALLSCOPE_CACHE_DIR``, default ``~/.cache/callscope``); not created here."""
    return Path(os.environ.get("CALLSCOPE_CACHE_DIR") or Path.home() / ".cache" / "callscope")


def models_root() -> Path:
    """Where registered models live (``CALLSCOPE_MODELS_DIR``, default ``~/.local/share/callscope/models``)."""
    return Path(os.environ.get("CALLSCOPE_MODELS_DIR") or Path.home() / ".local" / "share" / "callscope" / "models")


def shared_data(default: Path) -> Path:
    """The shared data set the training scripts read (``CALLSCOPE_SHARED_DATA``, else ``default``)."""
    return Path(os.environ.get("CALLSCOPE_SHARED_DATA") or default)
