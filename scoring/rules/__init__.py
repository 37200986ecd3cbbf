"""Categories ("call drivers", compliance phrases, long holds, …): rule sets written in YAML
(:mod:`.model`), evaluated on a stored analysis with their evidence (:mod:`.evaluate`). The
starter set (``starter.yaml``, English, phrases easy to translate) ships with the package."""

from __future__ import annotations

import hashlib
from importlib import resources

import yaml
from pydantic import ValidationError

from callscope.scoring.rules.model import RuleSet

STARTER = "starter.yaml"


class RulesError(ValueError):
    """A rule set that does not parse or validate; the message says where."""


def load_rules(text: str) -> RuleSet:
    """The rule set written in ``text`` (YAML); RulesError naming the place and the problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError("a rule set is a mapping with 'categories'")
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise RulesError(where) from exc


def starter_text() -> str:
    """The starter rule set's YAML."""
    return resources.files(__package__).joinpath(STARTER).read_text(encoding="utf-8")


def digest(text: str) -> str:
    """A short content hash of a rule set's YAML, part of its version string."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]
