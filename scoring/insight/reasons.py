"""The contact reason of a call, from the deployment's taxonomy (``reasons`` in the rule set).

Each reason is embedded as its description and examples; a call's problem statement
(:mod:`.problem`) is compared with every one of them and takes the reason of the nearest
(cosine similarity, multilingual e5). A reason whose ``when`` condition holds in the call (a
phrase, a regex, the queue) is chosen over those found by similarity alone.

When is nothing close (``other``)? e5's similarities are compressed (unrelated sentences score
0.8), and how high everyday talk reaches depends on the taxonomy (a reason with generic examples
attracts more). So each taxonomy gets its own threshold, :func:`null_threshold`: the
:data:`NULL_QUANTILE` quantile of the best similarity that everyday talk about no reason
(:data:`.cues.OFF_TOPIC`, nine languages) reaches against it, never below :data:`MIN_SIMILARITY`;
i.e. at most one in ten off-topic lines would be taken for a reason. A rule set may set its own
(``reason_min_similarity``). Fitting the threshold on banking77's open set instead gives 0.93
(unknown intents there are near neighbours of known ones; ``benchmarks/insight.py --fit``), far
above what a coarse taxonomy of eight reasons reaches for a plain problem statement: see
docs/insight.md.

The confidence is the estimated probability that the decision (a reason, or ``other``) is right:
a logistic function of the best similarity and its margin over the second, fitted on the
banking77 training split (``benchmarks/insight.py --fit``; CC BY 4.0, PolyAI) with a taxonomy
written from its intent names and five examples each, half of the intents left out so that
``other`` is learnt too. Its reliability on the test split is in docs/insight.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from callscope.scoring.insight.vectors import PrototypeCache

if TYPE_CHECKING:
    from callscope.scoring.rules.model import Reason

OTHER = "other"
#: The lowest threshold a taxonomy gets (cosine similarity).
MIN_SIMILARITY = 0.85
#: Which quantile of off-topic talk's best similarity is a taxonomy's threshold.
NULL_QUANTILE = 0.9
#: Logistic coefficients of the confidence, (intercept, best similarity, margin over the second):
#: for a reason chosen, and for ``other`` (fitted separately: what makes each likely right differs).
CONFIDENCE_COEF = (-6.937, 7.452, 15.338)
OTHER_CONFIDENCE_COEF = (12.729, -13.168, -6.024)
#: How results name this method (with the rule-set version and the encoder).
METHOD = "nearest-example/1"


@dataclass(frozen=True)
class EmbeddedTaxonomy:
    """A taxonomy's reasons with the vectors of their examples (``owner``: the reason index of
    each row of ``vectors``)."""

    names: tuple[str, ...]
    vectors: np.ndarray
    owner: np.ndarray

    def scores(self, queries: np.ndarray) -> np.ndarray:
        """(queries, reasons): each query's similarity to each reason's nearest example."""
        sims = queries @ self.vectors.T
        out = np.full((len(queries), len(self.names)), -1.0, dtype=np.float32)
        for r in range(len(self.names)):
            cols = self.owner == r
            if cols.any():
                out[:, r] = sims[:, cols].max(axis=1)
        return out


def reason_texts(reason: "Reason") -> tuple[str, ...]:
    """What a reason is embedded as: its description (when given) and its examples."""
    return tuple(t for t in (reason.description.strip(), *reason.examples) if t)


def embed_taxonomy(reasons: "list[Reason]", prototypes: PrototypeCache) -> EmbeddedTaxonomy:
    texts = [reason_texts(r) for r in reasons]
    flat = tuple(t for ts in texts for t in ts)
    owner = np.array([k for k, ts in enumerate(texts) for _ in ts], dtype=np.int32)
    vectors = prototypes(flat) if flat else np.zeros((0, 384), dtype=np.float32)
    return EmbeddedTaxonomy(tuple(r.name for r in reasons), vectors, owner)


def null_threshold(taxonomy: EmbeddedTaxonomy, prototypes: PrototypeCache) -> float:
    """The taxonomy's threshold for ``other`` (cosine similarity): where off-topic talk ends."""
    from callscope.scoring.insight.cues import OFF_TOPIC

    if len(taxonomy.vectors) == 0:
        return 1.0
    best = taxonomy.scores(prototypes(OFF_TOPIC)).max(axis=1)
    return round(max(MIN_SIMILARITY, float(np.quantile(best, NULL_QUANTILE))), 4)


def confidence(best: float, margin: float, coef: tuple[float, float, float] = CONFIDENCE_COEF) -> float:
    """Estimated probability (0..1) that the decision resting on ``best`` and ``margin`` is right."""
    z = coef[0] + coef[1] * best + coef[2] * margin
    return float(1.0 / (1.0 + np.exp(-z)))


@dataclass(frozen=True)
class Decision:
    """A reason (or ``other``), the similarity of the nearest example, the margin over the next
    reason, the runner-up, the confidence (0..1), and what decided it: ``similarity``,
    ``condition`` (the reason's ``when`` held) or ``threshold`` (nothing close: ``other``)."""

    reason: str
    similarity: float
    margin: float
    runner_up: str | None
    confidence: float
    decided_by: str = "similarity"


def decide(row: np.ndarray, names: tuple[str, ...], min_similarity: float = MIN_SIMILARITY,
           forced: set[int] | None = None) -> Decision:
    """The decision for one query's scores ``row`` over ``names``. ``forced``: reasons whose
    condition holds; the nearest of them is chosen whatever its similarity."""
    order = np.argsort(-row)
    pool = [int(k) for k in order if forced and int(k) in forced] or [int(k) for k in order]
    top = pool[0]
    second = next((int(k) for k in order if int(k) != top), None)
    best = float(row[top])
    margin = best - float(row[second]) if second is not None else 1.0
    runner_up = names[second] if second is not None else None
    if forced:  # the deployment's own condition decides; the confidence still says how near it is
        return Decision(names[top], round(best, 4), round(margin, 4), runner_up,
                        round(confidence(best, max(margin, 0.0)), 3), "condition")
    if best < min_similarity:
        return Decision(OTHER, round(best, 4), round(margin, 4), names[top],
                        round(confidence(best, margin, OTHER_CONFIDENCE_COEF), 3), "threshold")
    return Decision(names[top], round(best, 4), round(margin, 4), runner_up, round(confidence(best, margin), 3))
