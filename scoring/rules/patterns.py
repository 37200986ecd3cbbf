"""The regular expressions rule sets hold (``said: {regex: [...]}``), compiled for RE2: matching
takes time linear in the text whatever the pattern, so a rule cannot freeze whoever evaluates it
(Python's ``re`` backtracks: ``^(\\w+\\s?)*$`` takes minutes on one sentence).

RE2 has no backreferences and no lookaround; a pattern using them is refused when the rule set is
validated. Its ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII: for words with å, ä, ö, æ, ø write
``\\pL`` (any letter) or use ``phrases``, which match whole words in any language. Matching
ignores case. A pattern is limited to :data:`MAX_PATTERN_BYTES` of compiled program and
:data:`MAX_PATTERN_CHARS` characters."""

from __future__ import annotations

from functools import lru_cache

import re2

#: Characters in one pattern.
MAX_PATTERN_CHARS = 2_000
#: Memory RE2 may use for one compiled pattern (its DFA caches included), bytes.
MAX_PATTERN_BYTES = 8 << 20


class PatternError(ValueError):
    """A pattern RE2 cannot run; the message says why in RE2's words."""


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = MAX_PATTERN_BYTES
    return options


@lru_cache(maxsize=1024)
def compiled(pattern: str):
    """``pattern`` compiled by RE2, ignoring case (PatternError if RE2 cannot run it)."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        why = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = ""
        if "(?<" in pattern or "(?=" in pattern or "(?!" in pattern:
            hint = " (lookaround is not supported: RE2 matches in linear time)"
        elif any(f"\\{d}" in pattern for d in "123456789"):
            hint = " (backreferences are not supported: RE2 matches in linear time)"
        raise PatternError(why + hint) from None
