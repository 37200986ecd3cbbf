"""Categories ("call drivers", compliance phrases, long holds, …): rule sets written in YAML
(:mod:`.model`), evaluated on a stored analysis with their evidence (:mod:`.evaluate`). The
starter set (``starter.yaml``, English, phrases easy to translate) ships with the package."""

from __future__ import annotations

import hashlib
from importlib import resources

import yaml
from pydantic import ValidationError

from callscope.scoring.rules import safe_yaml
from callscope.scoring.rules.model import RuleSet

STARTER = "starter.yaml"


class RulesError(ValueError):
    """A rule set that does not parse or validate; the message says where."""


def load_rules(text: str) -> RuleSet:
    """The rule set written in ``text`` (YAML); RulesError naming the place and the problem."""
    try:
        data = safe_yaml.load(text)
    except safe_yaml.UnsafeYaml as exc:
        raise RulesError(f"refused: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError("a rule set is a mapping with 'categories'")
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(f"{_place(data, e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise RulesError(where) from exc


def _place(data: dict, loc: tuple) -> str:
    """Where an error is, as pydantic gives it (``categories.2.when.said``), with the name of
    the category or window alert it is in when that has one."""
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] in ("categories", "windows") and isinstance(loc[1], int):
        items = data.get(loc[0])
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            where += f" (in {'category' if loc[0] == 'categories' else 'window alert'} {item['name'][:80]!r})"
    return where


def starter_text() -> str:
    """The starter rule set's YAML."""
    return resources.files(__package__).joinpath(STARTER).read_text(encoding="utf-8")


def digest(text: str) -> str:
    """A short content hash of a rule set's YAML, part of its version string."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]
