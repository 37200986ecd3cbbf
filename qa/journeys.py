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
* **recovery**: an orange or red contact followed by a later green one. ``recovered`` on the
  orange/red contact: True when a later contact is green, False when later contacts are all
  worse, None with no later contact yet; ``recovery_of`` on the first green contact after it
  names the latest orange/red contact before it.
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
#: the lowest churn risk of each level
FLOORS = {"low": 0.0, "medium": MEDIUM, "high": HIGH}


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
    recovered: bool | None = None

    def columns(self) -> dict:
        return {"repeat_of": self.repeat_of, "days_since_previous": self.days_since_previous, "fcr": self.fcr,
                "recovery_of": self.recovery_of, "recovered": self.recovered}


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

    def same_matter(earlier: Contact, later: Contact) -> bool:
        return not rules.same_reason or (earlier.reason is not None and earlier.reason == later.reason)

    # contacts are in time order: each scan stops at the window's edge (a customer with thousands
    # of contacts, such as a switchboard's number, costs contacts × contacts-per-window)
    unrecovered: Contact | None = None
    for i, c in enumerate(ordered):
        mine = links[c.id]
        if i:
            mine.days_since_previous = round((c.at - ordered[i - 1].at).total_seconds() / 86400, 4)
        for j in range(i - 1, -1, -1):
            p = ordered[j]
            if c.at - p.at > window:
                break
            if same_matter(p, c):
                mine.repeat_of = p.id
                break
        if c.level == "green" and unrecovered is not None:
            mine.recovery_of, unrecovered = unrecovered.id, None
        elif c.level in BAD_LEVELS:
            unrecovered = c
    green_later = False
    for i in range(len(ordered) - 1, -1, -1):
        c = ordered[i]
        mine = links[c.id]
        if c.level in BAD_LEVELS and i + 1 < len(ordered):
            mine.recovered = green_later
        green_later = green_later or c.level == "green"
        if mine.repeat_of is not None:
            continue  # only first contacts are resolved, or not, at first contact
        repeated = False
        for j in range(i + 1, len(ordered)):
            n = ordered[j]
            if n.at - c.at > window:
                break
            if links[n.id].repeat_of is not None and same_matter(c, n):
                repeated = True
                break
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
    shown = [s for s in SIGNALS if len(seen[s.name]) >= need[s.name]]
    evidence = [{"signal": s.name, "points": s.points, "means": s.means, "calls": seen[s.name]} for s in shown]
    risk = min(1.0, max(0.0, sum(s.points for s in shown)))
    return round(risk, 4), evidence


# --- reading contacts and writing journeys ----------------------------------------------------------

def _call_time():
    return func.coalesce(Call.recorded_at, Call.created_at)


#: the call columns a journey reads (never the sealed text) and the ones it writes
_READ = (Call.id, Call.customer_key, Call.recorded_at, Call.created_at, Call.escalation, Call.customer_sentiment_end,
         Call.reason, Call.outcome)
_WRITTEN = ("repeat_of", "days_since_previous", "fcr", "recovery_of", "recovered")


def _contacts_of(s: Session, keys: Sequence[str]) -> dict[str, list[tuple[Contact, dict]]]:
    """The analysed contacts of ``keys`` with their journey columns as stored, and the categories
    about cancelling they matched under their current rule-set version."""
    rows = s.execute(select(*_READ, *(getattr(Call, c) for c in _WRITTEN))
                     .where(Call.customer_key.in_(keys), Call.status == "done")).all()
    cats: dict[str, list[str]] = {}
    if rows:
        q = (select(CallCategory.call_id, CallCategory.category)
             .join(Call, (Call.id == CallCategory.call_id) & (Call.rules_version == CallCategory.rules_version))
             .where(Call.customer_key.in_(keys), Call.status == "done", func.lower(CallCategory.category).like("cancel%")))
        for call_id, name in s.execute(q):
            cats.setdefault(call_id, []).append(name)
    out: dict[str, list[tuple[Contact, dict]]] = {}
    for r in rows:
        at = r.recorded_at or r.created_at
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        contact = Contact(r.id, at, r.escalation, r.customer_sentiment_end, r.reason, r.outcome, tuple(cats.get(r.id, ())))
        out.setdefault(r.customer_key, []).append((contact, {c: getattr(r, c) for c in _WRITTEN}))
    return out


def refresh(s: Session, keys: Iterable[str | None], rules: JourneyRules, now: datetime | None = None) -> None:
    """Recompute the journeys of ``keys`` (None entries skipped) in the caller's transaction: after
    a contact is analysed, corrected, re-scored or erased. Only the calls whose journey columns
    change are written (in one statement); a customer left with no contact is dropped."""
    wanted = sorted({k for k in keys if k})
    if not wanted:
        return
    now = now or utcnow()
    contacts = _contacts_of(s, wanted)
    changed: list[dict] = []
    customers: list[dict] = []
    for key in wanted:
        pairs = contacts.get(key, [])
        if not pairs:
            continue
        journey = link([c for c, _ in pairs], rules, now)
        for contact, stored in pairs:
            cols = journey.links[contact.id].columns()
            if any(stored[k] != v for k, v in cols.items()):
                changed.append({"id": contact.id, **cols})
        times = sorted(c.at for c, _ in pairs)
        customers.append(dict(key=key, contacts=len(pairs), first_contact_at=times[0], last_contact_at=times[-1],
                              repeat_contacts=journey.repeats, recoveries=journey.recoveries,
                              churn_risk=journey.churn_risk, churn_level=journey.churn_level,
                              churn_evidence=json.dumps(journey.evidence), updated_at=now))
    gone = [k for k in wanted if k not in contacts]
    if gone:
        s.execute(delete(Customer).where(Customer.key.in_(gone)))
    if changed:
        s.execute(update(Call), changed)  # a bulk UPDATE by primary key
    if customers:
        stmt = insert_for(s, Customer)
        s.execute(stmt.on_conflict_do_update(index_elements=[Customer.key],
                                             set_={c: stmt.excluded[c] for c in customers[0] if c != "key"}), customers)


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


# --- what the API and the app show ------------------------------------------------------------------

def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at).isoformat()


def customer_row(c: Customer) -> dict:
    """A customer's summary: pseudonym, counts, churn risk and level (no evidence)."""
    return {"key": c.key, "pseudonym": display_name(c.key), "contacts": c.contacts,
            "first_contact_at": _iso(c.first_contact_at), "last_contact_at": _iso(c.last_contact_at),
            "repeat_contacts": c.repeat_contacts, "recoveries": c.recoveries, "churn_risk": c.churn_risk,
            "churn_level": c.churn_level, "link": f"/customers/{c.key}"}


def describe(s: Session, key: str) -> dict | None:
    """A customer's journey: the summary, every contact in time order with its place in the
    journey, and the churn risk's evidence; None for an unknown pseudonym."""
    row = s.get(Customer, key)
    if row is None:
        return None
    calls = s.execute(select(Call).where(Call.customer_key == key, Call.status == "done")
                      .order_by(_call_time(), Call.id)).scalars().all()
    contacts = [{"call_id": c.id, "at": _iso(c.recorded_at or c.created_at), "channel": c.channel,
                 "agent_id": c.agent_id, "queue": c.queue, "level": c.escalation,
                 "customer_sentiment": c.customer_sentiment, "customer_sentiment_end": c.customer_sentiment_end,
                 "reason": c.reason, "outcome": c.outcome, "repeat_of": c.repeat_of,
                 "days_since_previous": c.days_since_previous, "fcr": c.fcr, "recovery_of": c.recovery_of,
                 "link": f"/calls/{c.id}"} for c in calls]
    return {**customer_row(row), "churn_evidence": json.loads(row.churn_evidence), "contact_list": contacts,
            "signals": [{"signal": sig.name, "points": sig.points, "means": sig.means} for sig in SIGNALS]}


def at_risk(s: Session, min_level: str = "medium", limit: int = 50) -> list[dict]:
    """Customers at ``min_level`` churn risk or above, the riskiest first (then the latest contact)."""
    q = select(Customer).where(Customer.churn_risk >= FLOORS[min_level])
    rows = s.execute(q.order_by(Customer.churn_risk.desc(), Customer.last_contact_at.desc(), Customer.key)
                     .limit(limit)).scalars().all()
    return [customer_row(r) for r in rows]
