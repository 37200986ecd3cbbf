"""Agreement between the model and QA reviewers on a weighted sample (spot checks): accuracy and
Cohen's kappa with 95 % confidence intervals.

Each reviewed call carries a weight, the inverse of its chance of being sampled (red and
low-confidence calls are over-sampled), so the estimates describe all calls, not the sample
(Horvitz–Thompson). Intervals use Kish's effective sample size n_eff = (Σw)² / Σw²: Wilson's
interval for accuracy, and the large-sample standard error of kappa,
sqrt(p_o (1 − p_o) / (n_eff (1 − p_e)²)) (Cohen 1960).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959964


@dataclass(frozen=True)
class Agreement:
    """``n`` reviewed calls (``n_eff`` effective), weighted ``accuracy`` and ``kappa`` (None when
    undefined), each with a 95 % interval (low, high)."""

    n: int
    n_eff: float
    accuracy: float | None
    accuracy_ci: tuple[float, float] | None
    kappa: float | None
    kappa_ci: tuple[float, float] | None

    def as_dict(self) -> dict:
        r = lambda x: None if x is None else round(x, 4)  # noqa: E731
        return {"n": self.n, "n_eff": round(self.n_eff, 1), "accuracy": r(self.accuracy),
                "accuracy_ci": None if self.accuracy_ci is None else [r(x) for x in self.accuracy_ci],
                "kappa": r(self.kappa), "kappa_ci": None if self.kappa_ci is None else [r(x) for x in self.kappa_ci]}


def wilson(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``p`` observed over ``n`` (effective) trials."""
    if n <= 0:
        return 0.0, 1.0
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def agreement(model: Sequence[str], reviewer: Sequence[str], weights: Sequence[float] | None = None) -> Agreement:
    """Agreement of paired labels (the model's, the reviewer's) on calls with ``weights`` (1 each
    by default)."""
    n = len(model)
    if n != len(reviewer):
        raise ValueError("model and reviewer labels differ in number")
    w = list(weights) if weights is not None else [1.0] * n
    if n == 0:
        return Agreement(0, 0.0, None, None, None, None)
    total = sum(w)
    n_eff = total * total / sum(x * x for x in w)
    p_o = sum(x for a, b, x in zip(model, reviewer, w) if a == b) / total
    labels = sorted(set(model) | set(reviewer))
    p_e = sum((sum(x for a, x in zip(model, w) if a == lab) / total) * (sum(x for b, x in zip(reviewer, w) if b == lab) / total)
              for lab in labels)
    kappa = kappa_ci = None
    if p_e < 1:
        kappa = (p_o - p_e) / (1 - p_e)
        se = math.sqrt(p_o * (1 - p_o) / (n_eff * (1 - p_e) ** 2))
        kappa_ci = (max(-1.0, kappa - Z95 * se), min(1.0, kappa + Z95 * se))
    return Agreement(n, n_eff, p_o, wilson(p_o, n_eff), kappa, kappa_ci)
