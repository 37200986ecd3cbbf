"""Escalation bands, and the sentiment model's calibration, fitted to what QA reviewers said
(``callscope calibrate``, ``callscope calibrate --sentiment``).

From the spot checks reviewed in a period, the default bands (green/yellow/orange thresholds on
the customer's sentiment) that agree best with the reviewers' levels are searched on a 0.05 grid
(weighted accuracy, the sampling weights undoing the over-sampling of red calls; ties go to the
bands closest to the current ones). The result is a new rule-set version, the active one with
those bands as its default, **not activated**: an admin compares the agreement before and after
(on the same reviewed calls: in-sample, so the gain is an upper bound) and activates it, then
re-scores. Queue and product bands of the active version are kept as they are.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.analysis.schema import CallAnalysis
from callscope.privacy.call_keys import open_value
from callscope.qa import categories
from callscope.scoring.agreement import agreement
from callscope.scoring.escalation import EscalationBands, level_basis
from callscope.store.db import Call, Correction, RuleSetRow, SpotCheck

MIN_REVIEWED = 20
MIN_CORRECTIONS = 30
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
    return bands.level(level_basis(bands, mean, end)[1])


def _reviewed(session: Session, start: datetime, end: datetime) -> list[_Reviewed]:
    rows = session.execute(select(SpotCheck, Call.result_json).join(Call, Call.id == SpotCheck.call_id)
                           .where(SpotCheck.status == "reviewed", SpotCheck.reviewed_at >= start,
                                  SpotCheck.reviewed_at < end, Call.result_json.is_not(None))).all()
    out = []
    for check, result_json in rows:
        text = open_value(session, check.call_id, "result_json", result_json)
        assert text is not None  # the query takes analysed calls only
        result = CallAnalysis.model_validate_json(text)
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
    assert row is not None  # the active version's row
    data = yaml.safe_load(row.yaml)
    data.setdefault("bands", {})["default"] = found["suggested"]
    header = (f"# calibrated by callscope from {found['reviewed']} reviewed spot checks "
              f"({start.date().isoformat()} .. {end.date().isoformat()}), on {active.label}; not active until an admin "
              "activates it\n")
    added = categories.add(session, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), created_by)
    return found, added.version


def recalibrate_sentiment(session: Session, start: datetime, end: datetime, out_dir, head: str | None = None) -> dict:
    """Refit the sentiment head's calibration (the linear map from its raw output to -1..+1) to the
    utterance sentiments QA reviewers set in [start, end) (``sentiment`` corrections), and write
    the recalibrated head to ``out_dir``, not in use: it is used once ``CALLSCOPE_SENTIMENT_HEAD``
    names it, and stored calls follow with ``callscope rescore --sentiment``. Returns the mean
    absolute error against the reviewers before and after (on the same corrections: in-sample),
    the head's path and version. ValueError with fewer than :data:`MIN_CORRECTIONS` corrections,
    or when the reviewers' values do not rise with the head's output."""
    import numpy as np

    from callscope.scoring.scorer import sentiment_model
    from callscope.scoring.train_sentiment import save_heads

    rows = session.execute(select(Correction, Call.result_json).join(Call, Call.id == Correction.call_id)
                           .where(Correction.field == "sentiment", Correction.utterance.is_not(None),
                                  Correction.created_at >= start, Correction.created_at < end)).all()
    texts, values = [], []
    for c, result_json in rows:
        result_json = open_value(session, c.call_id, "result_json", result_json)
        utterances = json.loads(result_json)["utterances"] if result_json else []
        i = c.utterance
        if i is not None and i < len(utterances) and utterances[i]["text"].strip():
            texts.append(utterances[i]["text"])
            values.append(float(json.loads(open_value(session, c.call_id, "correction.value", c.value) or "null")))
    if len(texts) < MIN_CORRECTIONS:
        raise ValueError(f"{len(texts)} sentiment corrections in the period; recalibrating needs at least {MIN_CORRECTIONS}")
    model = sentiment_model(head)
    x = model.encoder.encode(texts)
    ratings = np.array(values)
    before = float(np.mean(np.abs(model.heads.score(x) - ratings)))
    heads = copy.deepcopy(model.heads).calibrate(x, ratings * 4.0)  # calibrate() reads ratings on vader's -4..+4
    if heads.cal_slope <= 0:
        raise ValueError("the reviewers' values do not rise with the model's output: no calibration fits them")
    after = float(np.mean(np.abs(heads.score(x) - ratings)))
    version = f"{model.version}+qa-recal(n={len(texts)},{start.date()}..{end.date()})"
    path = Path(out_dir) / f"sentiment-head-{time.strftime('%Y%m%d%H%M%S')}.npz"
    save_heads(heads, path, version, {"recalibrated_on": len(texts), "mae_before": before, "mae_after": after})
    return {"corrections": len(texts), "mae_before": round(before, 4), "mae_after": round(after, 4),
            "calibration": {"offset": round(heads.cal_offset, 4), "slope": round(heads.cal_slope, 4)},
            "path": str(path), "version": version}
