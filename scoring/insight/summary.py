"""The extractive summary of a call: three to five of its own utterances, in call order, each
with its time so that a line links to its moment: the customer's problem (one or two lines),
what the agent did (the agent's line after the problem nearest to an action prototype of
:mod:`.cues` and nearer to it than to the everyday closing lines, reliable lines first), and the line the outcome rests on. When fewer than three are
found, the customer's last line and then the agent's last line fill in. Always available: it
needs no model beyond the sentence encoder, and it is in the call's language because it is the
call's words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from callscope.scoring.insight.cues import ACTION, CLOSING
from callscope.scoring.insight.outcome import Outcome
from callscope.scoring.insight.problem import ProblemStatement, is_reliable
from callscope.scoring.insight.vectors import PrototypeCache, nearest

if TYPE_CHECKING:
    from callscope.analysis.schema import CallAnalysis

MAX_LINES = 5


@dataclass(frozen=True)
class SummaryLine:
    """One line: what it stands for (``problem``, ``action``, ``outcome``, ``closing``), the
    utterance index, its speaker's role, start and end (s) and text."""

    part: str
    utterance: int
    role: str
    start: float
    end: float
    text: str


def extractive_summary(call: "CallAnalysis", vectors: np.ndarray, prototypes: PrototypeCache,
                       problem: ProblemStatement | None, outcome: Outcome) -> list[SummaryLine]:
    us = call.utterances
    roles = dict(call.call_scores.roles) if call.call_scores else {}
    picked: dict[int, str] = {}
    for i in (problem.utterances if problem else ()):
        picked[i] = "problem"
    after = max(problem.utterances) if problem else -1
    agent = [i for i, u in enumerate(us) if i > after and roles.get(u.speaker) == "agent" and len(u.text.split()) >= 4]
    if agent:
        reliable = [i for i in agent if is_reliable(us[i])] or agent
        sims = nearest(vectors[reliable], prototypes(ACTION))
        closing = nearest(vectors[reliable], prototypes(CLOSING))
        doing = [k for k in range(len(reliable)) if sims[k] > closing[k]]  # not "let me know if there's anything else"
        if doing:
            picked.setdefault(reliable[max(doing, key=lambda k: sims[k])], "action")
    if outcome.evidence:
        picked.setdefault(outcome.evidence[-1], "outcome")
    for role in ("customer", "agent"):
        if len(picked) >= 3:
            break
        last = next((i for i in range(len(us) - 1, -1, -1) if roles.get(us[i].speaker) == role and i not in picked), None)
        if last is not None:
            picked[last] = "closing"
    lines = sorted(picked.items())[:MAX_LINES]
    return [SummaryLine(part, i, roles.get(us[i].speaker, "unknown"), round(us[i].start, 2), round(us[i].end, 2), us[i].text)
            for i, part in lines]
