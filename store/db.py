"""Database: SQLAlchemy 2 models and engine. The schema is created by Alembic migrations
(``api/migrations``), never by ``create_all``, so SQLite and PostgreSQL evolve the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A point in time, stored in UTC and always read back zone-aware (UTC), on SQLite (which
    keeps no zone) as on PostgreSQL. A naive value written is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class Call(Base):
    """One uploaded recording and, once analysed, its result."""

    __tablename__ = "calls"
    # one call per content and external id: concurrent uploads of the same pair insert one row
    __table_args__ = (UniqueConstraint("sha256", "external_id", name="uq_calls_sha256_external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    filename: Mapped[str] = mapped_column(Text)  # as uploaded (at most 255 characters), for display only; sealed (privacy/call_keys.py)
    audio_key: Mapped[str] = mapped_column(String(200))  # path inside the audio store
    size_bytes: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[str | None] = mapped_column(String(200), index=True)
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    queue: Mapped[str | None] = mapped_column(String(200), index=True)
    product: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(100))
    channel_map: Mapped[str | None] = mapped_column(String(100))
    settings_json: Mapped[str | None] = mapped_column(Text)  # per-call analysis settings (CallSettings JSON)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True, default="queued")  # queued|running|done|failed|unsupported_language
    stage: Mapped[str | None] = mapped_column(String(20))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float | None] = mapped_column(Float)
    escalation: Mapped[str | None] = mapped_column(String(10), index=True)
    escalation_confidence: Mapped[float | None] = mapped_column(Float)  # 0..1, as analysed
    customer_sentiment: Mapped[float | None] = mapped_column(Float)
    customer_sentiment_start: Mapped[float | None] = mapped_column(Float)
    customer_sentiment_end: Mapped[float | None] = mapped_column(Float)
    agent_sentiment: Mapped[float | None] = mapped_column(Float)
    agent_talk_share: Mapped[float | None] = mapped_column(Float)
    silence_share: Mapped[float | None] = mapped_column(Float)
    overlap_s: Mapped[float | None] = mapped_column(Float)
    interruptions: Mapped[int | None] = mapped_column(Integer)
    role_confidence: Mapped[float | None] = mapped_column(Float)  # 0.5 a guess .. 1
    role_note: Mapped[str | None] = mapped_column(Text)  # the words contradict the channel map
    direction: Mapped[str | None] = mapped_column(String(10))  # inbound | outbound
    language: Mapped[str | None] = mapped_column(String(10), index=True)  # ISO 639-1
    language_confidence: Mapped[float | None] = mapped_column(Float)
    transcript_reliability: Mapped[float | None] = mapped_column(Float)  # 0..1, the transcript as evidence
    result_json: Mapped[str | None] = mapped_column(Text)  # the CallAnalysis; sealed
    transcript_text: Mapped[str | None] = mapped_column(Text)  # the words in lower case, for the list's search; sealed
    customer_ref: Mapped[str | None] = mapped_column(String(64), index=True)  # HMAC of the customer id, never the id
    phone_ref: Mapped[str | None] = mapped_column(String(64), index=True)  # HMAC of the phone number, never the number
    email_ref: Mapped[str | None] = mapped_column(String(64), index=True)  # HMAC of a text interaction's sender address
    source_json: Mapped[str | None] = mapped_column(Text)  # a text interaction's messages until analysed; sealed
    rules_version: Mapped[int | None] = mapped_column(Integer)  # the rule set whose categories are the call's current ones
    reason: Mapped[str | None] = mapped_column(String(63), index=True)  # contact reason under rules_version ("other")
    outcome: Mapped[str | None] = mapped_column(String(20), index=True)  # resolved | not_resolved | follow_up | transferred | unknown
    # the customer across contacts (qa/journeys.py): customer_ref, else phone_ref; never from the voice
    customer_key: Mapped[str | None] = mapped_column(String(64), index=True)
    repeat_of: Mapped[str | None] = mapped_column(String(36))  # the same customer's previous contact, within the repeat window
    days_since_previous: Mapped[float | None] = mapped_column(Float)  # days since the customer's previous contact
    fcr: Mapped[bool | None] = mapped_column(Boolean)  # resolved at first contact; None: not yet known
    recovery_of: Mapped[str | None] = mapped_column(String(36))  # the orange/red contact this green one wins back
    recovered: Mapped[bool | None] = mapped_column(Boolean)  # orange/red, and a later contact is green; None: no later contact
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Job(Base):
    """A unit of work in the durable queue: analyse one call."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True, default="queued")  # queued|running|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CallEmotion(Base):
    """Share of a role's utterance time per emotion label in one call (for the emotion filter)."""

    __tablename__ = "call_emotions"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)  # customer | agent
    label: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    share: Mapped[float] = mapped_column(Float)  # 0..1


class Correction(Base):
    """A QA reviewer's override of one value: an utterance's sentiment or emotion, or the call's
    escalation level. The analysis result itself is never changed; reads apply the newest
    correction per (utterance, field) on top of it, so the original stays for audit."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    utterance: Mapped[int | None] = mapped_column(Integer)  # index into the call's utterances; None: the call
    field: Mapped[str] = mapped_column(String(20))  # sentiment | emotion | escalation | roles
    original: Mapped[str] = mapped_column(Text)  # JSON value as analysed, before any correction
    value: Mapped[str] = mapped_column(Text)  # JSON value set by the reviewer
    reviewer: Mapped[str] = mapped_column(String(200))  # the name of the API key that made it
    display_name: Mapped[str | None] = mapped_column(Text)  # a name the reviewer gave (at most 200 characters), shown beside
    reason: Mapped[str] = mapped_column(Text)
    api_key_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CallKey(Base):
    """A call's data key, wrapped under the deployment's key-encryption key ``kek_id`` (the
    keyring lives outside the database). The call's personal text is sealed under it; erasure
    deletes the row (crypto-shredding, :mod:`callscope.privacy.call_keys`). No foreign key: the key is
    made before the call's row, in the same transaction."""

    __tablename__ = "call_keys"

    call_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kek_id: Mapped[str] = mapped_column(String(16), index=True)
    wrapped: Mapped[str] = mapped_column(String(200))  # base64 of nonce + AES-GCM(data key)


class AudioFile(Base):
    """A file in the audio store and how many calls hold it. Uploads and erasures change
    ``refs`` and touch the file while holding this row's lock, so a file is deleted only when no
    call holds it, and never while an upload of the same bytes is being committed."""

    __tablename__ = "audio_files"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    refs: Mapped[int] = mapped_column(Integer, default=0)


class ApiKey(Base):
    """An API key. Only a SHA-256 of the secret is kept; ``prefix`` finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(100))  # comma-separated: read,upload,review,lead,agent,admin
    agent_id: Mapped[str | None] = mapped_column(String(200))  # an ``agent`` key sees this agent's evaluations only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A signed-in browser of the QA app. The cookie holds a random token; only its SHA-256 is
    kept, with the API key it stands for and the CSRF token the page sends back on changes."""

    __tablename__ = "web_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AccessLog(Base):
    """Who (API key) read which call's transcript or audio, and when. Kept for
    ``CALLSCOPE_ACCESS_LOG_DAYS``; a row outlives the call's erasure (it holds only the call id)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    api_key_id: Mapped[int | None] = mapped_column(Integer, index=True)  # None with auth off
    key_name: Mapped[str] = mapped_column(String(200))
    call_id: Mapped[str] = mapped_column(String(36), index=True)
    resource: Mapped[str] = mapped_column(String(20))  # transcript | audio | audio_original


class RuleSetRow(Base):
    """One version of the deployment's rule set (categories, YAML). Versions are never changed or
    deleted, so every call's categories under any version stay readable; one is active."""

    __tablename__ = "rule_sets"
    # one active version, whatever races: two first analyses on a fresh database cannot both install one
    __table_args__ = (Index("uq_rule_sets_one_active", "active", unique=True, sqlite_where=text("active"),
                            postgresql_where=text("active")),)

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    yaml: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(12))  # SHA-256 of the YAML, first 12 hex digits
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_by: Mapped[str] = mapped_column(String(200))  # the API key's name, or "callscope" for the starter set
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CallCategory(Base):
    """A category a call matched under one rule-set version, with its evidence."""

    __tablename__ = "call_categories"
    __table_args__ = (Index("ix_call_categories_version_category", "rules_version", "category"),)

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    rules_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(63), primary_key=True)
    evidence_json: Mapped[str] = mapped_column(Text)  # {"utterances": [...], "times": [[start, end], ...]}
    detail: Mapped[str] = mapped_column(Text)


class CallInsight(Base):
    """What a call is about under one rule-set version: contact reason, outcome, extractive
    summary (:mod:`callscope.scoring.insight`). ``detail_json`` quotes the transcript: sealed."""

    __tablename__ = "call_insights"
    __table_args__ = (Index("ix_call_insights_version_reason", "rules_version", "reason"),)

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    rules_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(63))  # None: the rule set has no reasons
    reason_confidence: Mapped[float | None] = mapped_column(Float)  # 0..1
    outcome: Mapped[str] = mapped_column(String(20))
    outcome_confidence: Mapped[float] = mapped_column(Float)  # 0..1, uncalibrated
    version: Mapped[str] = mapped_column(String(300))  # the method, cues and encoder (the rule set is rules_version)
    basis: Mapped[str] = mapped_column(String(64), index=True)  # hash of what it was computed from
    problem_vector: Mapped[str | None] = mapped_column(Text)  # the problem statement's vector (float16, base64); sealed
    detail_json: Mapped[str] = mapped_column(Text)  # reason, outcome and summary with evidence; sealed


class Customer(Base):
    """One customer pseudonym's journey (:mod:`callscope.qa.journeys`): counts, and the churn risk
    with its evidence (signals and call ids, never words). Recomputed from the calls; erased with
    the customer's last call."""

    __tablename__ = "customers"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # the pseudonym (customer_key)
    contacts: Mapped[int] = mapped_column(Integer)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    repeat_contacts: Mapped[int] = mapped_column(Integer)
    recoveries: Mapped[int] = mapped_column(Integer)
    churn_risk: Mapped[float] = mapped_column(Float, index=True)  # 0..1, the sum of the signals' points
    churn_level: Mapped[str] = mapped_column(String(10))  # low | medium | high
    churn_evidence: Mapped[str] = mapped_column(Text)  # JSON list of signals with their call ids
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SearchVectors(Base):
    """A call's utterance vectors for search by meaning (:mod:`callscope.qa.meaning_search`):
    int8-quantised, sealed under the call's key. One row per call, replaced when it is analysed
    or re-scored with a new transcript."""

    __tablename__ = "search_vectors"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[str] = mapped_column(String(200))  # encoder and code version
    utterances: Mapped[int] = mapped_column(Integer)
    vectors: Mapped[str] = mapped_column(Text)  # sealed


class GeneratedSummaryRow(Base):
    """A call's summary written by a local model (:mod:`callscope.qa.generated_summaries`), or
    why there is none; the text is sealed under the call's key."""

    __tablename__ = "generated_summaries"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(300))  # file, digest, library and prompt version
    seconds: Mapped[float] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)  # sealed; None when none was made
    fallback: Mapped[str | None] = mapped_column(String(300))  # why there is none
    made_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SearchCode(Base):
    """One utterance's 256-bit sign code (:mod:`callscope.scoring.insight.search_codes`), in the
    clear: what the in-process index scans. Deleted with the call."""

    __tablename__ = "search_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    utterance: Mapped[int] = mapped_column(Integer)
    code: Mapped[bytes] = mapped_column(LargeBinary(32))


class TopicRun(Base):
    """Topics of the customers' problem statements over a window of days, against the baseline
    days before it (:mod:`callscope.qa.topics`). ``topics_json`` holds per topic its key (stable
    from run to run), top terms, volume and mean customer sentiment per day, whether it is new,
    surging or dropping in sentiment, and its representative statements as (call id, utterance)
    references: no transcript text but the top terms."""

    __tablename__ = "topic_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day_from: Mapped[str] = mapped_column(String(10), index=True)  # YYYY-MM-DD, UTC
    day_to: Mapped[str] = mapped_column(String(10), index=True)  # inclusive
    baseline_days: Mapped[int] = mapped_column(Integer)
    statements: Mapped[int] = mapped_column(Integer)  # problem statements in the window
    clustered: Mapped[int] = mapped_column(Integer)  # of which clustered (the sample); the rest assigned
    version: Mapped[str] = mapped_column(String(200))
    topics_json: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    auto_day: Mapped[str | None] = mapped_column(String(10), unique=True)  # the day a worker's daily run covers


class CallTopic(Base):
    """The topic (key) of a call's problem statement in a topic run."""

    __tablename__ = "call_topics"
    __table_args__ = (Index("ix_call_topics_run_topic", "run_id", "topic"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("topic_runs.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True, index=True)
    topic: Mapped[int] = mapped_column(Integer)


class RescoreRun(Base):
    """One re-scoring of stored calls under a rule-set version (no ASR): progress and outcome."""

    __tablename__ = "rescore_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rules_version: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="running")  # queued | running | done | failed
    worker_id: Mapped[str | None] = mapped_column(String(100))  # the worker running it (None: the CLI)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # another worker resumes it after this
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Webhook(Base):
    """A subscription: where alerts go (``url``), the secret they are signed with (HMAC-SHA256),
    and which events: ``call`` (a call at ``min_level`` or worse, or matching an alerting
    category), ``window`` (window alerts), ``digest`` (the daily digest)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(500))  # sealed (privacy/secret_box.py); the receiver checks signatures with it
    events: Mapped[str] = mapped_column(String(100))  # comma separated: call, window, digest
    min_level: Mapped[str] = mapped_column(String(10), default="red")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlertDelivery(Base):
    """One alert for one subscription: the durable outbox row, written in the same transaction as
    what caused it, then delivered (signed, retried with back-off) and kept as the record."""

    __tablename__ = "alert_deliveries"
    # one alert per subscription and cause: a window alert fires once per period, a digest once a day
    __table_args__ = (UniqueConstraint("webhook_id", "dedupe_key", name="uq_alert_deliveries_webhook_dedupe"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(20))  # call | window | digest
    dedupe_key: Mapped[str] = mapped_column(String(300))
    call_id: Mapped[str | None] = mapped_column(String(36), index=True)
    payload_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RateCounter(Base):
    """A rate-limit counter shared by every API process (:mod:`callscope.store.rate_store`): ``key``
    is an HMAC of the limit and the caller (never the API key or address itself), ``count`` the
    requests in the window that ends at ``expires_at`` (Unix seconds)."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class SpotCheckDraw(Base):
    """That a day's sample was drawn (even an empty one), with what share: each day is drawn once."""

    __tablename__ = "spot_check_draws"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    share: Mapped[float] = mapped_column(Float)
    calls: Mapped[int] = mapped_column(Integer)
    sampled: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SpotCheck(Base):
    """A call drawn into the day's QA sample: its stratum, its chance of being drawn and weight
    (1 / chance, so estimates describe all calls), and once reviewed, the reviewer's verdict."""

    __tablename__ = "spot_checks"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)  # the UTC day of the call, YYYY-MM-DD
    stratum: Mapped[str] = mapped_column(String(420))  # team | level
    probability: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(40))  # sampled | oversampled: red | oversampled: low confidence
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | reviewed
    model_level: Mapped[str | None] = mapped_column(String(10))
    reviewer_level: Mapped[str | None] = mapped_column(String(10))
    categories_model: Mapped[str | None] = mapped_column(Text)  # the call's categories when reviewed, ;-separated
    categories_reviewer: Mapped[str | None] = mapped_column(Text)  # what the reviewer says they should be
    reviewer: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FormRow(Base):
    """One version of an evaluation form (a QA scorecard, YAML, :mod:`callscope.qa.forms`).
    Versions are never changed; several forms (names) may be active at once, one version of each,
    each applying to the calls its ``applies_to`` names."""

    __tablename__ = "eval_forms"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_eval_forms_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), index=True)  # the form's id in its YAML
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, … per name
    yaml: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(12))  # SHA-256 of the YAML, first 12 hex digits
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Evaluation(Base):
    """A reviewer's evaluation of one call under one form version. ``answers_json`` holds, per
    question, the automatic answer (with evidence and confidence) and the answer given; the
    reviewers' free text (reasons, comments, the coaching note) is sealed under the call's key in
    ``notes``. States: draft → submitted → acknowledged → disputed → resolved
    (:mod:`callscope.qa.evaluations`); each change is an :class:`EvaluationEvent`."""

    __tablename__ = "evaluations"
    __table_args__ = (Index("ix_evaluations_state_submitted", "state", "submitted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("eval_forms.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(200))  # the API key's name
    reviewer_key_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    calibration_id: Mapped[int | None] = mapped_column(Integer, index=True)  # None: a production evaluation
    answers_json: Mapped[str] = mapped_column(Text)  # no free text: question ids, values, evidence indices
    notes: Mapped[str | None] = mapped_column(Text)  # sealed JSON: reasons, comments, coaching
    score: Mapped[float | None] = mapped_column(Float)  # 0..100 once answered; 0 when a critical question fails
    failed_critical: Mapped[bool] = mapped_column(Boolean, default=False)
    disagreements: Mapped[int] = mapped_column(Integer, default=0)  # automatic answers the reviewer changed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class EvaluationEvent(Base):
    """One change of an evaluation's state: who, when, and their note (sealed)."""

    __tablename__ = "evaluation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)  # sealed
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewItem(Base):
    """A call in the review queue: red and orange calls when analysed, the day's spot-check
    sample when drawn. The due time follows from ``reason`` and ``added_at`` with the deployment's
    delays when it was added (:mod:`callscope.qa.review_queue`); ``done_at`` is when an evaluation was submitted."""

    __tablename__ = "review_items"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(10), index=True)  # red | orange | sample
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # when the call's analysis was stored
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class CallComment(Base):
    """A reviewer's comment on a moment of a call (an utterance, a time); the text is sealed."""

    __tablename__ = "call_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    utterance: Mapped[int | None] = mapped_column(Integer)
    at_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)  # sealed
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CalibrationSession(Base):
    """A calibration session: the same calls evaluated blind by several reviewers under one form;
    the answers are compared per question once they are in (:mod:`callscope.qa.calibration_sessions`)."""

    __tablename__ = "calibration_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    form_id: Mapped[int] = mapped_column(ForeignKey("eval_forms.id"))
    call_ids: Mapped[str] = mapped_column(Text)  # JSON list
    reviewers: Mapped[str] = mapped_column(Text)  # JSON list of key names
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def insert_for(session, table):
    """An INSERT for ``table`` in the session's dialect (PostgreSQL or SQLite), which can take
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL (readers never block the writer) and a busy timeout."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA secure_delete=ON")  # erased rows are overwritten, not left in free pages
            cur.close()

        return engine
    # UTC sessions: grouping by day and comparing times must not depend on the server's zone
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to the newest schema (Alembic ``upgrade head``), or to
    ``revision``; at the newest, make sure a rule set is active (the starter set on a new database)."""
    from alembic import command
    from alembic.config import Config

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, revision)
    if revision == "head":  # a deployment always has an active rule set before its first analysis
        from callscope.qa.categories import ensure_active

        engine = make_engine(url)
        try:
            ensure_active(session_factory(engine))
        finally:
            engine.dispose()


def scrub_after_erasure(engine: Engine) -> None:
    """Make erased rows unreadable on disk. SQLite (with ``secure_delete``) has overwritten them in
    the database file; a TRUNCATE checkpoint copies the WAL back and empties it, so no old page
    with the erased text stays in ``-wal``. PostgreSQL: ``VACUUM`` of the erased tables lets the
    dead rows' space be reused (its own WAL segments are recycled by the server's checkpoints)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("calls", "corrections", "call_emotions", "jobs", "search_codes"):
                conn.exec_driver_sql(f"VACUUM {table}")


def secure_files(data_dir: Path, url: str) -> None:
    """The data directory 0700; the SQLite database and its WAL/SHM files 0600."""
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            if p.exists():
                p.chmod(0o600)


def session_factory(engine: Engine, data_dir: Path | None = None, *, keyring_file: Path | None = None) -> sessionmaker:
    """Sessions on ``engine``; with ``keyring_file`` (a service passes ``settings.keyring_file``) or
    ``data_dir`` (its ``call-keys.keyring``), they carry the deployment's :class:`CallCrypt`, which
    every read and write of a call's personal text needs. One crypt per keyring file in a process,
    so its cache of data keys is shared."""
    if keyring_file is None and data_dir is not None:
        from callscope.privacy.call_keys import KEYRING_NAME

        keyring_file = Path(data_dir) / KEYRING_NAME
    info = {"call_crypt": crypt_for(keyring_file)} if keyring_file is not None else {}
    return sessionmaker(engine, expire_on_commit=False, info=info)


_CRYPTS: dict[Path, object] = {}


def crypt_for(keyring_file: Path):
    """The process's :class:`~callscope.privacy.call_keys.CallCrypt` for the keyring ``keyring_file``."""
    from callscope.privacy.call_keys import CallCrypt, Keyring

    path = Path(keyring_file).resolve()
    if path not in _CRYPTS:
        _CRYPTS[path] = CallCrypt(Keyring(path))
    return _CRYPTS[path]
