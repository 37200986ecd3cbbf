"""The customer across contacts: each customer's contacts in time order, repeat contacts,
first-contact resolution, recovery and churn risk (issue 28).

A customer is a pseudonym, ``calls.customer_key``: the keyed hash of the customer id given at upload,
else of the phone number (:mod:`callscope.privacy.pseudonyms`); never anything heard in the voice.
Contacts without one have no journey (their ``fcr`` stays unknown).

Definitions (``rules``, :class:`JourneyRules`; a contact's time is ``recorded_at``, else upload time):

* **repeat contact**: a contact from the same customer within ``repeat_days`` of an earlier one
  (about the same contact reason too, when ``same_reason``); ``repeat_of`` names the latest such
  earlier contact. ``days_since_previous`` is the time since the customer's previous contact,
  whatever its reason.
* **first-contact resolution** (``fcr``), for a contact that is not itself a repeat: False when a
  repeat follows it or its outcome is ``not_resolved``; True once ``repeat_days`` have passed
  without one; None (not yet known) before that, and for repeat contacts.
* **recovery**: the first green contact after an orange or red one; ``recovery_of`` names the
  latest orange/red contact before it.
* **churn risk** 0..1: the sum of the points of the signals below seen in the customer's contacts
  of the last ``churn_days`` (before the customer's last contact), capped at 1; each signal names
  its calls. Level: high at 0.6 and above, medium at 0.3 and above, else low.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from callscope.store.db import Call, CallCategory, Customer, insert_for, utcnow

BAD_LEVELS = ("orange", "red")
#: a customer end sentiment at or below this counts as a negative contact (−1..+1)
NEGATIVE_END = -0.3
HIGH, MEDIUM = 0.6, 0.3


@dataclass(frozen=True)
class Signal:
    """One churn-risk signal: its name, points and what it means (shown with the evidence)."""

    name: str
    points: float
    means: str


#: The churn-risk signals, in the order they are shown. A transparent sum, no fitted model.
SIGNALS = (
    Signal("cancellation", 0.4, "a contact about cancelling (reason 'cancellation' or a category named cancel…)"),
    Signal("repeated_negative", 0.3, "two or more contacts at orange/red or ending with customer sentiment ≤ −0.3"),
    Signal("unresolved_twice", 0.3, "two or more contacts whose outcome is not_resolved"),
    Signal("repeat_contacts", 0.15, "two or more repeat contacts"),
    Signal("recovered", -0.2, "the last contact is green and wins back an orange/red one"),
)
POINTS = {s.name: s.points for s in SIGNALS}


@dataclass(frozen=True)
class JourneyRules:
    """A deployment's journey settings (``CALLSCOPE_REPEAT_DAYS``, ``CALLSCOPE_REPEAT_SAME_REASON``,
    ``CALLSCOPE_CHURN_DAYS``)."""

    repeat_days: float = 7.0
    same_reason: bool = False
    churn_days: float = 90.0


@dataclass(frozen=True)
class Contact:
    """What a journey needs of one contact (a call or, later, a text interaction)."""

    id: str
    at: datetime
    level: str | None = None
    customer_sentiment_end: float | None = None
    reason: str | None = None
    outcome: str | None = None
    categories: tuple[str, ...] = ()


@dataclass
class Link:
    """A contact's place in its journey: the columns written to ``calls``."""

    repeat_of: str | None = None
    days_since_previous: float | None = None
    fcr: bool | None = None
    recovery_of: str | None = None

    def columns(self) -> dict:
        return {"repeat_of": self.repeat_of, "days_since_previous": self.days_since_previous, "fcr": self.fcr,
                "recovery_of": self.recovery_of}


@dataclass
class Journey:
    """One customer's contacts linked, and their churn risk with its evidence."""

    links: dict[str, Link]
    churn_risk: float
    churn_level: str
    evidence: list[dict] = field(default_factory=list)

    @property
    def repeats(self) -> int:
        return sum(1 for link in self.links.values() if link.repeat_of)

    @property
    def recoveries(self) -> int:
        return sum(1 for link in self.links.values() if link.recovery_of)


def _about_cancelling(c: Contact) -> bool:
    return c.reason == "cancellation" or any(name.lower().startswith("cancel") for name in c.categories)


def _negative(c: Contact) -> bool:
    return c.level in BAD_LEVELS or (c.customer_sentiment_end is not None and c.customer_sentiment_end <= NEGATIVE_END)


def level_of(risk: float) -> str:
    return "high" if risk >= HIGH else "medium" if risk >= MEDIUM else "low"


def link(contacts: Sequence[Contact], rules: JourneyRules, now: datetime) -> Journey:
    """Link one customer's contacts (any order; sorted here by time, then id) and score the
    customer's churn risk."""
    ordered = sorted(contacts, key=lambda c: (c.at, c.id))
    window = timedelta(days=rules.repeat_days)
    links = {c.id: Link() for c in ordered}

    def related(earlier: Contact, later: Contact) -> bool:
        return (later.at - earlier.at <= window
                and (not rules.same_reason or (earlier.reason is not None and earlier.reason == later.reason)))

    unrecovered: Contact | None = None
    for i, c in enumerate(ordered):
        mine = links[c.id]
        if i:
            mine.days_since_previous = round((c.at - ordered[i - 1].at).total_seconds() / 86400, 4)
            mine.repeat_of = next((p.id for p in reversed(ordered[:i]) if related(p, c)), None)
        if c.level == "green" and unrecovered is not None:
            mine.recovery_of, unrecovered = unrecovered.id, None
        elif c.level in BAD_LEVELS:
            unrecovered = c
    for i, c in enumerate(ordered):
        mine = links[c.id]
        if mine.repeat_of is not None:
            continue  # only first contacts are resolved, or not, at first contact
        repeated = any(related(c, n) for n in ordered[i + 1:])
        if repeated or c.outcome == "not_resolved":
            mine.fcr = False
        elif now - c.at >= window:
            mine.fcr = True
    risk, evidence = churn(ordered, links, rules)
    return Journey(links, risk, level_of(risk), evidence)


def churn(ordered: Sequence[Contact], links: dict[str, Link], rules: JourneyRules) -> tuple[float, list[dict]]:
    """The churn risk (0..1) of a customer's contacts in time order, and its evidence: one entry
    per signal seen, with its points and call ids."""
    if not ordered:
        return 0.0, []
    since = ordered[-1].at - timedelta(days=rules.churn_days)
    recent = [c for c in ordered if c.at >= since]
    seen: dict[str, list[str]] = {
        "cancellation": [c.id for c in recent if _about_cancelling(c)],
        "repeated_negative": [c.id for c in recent if _negative(c)],
        "unresolved_twice": [c.id for c in recent if c.outcome == "not_resolved"],
        "repeat_contacts": [c.id for c in recent if links[c.id].repeat_of],
        "recovered": [ordered[-1].id] if links[ordered[-1].id].recovery_of else [],
    }
    need = {"cancellation": 1, "repeated_negative": 2, "unresolved_twice": 2, "repeat_contacts": 2, "recovered": 1}
    evidence = [{"signal": s.name, "points": s.points, "means": s.means, "calls": seen[s.name]}
                for s in SIGNALS if len(seen[s.name]) >= need[s.name]]
    risk = min(1.0, max(0.0, sum(e["points"] for e in evidence)))
    return round(risk, 4), evidence


# --- reading contacts and writing journeys ----------------------------------------------------------

def _call_time():
    return func.coalesce(Call.recorded_at, Call.created_at)


def _contacts_of(s: Session, keys: Sequence[str]) -> dict[str, list[tuple[Contact, Call]]]:
    """The analysed contacts of ``keys``, with their current categories."""
    rows = s.execute(select(Call).where(Call.customer_key.in_(keys), Call.status == "done")).scalars().all()
    cats: dict[str, list[str]] = {}
    if rows:
        q = (select(CallCategory.call_id, CallCategory.category)
             .join(Call, (Call.id == CallCategory.call_id) & (Call.rules_version == CallCategory.rules_version))
             .where(Call.customer_key.in_(keys), Call.status == "done"))
        for call_id, name in s.execute(q):
            cats.setdefault(call_id, []).append(name)
    out: dict[str, list[tuple[Contact, Call]]] = {}
    for c in rows:
        at = c.recorded_at or c.created_at
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        contact = Contact(c.id, at, c.escalation, c.customer_sentiment_end, c.reason, c.outcome, tuple(cats.get(c.id, ())))
        out.setdefault(c.customer_key, []).append((contact, c))
    return out


def _write(s: Session, key: str, pairs: list[tuple[Contact, Call]], rules: JourneyRules, now: datetime) -> None:
    if not pairs:
        s.execute(delete(Customer).where(Customer.key == key))
        return
    journey = link([c for c, _ in pairs], rules, now)
    for contact, row in pairs:
        cols = journey.links[contact.id].columns()
        if any(getattr(row, k) != v for k, v in cols.items()):
            s.execute(update(Call).where(Call.id == contact.id).values(**cols))
    times = sorted(c.at for c, _ in pairs)
    values = dict(contacts=len(pairs), first_contact_at=times[0], last_contact_at=times[-1],
                  repeat_contacts=journey.repeats, recoveries=journey.recoveries, churn_risk=journey.churn_risk,
                  churn_level=journey.churn_level, churn_evidence=json.dumps(journey.evidence), updated_at=now)
    stmt = insert_for(s, Customer).values(key=key, **values)
    s.execute(stmt.on_conflict_do_update(index_elements=[Customer.key], set_=values))


def refresh(s: Session, keys: Iterable[str | None], rules: JourneyRules, now: datetime | None = None) -> None:
    """Recompute the journeys of ``keys`` (None entries skipped) in the caller's transaction: after
    a contact is analysed, corrected, re-scored or erased."""
    wanted = sorted({k for k in keys if k})
    if not wanted:
        return
    now = now or utcnow()
    contacts = _contacts_of(s, wanted)
    for key in wanted:
        _write(s, key, contacts.get(key, []), rules, now)


def customer_keys(sessions: sessionmaker, batch: int) -> Iterator[list[str]]:
    """Every customer key with a call or a journey, in batches of at most ``batch``, in key order."""
    last = ""
    while True:
        with sessions() as s:
            keys = list(s.execute(select(Call.customer_key).where(Call.customer_key > last)
                                  .group_by(Call.customer_key).order_by(Call.customer_key).limit(batch)).scalars())
        if not keys:
            return
        yield keys
        last = keys[-1]


def recompute_all(sessions: sessionmaker, rules: JourneyRules, batch: int = 2000, now: datetime | None = None,
                  progress=None) -> int:
    """Recompute every customer's journey, ``batch`` customers per transaction (memory bounded by
    the batch, not by the number of calls); customers left with no call are dropped. Returns the
    number of customers. ``progress(done)`` is called after each batch."""
    now = now or utcnow()
    done = 0
    for keys in customer_keys(sessions, batch):
        with sessions() as s:
            refresh(s, keys, rules, now)
            s.commit()
        done += len(keys)
        if progress is not None:
            progress(done)
    with sessions() as s:  # journeys whose calls are all gone
        s.execute(delete(Customer).where(~select(Call.id).where(Call.customer_key == Customer.key).exists()))
        s.commit()
    return done


def display_name(key: str) -> str:
    """The short pseudonym shown in the app: ``C-`` and the key's first 10 hex digits."""
    return f"C-{key[:10]}"
