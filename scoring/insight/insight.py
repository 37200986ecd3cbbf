"""What a call is about, in one result: the contact reason, the outcome and the extractive
summary, computed from the stored analysis and a rule set (re-scorable without ASR)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from callscope.scoring.insight.cues import CUES_VERSION
from callscope.scoring.insight.outcome import Outcome, find_outcome, quote
from callscope.scoring.insight.problem import ProblemStatement, find_problem
from callscope.scoring.insight.reasons import METHOD, Decision, EmbeddedTaxonomy, decide, embed_taxonomy, null_threshold
from callscope.scoring.insight.summary import SummaryLine, extractive_summary
from callscope.scoring.insight.vectors import Encoder, PrototypeCache, shared_encoder, utterance_vectors

if TYPE_CHECKING:
    from callscope.analysis.schema import CallAnalysis
    from callscope.scoring.rules.model import RuleSet


@dataclass(frozen=True)
class ReasonFound:
    """The contact reason (a taxonomy name, or ``other``) with its decision's numbers, the
    problem statement it was read from (utterance indices, times in s), and why in words."""

    reason: str
    confidence: float
    similarity: float
    runner_up: str | None
    decided_by: str
    evidence: tuple[int, ...]
    times: tuple[tuple[float, float], ...]
    detail: str


@dataclass(frozen=True)
class CallInsight:
    """Reason (None when the rule set has no taxonomy or the customer states nothing), outcome,
    extractive summary, the version of the method (encoder, cues, rule set), and the customer's
    problem statement with its vector (None when the customer states nothing)."""

    reason: ReasonFound | None
    outcome: Outcome
    summary: list[SummaryLine] = field(default_factory=list)
    version: str = ""
    problem: ProblemStatement | None = None
    #: the problem statement's unit vector (384 floats), what topics are clustered from
    problem_vector: np.ndarray | None = None
    #: every utterance's unit vector (utterances, 384), what search by meaning is built from
    utterance_vectors: np.ndarray | None = field(default=None, compare=False)


class InsightReader:
    """Computes :class:`CallInsight` for calls; keeps the encoder and embedded prototypes."""

    def __init__(self, encoder: Encoder | None = None) -> None:
        self.encoder = encoder or shared_encoder()
        self.prototypes = PrototypeCache(self.encoder)

    def read(self, call: "CallAnalysis", rules: "RuleSet | None", metadata: Mapping[str, str | None] | None = None,
             rules_label: str = "") -> CallInsight:
        vectors = utterance_vectors(call, self.encoder)
        taxonomy = embed_taxonomy(rules.reasons, self.prototypes) if rules is not None and rules.reasons else None
        problem = find_problem(call, vectors, self.prototypes, taxonomy.vectors if taxonomy else None)
        reason = (self._reason(call, rules, taxonomy, problem, vectors, metadata)
                  if rules is not None and taxonomy is not None else None)
        outcome = find_outcome(call, vectors, self.prototypes)
        summary = extractive_summary(call, vectors, self.prototypes, problem, outcome)
        version = f"insight/{METHOD}+{CUES_VERSION}+{self.encoder.name}" + (f"+{rules_label}" if rules_label else "")
        problem_vector = None
        if problem is not None:
            v = vectors[list(problem.utterances)].mean(axis=0)
            problem_vector = (v / max(float(np.linalg.norm(v)), 1e-9)).astype(np.float32)
        return CallInsight(reason, outcome, summary, version, problem, problem_vector, vectors)

    def _reason(self, call: "CallAnalysis", rules: "RuleSet", taxonomy: EmbeddedTaxonomy,
                problem: ProblemStatement | None, vectors: np.ndarray,
                metadata: Mapping[str, str | None] | None) -> ReasonFound | None:
        from callscope.scoring.rules.evaluate import condition_holds

        forced: set[int] = set()
        forced_evidence: list[int] = []
        for k, r in enumerate(rules.reasons):
            if r.when is not None:
                ok, held, _ = condition_holds(call, r.when, metadata)
                if ok:
                    forced.add(k)
                    forced_evidence += held
        if problem is None and not forced:
            return None
        query = vectors[list(problem.utterances)] if problem is not None else vectors[sorted(set(forced_evidence))[:2]]
        row = taxonomy.scores(query).max(axis=0) if len(query) else np.full(len(taxonomy.names), -1.0)
        threshold = rules.reason_min_similarity or null_threshold(taxonomy, self.prototypes)
        d: Decision = decide(row, taxonomy.names, threshold, forced or None)
        evidence = tuple(sorted(set(problem.utterances if problem else ()) | set(forced_evidence)))
        us = call.utterances
        said = (f'"{quote(problem.text)}" at {us[problem.utterances[0]].start:.0f} s' if problem
                else "the reason's condition held")
        why = {"similarity": f"nearest to {d.reason} ({d.similarity:.2f}; next {d.runner_up})",
               "condition": f"{d.reason}'s condition held",
               "threshold": f"no reason is close (nearest {d.runner_up}, {d.similarity:.2f} < {threshold:.2f})"}[d.decided_by]
        return ReasonFound(d.reason, d.confidence, d.similarity, d.runner_up, d.decided_by, evidence,
                           tuple((us[i].start, us[i].end) for i in evidence), f"{said}: {why}")

