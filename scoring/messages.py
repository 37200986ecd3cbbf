"""Human-readable reasons and notes in the deployment's language.

Every sentence callscope writes for people (escalation reasons, role notes) is a template in
one catalogue file per language, ``scoring/locale/<language>.json`` (keys are the same in all;
English is complete and is used for any key a catalogue lacks). Numbers are formatted here,
with the language's decimal separator (a comma in Swedish and most of Europe).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "en"
#: Languages written with a decimal point; the others get a decimal comma.
DECIMAL_POINT = ("en",)


@cache
def catalogue(language: str) -> dict[str, str]:
    """The templates of ``language`` (English for a language without a catalogue)."""
    path = LOCALE_DIR / f"{language}.json"
    if not path.is_file():
        return catalogue(DEFAULT_LANGUAGE) if language != DEFAULT_LANGUAGE else {}
    return json.loads(path.read_text(encoding="utf-8"))


def available_languages() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in LOCALE_DIR.glob("*.json")))


def number(value: float, language: str, fmt: str = "+.2f") -> str:
    """``value`` formatted with ``fmt`` and the language's decimal separator."""
    text = format(value, fmt)
    return text if language in DECIMAL_POINT else text.replace(".", ",")


def say(key: str, language: str = DEFAULT_LANGUAGE, **values) -> str:
    """The template ``key`` in ``language`` filled with ``values`` (already formatted)."""
    template = catalogue(language).get(key) or catalogue(DEFAULT_LANGUAGE)[key]
    return template.format(**values)
