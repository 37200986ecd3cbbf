"""Escalation bands fitted to what QA reviewers said (``callscope calibrate``).

From the spot checks reviewed in a period, the default bands (green/yellow/orange thresholds on
the customer's sentiment) that agree best with the reviewers' levels are searched on a 0.05 grid
(weighted accuracy, the sampling weights undoing the over-sampling of red calls; ties go to the
bands closest to the current ones). The result is a new rule-set version, the active one with
those bands as its default, **not activated**: an admin compares the agreement before and after
(on the same reviewed calls: in-sample, so the gain is an upper bound) and activates it, then
re-scores. Queue and product bands of the active version are kept as they are.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.api import categories
from callscope.api.db import Call, RuleSetRow, SpotCheck
from callscope.schema import CallAnalysis
from callscope.scoring.agreement import agreement
from callscope.scoring.call_scores import EscalationBands

MIN_REVIEWED = 20
GRID = [round(-0.9 + 0.05 * k, 2) for k in range(37)]  # -0.90 .. 0.90


@dataclass(frozen=True)
class _Reviewed:
    mean: float | None
    end: float | None
    reviewer_level: str
    weight: float


def level(bands: EscalationBands, mean: float | None, end: float | None) -> str | None:
    """The level :func:`callscope.scoring.call_scores.escalation` gives a customer whose sentiment
    mean and end (last quarter) are these (None without customer speech)."""
    if mean is None:
        return None
    if end is not None and end > bands.green:
        return "green"
    value = end if end is not None and end < mean else mean
    return bands.level(value)


def _reviewed(session: Session, start: datetime, end: datetime) -> list[_Reviewed]:
    rows = session.execute(select(SpotCheck, Call.result_json).join(Call, Call.id == SpotCheck.call_id)
                           .where(SpotCheck.status == "reviewed", SpotCheck.reviewed_at >= start,
                                  SpotCheck.reviewed_at < end, Call.result_json.is_not(None))).all()
    out = []
    for check, result_json in rows:
        result = CallAnalysis.model_validate_json(result_json)
        customer = next((s for s in result.speaker_scores if s.role == "customer"), None)
        if customer is None or customer.sentiment_mean.value is None or check.reviewer_level is None:
            continue
        end_value = customer.sentiment_end.value
        out.append(_Reviewed(float(customer.sentiment_mean.value), None if end_value is None else float(end_value),
                             check.reviewer_level, check.weight))
    return out


def _fit(calls: list[_Reviewed], bands: EscalationBands) -> tuple[float, dict]:
    model = [level(bands, c.mean, c.end) or "(none)" for c in calls]
    a = agreement(model, [c.reviewer_level for c in calls], [c.weight for c in calls])
    return a.accuracy or 0.0, a.as_dict()


def suggest(session: Session, start: datetime, end: datetime) -> dict:
    """The default bands that agree best with the reviewers in [start, end), and the agreement
    with the current and the suggested ones. ValueError when fewer than MIN_REVIEWED calls."""
    calls = _reviewed(session, start, end)
    if len(calls) < MIN_REVIEWED:
        raise ValueError(f"{len(calls)} reviewed calls in the period; calibrating needs at least {MIN_REVIEWED}")
    active = categories.active(session)
    current_config = active.rules.bands.default if active.rules.bands and active.rules.bands.default else None
    current = (EscalationBands(current_config.green, current_config.yellow, current_config.orange)
               if current_config else EscalationBands())
    before_acc, before = _fit(calls, current)
    best, best_key = current, (before_acc, 0.0)
    for orange, yellow, green in itertools.combinations(GRID, 3):  # ascending: orange < yellow < green
        candidate = EscalationBands(green, yellow, orange)
        acc, _ = _fit(calls, candidate)
        distance = abs(green - current.green) + abs(yellow - current.yellow) + abs(orange - current.orange)
        if (acc, -distance) > best_key:
            best, best_key = candidate, (acc, -distance)
    _, after = _fit(calls, best)
    return {"reviewed": len(calls), "based_on": active.label,
            "current": {"green": current.green, "yellow": current.yellow, "orange": current.orange},
            "suggested": {"green": best.green, "yellow": best.yellow, "orange": best.orange},
            "agreement_before": before, "agreement_after": after}


def calibrate(session: Session, start: datetime, end: datetime, created_by: str) -> tuple[dict, int]:
    """:func:`suggest`, written as a new, inactive rule-set version (the active one with the
    suggested default bands); the caller commits. Returns the suggestion and the new version."""
    found = suggest(session, start, end)
    active = categories.active(session)
    row = session.get(RuleSetRow, active.number)
    data = yaml.safe_load(row.yaml)
    data.setdefault("bands", {})["default"] = found["suggested"]
    header = (f"# calibrated by callscope from {found['reviewed']} reviewed spot checks "
              f"({start.date().isoformat()} .. {end.date().isoformat()}), on {active.label}; not active until an admin "
              "activates it\n")
    added = categories.add(session, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), created_by)
    return found, added.version
