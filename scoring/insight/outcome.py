"""The outcome of a call: ``resolved``, ``not_resolved``, ``follow_up`` (a promise to come back),
``transferred`` or ``unknown``, with its evidence.

Read from the closing part of the call (the last :data:`CLOSING_SHARE` of it, and never fewer
than its last :data:`MIN_CLOSING_UTTERANCES` utterances). Each closing utterance is placed by
its similarity to the outcome prototypes of :mod:`.cues` (any supported language): it speaks for
an outcome when it is nearer to that outcome than to any other and to the everyday closing lines,
and at least :data:`MIN_SIMILARITY` near. Promises and transfers count from the agent (any speaker
when nobody was taken for the agent), resolved and not resolved from the customer. A transfer
outranks a promise, a promise outranks the customer's words; with no such line, the customer's
end sentiment decides (at or above +0.3 resolved, at or below -0.3 not resolved); else unknown.

The confidence is not calibrated (no labelled outcomes were available to fit it): it is 0.5 plus
half the lead of the deciding line over the next outcome, times ten, capped at 0.9; 0.5 for an
outcome read from sentiment alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from callscope.scoring.insight.cues import CLOSING, OUTCOMES
from callscope.scoring.insight.vectors import PrototypeCache

if TYPE_CHECKING:
    from callscope.analysis.schema import CallAnalysis

OUTCOME_NAMES = ("resolved", "not_resolved", "follow_up", "transferred", "unknown")
CLOSING_SHARE = 0.35
MIN_CLOSING_UTTERANCES = 4
MIN_SIMILARITY = 0.82
SENTIMENT_RESOLVED = 0.3
SENTIMENT_NOT_RESOLVED = -0.3
_PRECEDENCE = ("transferred", "follow_up", "not_resolved", "resolved")
_BY = {"transferred": "agent", "follow_up": "agent", "not_resolved": "customer", "resolved": "customer"}


@dataclass(frozen=True)
class Outcome:
    """The outcome, its evidence utterances (indices) and times (s), why in words, and a
    confidence (0..1, uncalibrated)."""

    outcome: str
    evidence: tuple[int, ...]
    times: tuple[tuple[float, float], ...]
    detail: str
    confidence: float


def closing_utterances(call: "CallAnalysis") -> list[int]:
    us = call.utterances
    start = call.duration_s * (1 - CLOSING_SHARE)
    chosen = [i for i, u in enumerate(us) if u.start >= start]
    tail = list(range(max(0, len(us) - MIN_CLOSING_UTTERANCES), len(us)))
    return sorted(set(chosen) | set(tail))


def find_outcome(call: "CallAnalysis", vectors: np.ndarray, prototypes: PrototypeCache) -> Outcome:
    """The outcome of ``call``; ``vectors``: its utterance vectors."""
    us = call.utterances
    roles = dict(call.call_scores.roles) if call.call_scores else {}
    has_agent = "agent" in roles.values()
    closing = closing_utterances(call)
    votes: dict[str, list[tuple[int, float, float]]] = {}
    if closing:
        v = vectors[closing]
        kinds = [k for k in _PRECEDENCE]
        sims = np.stack([(v @ prototypes(OUTCOMES[k]).T).max(axis=1) for k in kinds], axis=1)
        neutral = (v @ prototypes(CLOSING).T).max(axis=1)
        for row, i in enumerate(closing):
            k = int(np.argmax(sims[row]))
            best = float(sims[row, k])
            rival = max(float(neutral[row]), max((float(sims[row, j]) for j in range(len(kinds)) if j != k), default=-1.0))
            if best < MIN_SIMILARITY or best <= rival:
                continue
            kind = kinds[k]
            role = roles.get(us[i].speaker, "unknown")
            wanted = _BY[kind]
            if role != wanted and not (wanted == "agent" and not has_agent and role != "customer"):
                continue
            votes.setdefault(kind, []).append((i, best, best - rival))
    for kind in _PRECEDENCE:
        if kind in votes:
            lines = sorted(votes[kind], key=lambda x: x[0])
            lead = max(x[2] for x in lines)
            said = lines[-1][0]
            evidence = tuple(x[0] for x in lines)
            return Outcome(kind, evidence, tuple((us[i].start, us[i].end) for i in evidence),
                           f'"{quote(us[said].text, 80)}" at {us[said].start:.0f} s', round(min(0.9, 0.5 + 5 * lead), 3))
    customer = next((s for s in call.speaker_scores if s.role == "customer"), None)
    end = customer.sentiment_end if customer is not None else None
    value = end.value if end is not None and isinstance(end.value, (int, float)) else None
    if end is not None and value is not None and (value >= SENTIMENT_RESOLVED or value <= SENTIMENT_NOT_RESOLVED):
        kind = "resolved" if value >= SENTIMENT_RESOLVED else "not_resolved"
        evidence = tuple(end.evidence)
        return Outcome(kind, evidence, tuple((us[i].start, us[i].end) for i in evidence if 0 <= i < len(us)),
                       f"no closing line says so; the customer's end sentiment is {value:+.2f}", 0.5)
    return Outcome("unknown", (), (), "no closing line says how the call ended, and the customer's end sentiment "
                   "is neither clearly positive nor negative", 0.5)


def quote(text: str, limit: int = 100) -> str:
    """``text`` cut at a word before ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
