"""Response models of the JSON routes, so the OpenAPI document describes what each answers.

Times are ISO 8601 strings in UTC. The models forbid fields they do not name: a route that
answered more than its model says fails loudly in the tests instead of drifting from its
documentation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callscope.analysis.schema import LanguageOut, RedactionOut, SpeakerOut, TranscriptReliabilityOut, UtteranceOut
from callscope.scoring.results import CallScores, Score, SpeakerScores, SpeakerTimeline


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- API keys ----------------------------------------------------------------------------------

class KeyOut(_Out):
    """An API key as listings show it; never its secret."""

    id: int
    name: str = Field(description="who or what uses the key")
    prefix: str = Field(description="the key's first characters, to recognise it")
    scopes: list[str] = Field(description="read, upload, review, lead, agent and/or admin")
    agent_id: str | None = Field(None, description="an agent key: the agent whose evaluations it sees")
    created_at: str | None
    last_used_at: str | None
    revoked_at: str | None = Field(description="null while the key is active")


class NewKeyOut(KeyOut):
    """A new key: the only answer that holds its secret (stored hashed)."""

    key: str = Field(description="the key itself: send it as 'Authorization: Bearer <key>'; shown once")


class KeyListOut(_Out):
    keys: list[KeyOut]


class RevokedKeyOut(_Out):
    revoked: int = Field(description="the id of the key revoked")


# --- erasure and the access log ----------------------------------------------------------------

class PurgeOut(_Out):
    older_than_days: int | float = Field(description="calls older than this many days (by call time) were erased")
    purged: int = Field(description="how many calls were erased")
    call_ids: list[str]


class SubjectErasureOut(_Out):
    matched_as: list[str] = Field(description="what the identifier matched as: phone and/or customer_id")
    pseudonyms: dict[str, str] = Field(description="per kind, the pseudonym the calls were found by")
    calls_erased: int
    call_ids: list[str]
    audio_files_deleted: int = Field(description="stored audio files deleted (a file another call holds is kept)")
    access_log_kept: str = Field(description="why access-log rows naming these calls stay")


class AccessEntryOut(_Out):
    id: int
    at: str
    api_key_id: int | None
    key_name: str | None
    call_id: str
    resource: str = Field(description="what was read: transcript, audio, …")


class AccessLogOut(_Out):
    entries: list[AccessEntryOut] = Field(description="newest first")
    next_before_id: int | None = Field(description="pass as before_id for the next page; null on the last")


# --- rule sets and re-scoring ------------------------------------------------------------------

class CategoryNameOut(_Out):
    name: str
    description: str | None
    alert: bool = Field(description="matching it raises an alert")


class RuleSetOut(_Out):
    """A rule-set version (versions never change)."""

    version: int
    label: str = Field(description="rules/<version>+<digest>: what results cite")
    name: str | None
    active: bool = Field(description="the version new analyses use")
    created_by: str | None
    created_at: str
    categories: list[CategoryNameOut]
    yaml: str | None = Field(None, description="the rule set's YAML (GET /v1/rules/{version} only)")


class RuleSetListOut(_Out):
    active: int = Field(description="the version new analyses use")
    versions: list[RuleSetOut] = Field(description="newest first")


class CallCategoriesOut(_Out):
    rules_version: str | None = Field(description="the version's label; null when the call was never categorised")
    current: bool | None = Field(None, description="whether it is the call's current version")
    categories: list[dict] = Field(description="each matched category with its evidence (utterance indices and "
                                               "times in seconds) and in words")
    insight: "InsightOut | None" = Field(None, description="reason, outcome and summary under that version")


class RescoreRunOut(_Out):
    """A re-scoring run from stored analyses (no ASR)."""

    id: int
    rules_version: int
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    worker: str | None = Field(description="the worker running it")
    total: int | None
    done: int
    skipped: int
    failed: int
    error: str | None
    since: str | None = Field(description="only calls from this time on")
    started_by: str | None
    started_at: str | None
    finished_at: str | None


# --- webhooks and alerts -----------------------------------------------------------------------

class WebhookOut(_Out):
    """A webhook subscription; its secret is never shown."""

    id: int
    url: str
    events: list[str] = Field(description="call, window and/or digest")
    min_level: str = Field(description="call alerts at this level or worse: yellow, orange or red")
    active: bool = Field(description="false once deleted (its delivery record is kept)")
    created_by: str
    created_at: str


class WebhookListOut(_Out):
    webhooks: list[WebhookOut]


class AlertDeliveryOut(_Out):
    """One alert's delivery to one subscription."""

    id: int
    webhook_id: int
    event: str = Field(description="call, window or digest")
    call_id: str | None
    status: str = Field(description="pending, delivered, dead or cancelled")
    attempts: int
    last_status_code: int | None = Field(description="the receiver's last HTTP status")
    last_error: str | None
    next_attempt_at: str | None = Field(description="when it is tried again (pending only)")
    created_at: str
    delivered_at: str | None
    payload: dict = Field(description="the signed JSON body sent to the receiver")


class AlertListOut(_Out):
    alerts: list[AlertDeliveryOut] = Field(description="newest first")


# --- spot checks -------------------------------------------------------------------------------

class SpotCheckOut(_Out):
    """A call in a day's spot-check sample and, once reviewed, the verdict."""

    call_id: str
    url: str = Field(description="the call in the API")
    day: str
    stratum: str = Field(description="the team and level it was drawn from")
    probability: float = Field(description="its chance of being drawn, 0..1")
    weight: float = Field(description="1 / probability: what it stands for in agreement statistics")
    reason: str = Field(description="why it was drawn: sampled, or oversampled (red, low confidence)")
    status: str = Field(description="open or reviewed")
    model_level: str | None
    reviewer_level: str | None
    categories_model: list[str] | None = Field(description="the categories the call matched (reviewed only)")
    categories_reviewer: list[str] | None = Field(description="the categories the reviewer says it should have matched")
    reviewer: str | None
    reviewed_at: str | None


class SpotCheckListOut(_Out):
    spot_checks: list[SpotCheckOut]


# --- probes, the app's session, a call's erasure and corrections -------------------------------

class StatusOut(_Out):
    status: Literal["ok", "ready"] = Field(description="ok: the process answers (/healthz); ready: and its "
                                                      "database too (/readyz)")


class SignedInOut(_Out):
    name: str = Field(description="the API key's name")
    scopes: list[str]


class ErasedCallOut(_Out):
    """What ``DELETE /v1/calls/{id}`` erased."""

    deleted: str = Field(description="the call's id")
    audio_deleted: bool = Field(description="false when another call holds the same stored audio")
    transcript_deleted: bool
    scores_deleted: bool
    corrections_deleted: bool


class CorrectionOut(_Out):
    """A QA correction: who, when, why, the value as analysed and the value set."""

    id: int
    utterance: int | None = Field(description="the utterance's index; null for the call's level or roles")
    field: str = Field(description="sentiment, emotion, escalation or roles")
    original: Any = Field(description="the value as analysed")
    value: Any = Field(description="the value set")
    reviewer: str = Field(description="the API key's name")
    api_key_id: int | None
    display_name: str | None = Field(description="a person's name the reviewer gave beside the key's")
    reason: str | None
    at: str | None


class CorrectionListOut(_Out):
    call_id: str
    corrections: list[CorrectionOut] = Field(description="oldest first; the newest per utterance and field is in force")


# --- calls: the list, one call, its transcript and timeline, a correction -------------------------

class SearchMatchOut(_Out):
    """Where a searched phrase was said: the utterance, its start, and the words around it."""

    utterance: int
    start: float = Field(description="seconds from the start of the call")
    before: str = Field(description="up to 60 characters before the match")
    words: str = Field(description="the words matched, as transcribed")
    after: str = Field(description="up to 60 characters after the match")
    link: str = Field(description="the review page at that moment")


class CallRowOut(_Out):
    """A call as the list shows it (QA corrections applied to its level and sentiment)."""

    id: str
    filename: str
    status: Literal["queued", "running", "done", "failed", "unsupported_language"]
    stage: str | None = Field(description="the analysis stage while running")
    progress: float | None = Field(description="0..1 while running")
    external_id: str | None
    agent_id: str | None
    team: str | None
    queue: str | None
    product: str | None
    escalation: str | None = Field(description="green | yellow | orange | red; null until analysed")
    customer_sentiment: float | None = Field(description="the customer's mean sentiment, -1..+1")
    customer_sentiment_start: float | None
    customer_sentiment_end: float | None
    agent_talk_share: float | None = Field(description="0..1 of the talk time")
    duration_s: float | None
    language: str | None
    recorded_at: str | None
    uploaded_at: str | None
    corrections: int = Field(description="QA corrections of the call")
    categories: list[str] = Field(description="categories matched under the call's current rule-set version")
    reason: str | None = Field(None, description="contact reason under the call's current rule-set version")
    outcome: str | None = Field(None, description="resolved | not_resolved | follow_up | transferred | unknown")
    url: str
    match: SearchMatchOut | None = Field(None, description="with q: where the words were said (the first time)")


class CallListOut(_Out):
    calls: list[CallRowOut]
    total: int = Field(description="every call that matches the filters")
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


class CallMetadataOut(_Out):
    agent_id: str | None
    team: str | None
    queue: str | None
    product: str | None
    channel: str | None
    channel_map: str | None
    customer_ref: str | None = Field(description="the customer id's pseudonym")
    phone_ref: str | None = Field(description="the phone number's pseudonym")
    recorded_at: str | None


class CallLinksOut(_Out):
    transcript: str
    timeline: str
    audio: str
    corrections: str
    categories: str | None = None


class CallScoresOut(_Out):
    call: CallScores | None = Field(description="roles, level (with the bands it was read with), reasons, silence, "
                                                "interruptions, versions")
    speakers: list[SpeakerScores] | None


class MatchedCategoryOut(_Out):
    name: str
    detail: str | None = Field(description="what matched, in words")
    utterances: list[int] = Field(description="evidence: indices into the transcript's utterances")
    times: list[list[float]] = Field(description="evidence: [start, end] in seconds")
    unreliable_share: float | None = Field(None, description="share of the evidence in unreliable transcript")


class ReasonOut(_Out):
    reason: str = Field(description="a reason of the rule set's taxonomy, or 'other' when none is close")
    confidence: float = Field(description="0..1: estimated probability that the decision is right")
    similarity: float = Field(description="cosine similarity of the problem statement to the nearest example")
    runner_up: str | None = Field(description="the next nearest reason")
    decided_by: Literal["similarity", "condition", "threshold"] = Field(
        description="similarity; the reason's own condition held; or nothing was close (other)")
    evidence: list[int] = Field(description="the customer's problem statement: indices into the utterances")
    times: list[list[float]] = Field(description="[start, end] of each evidence utterance, in seconds")
    detail: str = Field(description="why, in words")


class OutcomeOut(_Out):
    outcome: Literal["resolved", "not_resolved", "follow_up", "transferred", "unknown"]
    evidence: list[int] = Field(description="closing utterances it rests on (indices)")
    times: list[list[float]]
    detail: str
    confidence: float = Field(description="0..1, not calibrated (no labelled outcomes to fit it)")


class SummaryLineOut(_Out):
    part: Literal["problem", "action", "outcome", "closing"]
    utterance: int = Field(description="index into the utterances: link to the moment with #u<index>")
    role: str
    start: float = Field(description="seconds")
    end: float = Field(description="seconds")
    text: str


class GeneratedSummaryOut(_Out):
    """A summary written by a local language model: fluent, not evidence (the extractive lines are)."""

    text: str | None = Field(description="null when none was made: see fallback")
    model: str = Field(description="model file, its SHA-256 prefix, library and prompt version")
    seconds: float = Field(description="time the worker spent on it")
    fallback: str | None = Field(description="why there is none (the extractive summary stands)")
    made_at: str


class InsightOut(_Out):
    """What the call is about, under one rule-set version (re-scored with it, never with ASR)."""

    rules_version: int
    version: str = Field(description="method, cues, sentence encoder and rule-set version")
    reason: ReasonOut | None = Field(description="null when the rule set has no reasons")
    outcome: OutcomeOut
    summary: list[SummaryLineOut] = Field(description="3-5 of the call's own utterances, in its language")
    generated_summary: GeneratedSummaryOut | None = Field(
        None, description="written by the deployment's local model (CALLSCOPE_SUMMARY_MODEL) in the worker; null when "
                          "no model is configured")


class CallJourneyOut(_Out):
    customer: str = Field(description="the customer's pseudonym (GET /v1/customers/{customer})")
    pseudonym: str = Field(description="its short form")
    link: str = Field(description="the customer page")
    repeat_of: str | None
    days_since_previous: float | None
    fcr: bool | None
    recovered: bool | None
    recovery_of: str | None


class CallOut(_Out):
    """A call: status, metadata and, once done, its scores and categories (QA corrections applied)."""

    id: str
    filename: str
    status: Literal["queued", "running", "done", "failed", "unsupported_language"]
    stage: str | None
    progress: float | None
    error: str | None
    external_id: str | None
    metadata: CallMetadataOut
    duration_s: float | None
    escalation: str | None
    customer_sentiment: float | None
    language: str | None
    language_confidence: float | None
    links: CallLinksOut
    language_supported: bool | None = None
    languages: list[LanguageOut] | None = None
    language_note: str | None = None
    transcript_reliability: TranscriptReliabilityOut | None = None
    decode_warnings: list[str] | None = Field(None, description="once analysed: what went wrong decoding the "
                                              "recording without stopping it (e.g. truncated: analysed as far as "
                                              "it decoded); empty when nothing did")
    scores: CallScoresOut | None = Field(None, description="once done")
    corrections: int | None = Field(None, description="QA corrections, once done")
    rules_version: str | None = Field(None, description="the rule-set version its categories are under")
    categories: list[MatchedCategoryOut] | None = None
    insight: InsightOut | None = Field(None, description="contact reason, outcome and summary, once done")
    journey: CallJourneyOut | None = Field(None, description="the call's place in its customer's journey "
                                                            "(calls with a customer id or phone number)")


class CorrectedUtteranceOut(UtteranceOut):
    corrected: dict[str, CorrectionOut] | None = Field(None, description="per corrected field, the correction in force "
                                                                         "(its original value, who, when, why)")


class TranscriptOut(_Out):
    """Utterances with words, speakers and per-utterance scores (QA corrections applied and marked)."""

    file: str
    duration_s: float
    channel_layout: str
    speakers: list[SpeakerOut]
    utterances: list[CorrectedUtteranceOut]
    engine: str
    model: str
    language: str | None
    languages: list[LanguageOut] | None
    language_note: str | None
    redactions: list[RedactionOut] | None
    redaction: str | None
    transcript_reliability: TranscriptReliabilityOut | None


class TimelineOut(_Out):
    duration_s: float
    timeline: list[SpeakerTimeline] = Field(description="per speaker: smoothed valence and arousal on a time grid, "
                                                        "and one point per utterance")


class CorrectedOut(_Out):
    corrections: list[CorrectionOut] = Field(description="the corrections stored by this request")
    escalation: Score | None = Field(None, description="the call's level now (keys that may read calls)")
    speakers: list[dict[str, Any]] | None = Field(None, description="per speaker: id, role, mean sentiment and emotion "
                                                                    "shares now (keys that may read calls)")


# --- reports and quality ------------------------------------------------------------------------

class GroupOut(_Out):
    calls: int
    mean_customer_sentiment: float | None
    mean_agent_talk_share: float | None
    mean_silence_share: float | None
    escalation_share: dict[str, float] = Field(description="per level, its share of the group's calls")
    categories: dict[str, int] = Field(description="calls per category matched")
    previous_mean_customer_sentiment: float | None = Field(description="in the previous period of the same length")
    trend: float | None = Field(description="mean customer sentiment now minus then")
    evaluations: int = Field(0, description="evaluated calls (submitted and on, calibration left out)")
    evaluation_score: float | None = Field(None, description="their mean form score, 0..100")
    evaluation_questions: dict[str, float] = Field(default_factory=dict, description="per form question, mean points 0..1")
    with_customer: int = Field(description="contacts with a customer pseudonym (the journeys' contacts)")
    repeat_rate: float | None = Field(description="share of those that repeat an earlier contact within the repeat window")
    fcr_known: int = Field(description="first contacts whose first-contact resolution is known")
    fcr_rate: float | None = Field(description="share of those resolved at first contact")
    recovery_known: int = Field(description="orange/red contacts followed by another contact of the customer")
    recovery_rate: float | None = Field(description="share of those won back (a later contact is green)")
    fcr_rate_trend: float | None = Field(None, description="FCR rate now minus in the previous period")
    repeat_rate_trend: float | None = Field(None, description="repeat rate now minus in the previous period")
    recovery_rate_trend: float | None = Field(None, description="recovery rate now minus in the previous period")


class AggregatesOut(_Out):
    group_by: Literal["agent", "team", "queue", "day", "product", "reason", "outcome", "channel"]
    from_: str = Field(alias="from")
    to: str
    groups: dict[str, GroupOut]


class SampleOut(_Out):
    day: str
    already_sampled: bool | None = Field(None, description="true: the day was drawn before (a day is drawn once)")
    calls: int | None = Field(None, description="analysed calls of the day")
    sampled: int | None = None
    strata: dict[str, dict[str, int]] | None = Field(None, description="per stratum (team | level), calls and sampled")


class AgreementOut(_Out):
    n: int = Field(description="reviewed calls")
    n_eff: float = Field(description="the effective sample size under the sampling weights")
    accuracy: float | None
    accuracy_ci: list[float] | None = Field(description="95 % interval")
    kappa: float | None = Field(description="Cohen's kappa; null when undefined")
    kappa_ci: list[float] | None


class AgreementSummaryOut(_Out):
    level: AgreementOut
    per_reviewer_level: dict[str, AgreementOut]
    per_category: dict[str, AgreementOut]


class QualityPeriodOut(AgreementSummaryOut):
    period: str = Field(description="the day, or the Monday of the week")
    reviewed: int


class QualityOut(AgreementSummaryOut):
    from_: str = Field(alias="from")
    to: str
    reviewed: int
    periods: list[QualityPeriodOut]


class TopicSurgeOut(_Out):
    day: str
    share: float = Field(description="the topic's share of that day's problem statements, 0..1")
    baseline: float = Field(description="its mean share over the baseline days before, 0..1")
    count: int


class TopicSentimentDropOut(_Out):
    window_mean: float = Field(description="mean customer sentiment of the topic's calls in the window, -1..+1")
    baseline_mean: float
    calls: int


class TopicStatementOut(_Out):
    call_id: str
    utterance: int | None
    text: str = Field(description="the customer's problem statement (redacted as stored)")
    link: str = Field(description="the review page at that utterance")


class TopicOut(_Out):
    key: int = Field(description="stable from run to run while the topic lasts")
    terms: list[str] = Field(description="top terms (c-TF-IDF)")
    new: bool = Field(description="no topic of the previous run is near it")
    calls: int = Field(description="calls of the window in the topic")
    per_day: dict[str, int] = Field(description="statements per day, baseline days first (sampled above 3,000 a day)")
    sentiment_per_day: dict[str, float] = Field(description="mean customer sentiment per day, -1..+1")
    surge: TopicSurgeOut | None
    sentiment_drop: TopicSentimentDropOut | None
    representatives: list[TopicStatementOut]
    calls_link: str = Field(description="the call list filtered to this topic")


class TopicRunOut(_Out):
    """Topics of the customers' problem statements over a window of days."""

    id: int
    from_: str = Field(alias="from", description="first day, YYYY-MM-DD (UTC)")
    to: str
    baseline_days: int
    statements: int = Field(description="problem statements in the window (sampled days count their sample)")
    clustered: int = Field(description="statements clustered; the rest were assigned to the nearest topic")
    version: str
    created_at: str
    topics: list[TopicOut]


class TopicRunSummaryOut(_Out):
    id: int
    from_: str = Field(alias="from")
    to: str
    statements: int
    created_at: str


class TopicRunListOut(_Out):
    runs: list[TopicRunSummaryOut]


CallCategoriesOut.model_rebuild()  # its insight is declared further down


# --- search by meaning --------------------------------------------------------------------------

class MeaningHitOut(_Out):
    """The utterance of a call nearest in meaning to the query."""

    call_id: str
    filename: str
    utterance: int = Field(description="index into the call's utterances")
    start: float = Field(description="seconds from the start of the call")
    end: float = Field(description="seconds")
    role: str | None = Field(description="agent | customer | unknown")
    text: str = Field(description="the utterance as stored (redacted where the deployment redacts)")
    reliable: bool = Field(description="false where the decoder was unsure of the utterance: check the audio")
    similarity: float = Field(description="cosine similarity to the query, -1..1 (related utterances are "
                                          "usually above 0.85 with this encoder)")
    link: str = Field(description="the review page at that moment")
    language: str | None
    escalation: str | None
    reason: str | None
    outcome: str | None
    recorded_at: str | None
    uploaded_at: str | None


class MeaningSearchOut(_Out):
    query: str
    results: list[MeaningHitOut] = Field(description="best first, at most one per call")
    utterances_ranked: int = Field(description="utterances of the calls the filters allow")
    calls_opened: int = Field(description="calls whose vectors were compared exactly")
    searchable_calls: int = Field(description="calls with stored search vectors (analysed since search by "
                                              "meaning exists, or re-scored)")
    method: str = Field(description="encoder and code version")


# --- customers across contacts (issue 28) ---------------------------------------------------------

class CustomerRowOut(_Out):
    key: str = Field(description="the customer's pseudonym: a keyed hash of the customer id (else the phone number), "
                                 "never the identifier")
    pseudonym: str = Field(description="its short form, as the app shows it")
    contacts: int
    first_contact_at: str | None
    last_contact_at: str | None
    repeat_contacts: int
    recoveries: int = Field(description="green contacts that won back an orange/red one")
    churn_risk: float = Field(description="0..1, the sum of the signals' points (see signals)")
    churn_level: Literal["low", "medium", "high"]
    link: str = Field(description="the customer page")


class CustomerListOut(_Out):
    customers: list[CustomerRowOut]


class ContactOut(_Out):
    call_id: str
    at: str | None = Field(description="the contact's time (recorded_at, else upload time), UTC")
    channel: str | None
    agent_id: str | None
    queue: str | None
    level: str | None
    customer_sentiment: float | None
    customer_sentiment_end: float | None
    reason: str | None
    outcome: str | None
    repeat_of: str | None = Field(description="the customer's earlier contact this one repeats (within the repeat window)")
    days_since_previous: float | None
    fcr: bool | None = Field(description="resolved at first contact; null: a repeat itself, or not yet known")
    recovery_of: str | None = Field(description="the orange/red contact this green one won back")
    link: str


class ChurnEvidenceOut(_Out):
    signal: str
    points: float
    means: str
    calls: list[str] = Field(description="the contacts that show it")


class SignalOut(_Out):
    signal: str
    points: float
    means: str


class CustomerOut(CustomerRowOut):
    churn_evidence: list[ChurnEvidenceOut] = Field(description="the signals seen, each with its calls")
    contact_list: list[ContactOut] = Field(description="the customer's analysed contacts, oldest first")
    signals: list[SignalOut] = Field(description="every signal the churn risk adds up, with its points")
