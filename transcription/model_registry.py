"""The deployment's own Whisper models: what ``callscope models add`` registered, and for what.

A registered model is a CTranslate2 directory under the models directory
(``CALLSCOPE_MODELS_DIR``, default ``~/.local/share/callscope/models``), with one entry in its
``registry.json``: where it came from, the language it is for (or none: any language), whether
it is the default, how it was stored (int8 for CPU, float16 for GPU) and what it heard on the
check clip when it was added. The analysis uses it by name (``--model NAME``), as the default
model when one is marked so and no model was asked for, and for its language when it has one.
Nothing here downloads anything.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from callscope.environment import models_root
from callscope.errors import CallscopeError

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: Names the bundled models have; a registered model cannot take them.
RESERVED = ("tiny.en", "base", "small")
REGISTRY_FILE = "registry.json"


class RegistryError(CallscopeError):
    """The registry cannot do what was asked (an unknown or reserved name, an unreadable file)."""


@dataclass(frozen=True)
class RegisteredModel:
    """One registered model.

    Attributes:
        name: what it is called (``--model NAME``).
        path: its CTranslate2 directory.
        kind: what it was added from: ``ctranslate2``, ``openai`` (a .pt checkpoint) or ``hugging-face``.
        source: the path it was added from.
        language: the language it transcribes (ISO 639-1), or None for any.
        default: whether it replaces the bundled Whisper base for calls no model was asked for.
        quantization: how its weights are stored (``float16`` as the source, ``int8`` quantised, or
            ``as given`` for a CTranslate2 directory copied as it was).
        multilingual: whether it knows more languages than English.
        added: when (ISO 8601, UTC).
        check: what it heard on the check clip when it was added (clip, text, seconds).
    """

    name: str
    path: str
    kind: str
    source: str
    language: str | None = None
    default: bool = False
    quantization: str = "float16"
    multilingual: bool = True
    added: str = ""
    check: dict = field(default_factory=dict)


def models_dir() -> Path:
    """Where registered models live (``CALLSCOPE_MODELS_DIR``, default ``~/.local/share/callscope/models``)."""
    return models_root()


def check_name(name: str) -> str:
    if not NAME.match(name) or name in RESERVED:
        raise RegistryError(f"{name!r}: a model name is 1-64 lower-case letters, digits, '.', '_' or '-', and not one "
                            f"of the bundled names ({', '.join(RESERVED)})")
    return name


def load(root: Path | None = None) -> dict[str, RegisteredModel]:
    """The registered models by name (empty when none was ever added)."""
    path = (root or models_dir()) / REGISTRY_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: RegisteredModel(**entry) for name, entry in data.get("models", {}).items()}
    except (ValueError, TypeError) as exc:
        raise RegistryError(f"{path} is not a callscope model registry ({exc}); move it aside to start afresh") from exc


def save(models: dict[str, RegisteredModel], root: Path | None = None) -> None:
    """Write the registry atomically."""
    root = root or models_dir()
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{REGISTRY_FILE}.tmp{os.getpid()}"
    tmp.write_text(json.dumps({"models": {n: asdict(m) for n, m in sorted(models.items())}}, indent=2,
                              ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, root / REGISTRY_FILE)


def register(model: RegisteredModel, root: Path | None = None) -> dict[str, RegisteredModel]:
    """Add (or replace) ``model``; a new default takes over from the old one, and a model for a
    language replaces the one registered for it before (kept, no longer for that language)."""
    models = load(root)
    for name, other in list(models.items()):
        if name == model.name:
            continue
        if model.default and other.default:
            models[name] = RegisteredModel(**{**asdict(other), "default": False})
        if model.language and other.language == model.language:
            models[name] = RegisteredModel(**{**asdict(models[name]), "language": None})
    models[model.name] = model
    save(models, root)
    return models


def remove(name: str, root: Path | None = None) -> RegisteredModel:
    models = load(root)
    if name not in models:
        raise RegistryError(f"no registered model {name!r} (registered: {', '.join(models) or 'none'})")
    gone = models.pop(name)
    save(models, root)
    return gone


def path_of(name: str, root: Path | None = None) -> Path | None:
    """The directory of the registered model ``name``, or None if it is not registered."""
    entry = load(root).get(name)
    return Path(entry.path) if entry else None


def default_model(root: Path | None = None) -> RegisteredModel | None:
    return next((m for m in load(root).values() if m.default), None)


def language_dirs(root: Path | None = None) -> tuple[tuple[str, str], ...]:
    """(language, directory) of every model registered for a language."""
    return tuple(sorted((m.language, m.path) for m in load(root).values() if m.language))
