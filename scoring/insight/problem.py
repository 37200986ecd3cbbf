"""The customer's problem statement: the utterance(s) in which the customer says why they call.

Found from the call, not taken as its first utterance: among the customer's utterances that
start in the first :data:`SEARCH_SHARE` of the call and have at least :data:`MIN_WORDS` words,
the one most like a statement of a problem or a wish (nearest :data:`~.cues.PROBLEM` prototype,
or nearest example of the deployment's reasons, whichever is higher), with a small preference for
earlier lines. Unreliable utterances (transcript marked) are passed over while reliable ones
remain. With no speaker taken for the customer, every speaker not taken for the agent counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from callscope.scoring.insight.cues import PROBLEM
from callscope.scoring.insight.vectors import PrototypeCache, nearest

if TYPE_CHECKING:
    from callscope.analysis.schema import CallAnalysis

#: Share of the call (by start time) searched for the statement.
SEARCH_SHARE = 0.6
#: Shorter utterances ("hi", "yes, that's me") are no statement.
MIN_WORDS = 4
#: Similarity given up per position later among the candidates (favours the first statement
#: when two are alike: "I was charged twice" before "and also, the app is slow").
POSITION_PENALTY = 0.004
#: A second utterance joins the first when it is within this similarity of it and follows it
#: within the customer's next two lines (a problem told over two utterances).
SECOND_WITHIN = 0.02


@dataclass(frozen=True)
class ProblemStatement:
    """Utterance indices (one or two, in call order), their text joined, and the similarity of
    the best one to a statement of a problem (cosine, -1..1)."""

    utterances: tuple[int, ...]
    text: str
    similarity: float


def customer_utterances(call: "CallAnalysis") -> list[int]:
    """Indices of the customer's utterances; with nobody taken for the customer, those of every
    speaker not taken for the agent."""
    roles = dict(call.call_scores.roles) if call.call_scores else {s.id: s.role for s in call.speakers}
    mine = [i for i, u in enumerate(call.utterances) if roles.get(u.speaker) == "customer"]
    if mine:
        return mine
    return [i for i, u in enumerate(call.utterances) if roles.get(u.speaker) != "agent"]


def is_reliable(utterance) -> bool:
    """Whether the decoder was sure of the utterance (or said nothing either way)."""
    r = utterance.reliability
    return r is None or r.reliable


def find_problem(call: "CallAnalysis", vectors: np.ndarray, prototypes: PrototypeCache,
                 reason_vectors: np.ndarray | None = None) -> ProblemStatement | None:
    """The problem statement of ``call`` (None when the customer says nothing of four words or
    more). ``vectors``: the call's utterance vectors; ``reason_vectors``: the taxonomy's examples."""
    us = call.utterances
    limit = call.duration_s * SEARCH_SHARE if call.duration_s else float("inf")
    candidates = [i for i in customer_utterances(call) if us[i].start <= limit and len(us[i].text.split()) >= MIN_WORDS]
    if not candidates:  # a short call: any customer line of enough words
        candidates = [i for i in customer_utterances(call) if len(us[i].text.split()) >= MIN_WORDS]
    reliable = [i for i in candidates if is_reliable(us[i])]
    candidates = reliable or candidates
    if not candidates:
        return None
    v = vectors[candidates]
    score = nearest(v, prototypes(PROBLEM))
    if reason_vectors is not None and len(reason_vectors):
        score = np.maximum(score, nearest(v, reason_vectors))
    ranked = score - POSITION_PENALTY * np.arange(len(candidates))
    best = int(np.argmax(ranked))
    chosen = [candidates[best]]
    for k in (best + 1, best + 2):
        if k < len(candidates) and ranked[k] >= ranked[best] - SECOND_WITHIN:
            chosen.append(candidates[k])
            break
    return ProblemStatement(tuple(chosen), " ".join(us[i].text for i in chosen), round(float(score[best]), 4))
