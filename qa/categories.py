"""The deployment's rule sets and each call's categories, in the database.

Rule sets are versioned (:class:`~callscope.store.db.RuleSetRow`): adding one never changes an
older one, and a call's categories are kept per version (:class:`~callscope.store.db.CallCategory`),
so re-scoring under a new version leaves every earlier result readable. The starter set
(:func:`callscope.scoring.rules.starter_text`) becomes version 1, active, the first time a rule set
is needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callscope.analysis.schema import CallAnalysis
from callscope.privacy.call_keys import open_value, seal_value
from callscope.qa.corrections import apply_corrections, corrections_of
from callscope.scoring.escalation import EscalationBands, relevel
from callscope.scoring.rules import digest, load_rules, starter_text
from callscope.scoring.rules.evaluate import Match, evaluate
from callscope.scoring.rules.model import RuleSet
from callscope.store.db import Call, CallCategory, RuleSetRow, utcnow


@dataclass(frozen=True)
class Version:
    """One rule-set version: its number, content hash and parsed rules."""

    number: int
    digest: str
    rules: RuleSet
    yaml: str = ""  # the text it was parsed from (what a RuleRunner's child parses)

    @property
    def label(self) -> str:
        """How results name it: ``rules/<n>+<digest>``."""
        return f"rules/{self.number}+{self.digest}"


@lru_cache(maxsize=32)
def _parsed(text: str) -> RuleSet:
    return load_rules(text)


def _version(row: RuleSetRow) -> Version:
    return Version(row.version, row.digest, _parsed(row.yaml), row.yaml)


def add(session: Session, text: str, created_by: str, activate: bool = False) -> RuleSetRow:
    """A new version from YAML ``text`` (RulesError if it does not validate); the caller commits."""
    rules = load_rules(text)
    row = RuleSetRow(name=rules.name, yaml=text, digest=digest(text), active=False, created_by=created_by,
                     created_at=utcnow())
    session.add(row)
    session.flush()
    if activate:
        set_active(session, row.version)
    return row


def set_active(session: Session, version: int) -> None:
    """Make ``version`` the one new analyses use (KeyError if there is none such). Two statements,
    the old one off first: at most one version is active at any moment (a unique index holds it)."""
    if session.get(RuleSetRow, version) is None:
        raise KeyError(version)
    session.execute(update(RuleSetRow).where(RuleSetRow.active.is_(True), RuleSetRow.version != version)
                    .values(active=False))
    session.execute(update(RuleSetRow).where(RuleSetRow.version == version).values(active=True))


def _active_row(session: Session) -> RuleSetRow | None:
    return session.execute(select(RuleSetRow).where(RuleSetRow.active.is_(True))).scalar_one_or_none()


def active(session: Session) -> Version:
    """The active version, installing the starter set as version 1 when there is none (done when
    the database is migrated, :func:`ensure_active`; here only for a database that lost it)."""
    row = _active_row(session)
    if row is None:
        row = session.execute(select(RuleSetRow).order_by(RuleSetRow.version.desc()).limit(1)).scalar_one_or_none()
        if row is None:
            row = add(session, starter_text(), "callscope")
        set_active(session, row.version)
    return _version(row)


def ensure_active(sessions: sessionmaker) -> None:
    """Install the starter set (or activate the newest version) when no version is active, in a
    transaction of its own. Done at every migration, before any worker takes a job, so workers
    finishing the first analyses at once never race to install it; if two processes start at
    once, the unique index lets one win and the other finds its version."""
    try:
        with sessions() as s:
            if _active_row(s) is None:
                active(s)
                s.commit()
    except IntegrityError:
        with sessions() as s:
            if _active_row(s) is None:
                raise


def version(session: Session, number: int) -> Version | None:
    row = session.get(RuleSetRow, number)
    return _version(row) if row is not None else None


def bands_for(under: Version, call: Call) -> EscalationBands | None:
    """The escalation bands ``under`` sets for the call's product or queue, or its default; None
    when the version sets none (the analysis's own level stands)."""
    config = under.rules.bands
    chosen = config.for_call(call.queue, call.product) if config else None
    return EscalationBands(chosen.green, chosen.yellow, chosen.orange) if chosen else None


def apply_bands(result: CallAnalysis, bands: EscalationBands | None, label: str) -> CallAnalysis:
    """The analysis with its level computed again with ``bands`` (the analysis used the default
    bands); its version gains ``+bands:<label>``. Unchanged when ``bands`` is None."""
    cs = result.call_scores
    if bands is None or cs is None:
        return result
    customer = next((s for s in result.speaker_scores if s.role == "customer"), None)
    return result.model_copy(update={"call_scores": relevel(cs, customer, customer, bands,
                                                            f"{cs.escalation.version}+bands:{label}")})


def scored(session: Session, call: Call, raw: CallAnalysis, under: Version | None = None) -> CallAnalysis:
    """The analysis as the deployment shows it: the bands of ``under`` (default: the call's own
    rule-set version, else the active one) for the call's queue or product, then QA corrections."""
    under = under or (version(session, call.rules_version) if call.rules_version else None) or active(session)
    bands = bands_for(under, call)
    return apply_corrections(apply_bands(raw, bands, under.label), corrections_of(session, call.id), bands)


def metadata_of(call: Call) -> dict[str, str | None]:
    """What the metadata conditions read of a call."""
    return {"queue": call.queue, "team": call.team, "product": call.product, "agent_id": call.agent_id,
            "direction": call.direction, "language": call.language}


def categorise(session: Session, call: Call, result: CallAnalysis, under: Version, current: bool = True,
               runner=None, insights_ready: dict | None = None) -> list[Match]:
    """Evaluate ``under`` on ``result`` (corrections applied) and store the matches for that
    version, replacing any stored before for it; with ``current``, they become the call's
    categories (``calls.rules_version``). ``runner``: a :class:`~callscope.qa.rule_runner.RuleRunner`
    to evaluate in (the API's; workers evaluate in their own process). The caller commits."""
    # a call not transcribed (outside the deployment's languages) matches no category: an empty
    # transcript would "lack" every phrase
    if result.status != "analysed":
        matches = []
    elif runner is not None:
        matches = runner.evaluate(under.yaml, result.model_dump_json(), metadata_of(call))
    else:
        matches = evaluate(under.rules, result, metadata_of(call))
    session.execute(delete(CallCategory).where(CallCategory.call_id == call.id,
                                               CallCategory.rules_version == under.number))
    if matches:
        session.execute(insert(CallCategory), [
            {"call_id": call.id, "rules_version": under.number, "category": m.category,
             "detail": seal_value(session, call.id, "category.detail", m.detail),  # it quotes the transcript
             "evidence_json": json.dumps({"utterances": list(m.evidence), "times": [list(t) for t in m.times],
                                          "unreliable_share": m.unreliable_share})}
            for m in matches])
    if current:
        session.execute(update(Call).where(Call.id == call.id).values(rules_version=under.number))
    if runner is None:  # where the encoder may load: workers, re-scoring, the CLI (never the API)
        from callscope.qa import insights

        insights.refresh(session, call, result, under.rules, under.number, metadata_of(call), current, insights_ready)
    return matches


def categories_of(session: Session, call_id: str, number: int) -> list[dict]:
    """A call's categories under version ``number``: name, detail, evidence utterances and times."""
    rows = session.execute(select(CallCategory).where(CallCategory.call_id == call_id,
                                                      CallCategory.rules_version == number)
                           .order_by(CallCategory.category)).scalars()
    return [{"name": r.category, "detail": open_value(session, call_id, "category.detail", r.detail),
             **json.loads(r.evidence_json)} for r in rows]


def categories_by_call(session, calls: list[Call]) -> dict[str, list[str]]:
    """Each call's current categories (under its ``rules_version``), by call id."""
    current = {c.id: c.rules_version for c in calls if c.rules_version is not None}
    out: dict[str, list[str]] = {}
    if current:
        rows = session.execute(select(CallCategory.call_id, CallCategory.rules_version, CallCategory.category)
                               .where(CallCategory.call_id.in_(list(current))).order_by(CallCategory.category))
        for call_id, version, name in rows:
            if current[call_id] == version:
                out.setdefault(call_id, []).append(name)
    return out


def describe(row: RuleSetRow, with_yaml: bool = False) -> dict:
    out = {"version": row.version, "label": f"rules/{row.version}+{row.digest}", "name": row.name,
           "active": row.active, "created_by": row.created_by, "created_at": row.created_at.isoformat(),
           "categories": [{"name": c.name, "description": c.description, "alert": c.alert}
                          for c in _parsed(row.yaml).categories]}
    if with_yaml:
        out["yaml"] = row.yaml
    return out
