"""Service settings: read once, from ``CALLSCOPE_*`` environment variables, and validated at start.

A setting that makes no sense (a retention of 0 or -1 days, a negative limit, a malformed rate)
stops the server or worker before it touches any data, with a message naming the variable.
Every other module gets its settings from here, never from the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from callscope.analysis.call_settings import Language
from callscope.transcription.engine import parse_model_dirs
from callscope.transcription.language import SUPPORTED_LANGUAGES, parse_languages
from callscope.transcription.redaction.apply import RedactionPolicy

_MB = 1024 * 1024


class ConfigError(ValueError):
    """A ``CALLSCOPE_*`` setting is invalid; the message names it and says what is allowed."""


def _rate(value: str | None) -> str | None:
    """A rate like ``1200/minute`` (checked with the ``limits`` parser), or None for off."""
    if value is None or value.strip().lower() in ("", "off", "0", "none"):
        return None
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a rate such as '1200/minute' or 'off'") from exc
    return value.strip()


def parse_queue_directions(text: str) -> dict[str, str]:
    """``"sales=outbound,support=inbound"`` → {"sales": "outbound", "support": "inbound"}."""
    out = {}
    for item in (x.strip() for x in text.split(",") if x.strip()):
        queue, sep, direction = item.rpartition("=")
        if not sep or not queue.strip() or direction.strip().lower() not in ("inbound", "outbound"):
            raise ValueError(f"{item!r}: give QUEUE=inbound or QUEUE=outbound, comma separated")
        out[queue.strip()] = direction.strip().lower()
    return out


class ServiceSettings(BaseSettings):
    """One deployment's settings (environment variable in brackets).

    Attributes:
        data_dir: where the SQLite database and the audio store live (``CALLSCOPE_DATA_DIR``);
            created with mode 0700, database and audio files 0600.
        database_url: SQLAlchemy URL (``CALLSCOPE_DATABASE_URL``); SQLite in ``data_dir`` by default,
            ``postgresql+psycopg://…`` for PostgreSQL.
        audio_store: where recordings are kept (``CALLSCOPE_AUDIO_STORE``): a directory, which
            may be on a file system every machine mounts (NFS, CephFS, Lustre) so that API
            servers, workers and backfill drivers on many machines share it; unset:
            ``data_dir/audio``. Object-store URLs (``s3://``) are not supported.
        keyring: the file of key-encryption keys under which every call's data key is wrapped
            (``CALLSCOPE_KEYRING``; default ``data_dir/call-keys.keyring``, made on first use, 0600;
            see :mod:`callscope.privacy.call_keys`). Every API server, worker and backfill driver of one
            deployment must read the same file (a shared mount, like the audio store). Losing it
            loses every call's text; back it up apart from the database.
        max_upload_mb: largest accepted file in MiB (``CALLSCOPE_MAX_UPLOAD_MB``, default 500); the
            upload is cut off as soon as a file passes it.
        max_request_mb: largest request body in MiB, all files together (``CALLSCOPE_MAX_REQUEST_MB``,
            default 2048); a larger ``Content-Length`` is refused before the body is read.
        max_files_per_request: files in one upload (``CALLSCOPE_MAX_FILES_PER_REQUEST``, default 100).
        max_form_fields: non-file form fields in one upload (``CALLSCOPE_MAX_FORM_FIELDS``, default 30).
        max_field_bytes: size of one form field's value (``CALLSCOPE_MAX_FIELD_BYTES``, default 4096).
        max_duration_h: longest recording analysed, hours (``CALLSCOPE_MAX_DURATION_H``, default 4).
        worker_memory_mb: memory (RSS, MiB) one analysis may use before it is stopped and its call
            failed with that reason (``CALLSCOPE_WORKER_MEMORY_MB``, default 6144).
        lease_s: seconds a worker holds a job without a heartbeat before another may take it.
        max_attempts: runs of one job before it is marked failed.
        retry_backoff_s: wait before the first retry (s); doubles with each further attempt.
        auth: require API keys (``CALLSCOPE_AUTH``, default on; ``off`` only for a single-user
            machine: every request is then an admin).
        retention_days: calls whose call time is older than this many days are purged
            (``CALLSCOPE_RETENTION_DAYS``, a whole number of days, 1 or more; unset: kept until deleted). An upload whose
            ``recorded_at`` is already older is refused (422); calls still queued or being
            analysed are kept until their analysis ends.
        retention_check_s: how often the server runs the purge, seconds (``CALLSCOPE_RETENTION_CHECK_S``).
        rate_limit_per_key: requests per API key (``CALLSCOPE_RATE_LIMIT_PER_KEY``, default
            ``1200/minute``; ``off`` to disable); over it: 429 with ``Retry-After``.
        rate_limit_per_ip: requests per client address, checked before authentication
            (``CALLSCOPE_RATE_LIMIT_PER_IP``, default ``2400/minute``; ``off`` to disable); every
            request but the liveness probe ``/healthz``.
        session_hours: how long a sign-in to the QA app lasts, hours (``CALLSCOPE_SESSION_HOURS``,
            default 12); signing out or revoking the key ends it sooner.
        rate_limit_storage: where counters live (``CALLSCOPE_RATE_LIMIT_STORAGE``): ``database``
            (default, shared by every API process: a table of the PostgreSQL database, or
            ``data_dir/rate-limits.db`` beside SQLite), a ``limits``
            storage URL such as ``redis://host:6379`` (shared; needs the ``redis`` package), or
            ``memory://`` (each server process counts alone).
        metrics_token: when set, ``/metrics`` needs ``Authorization: Bearer <token>``
            (``CALLSCOPE_METRICS_TOKEN``).
        agent_acoustic_emotion: opt this deployment in to emotion from agents' voices
            (``CALLSCOPE_AGENT_ACOUSTIC_EMOTION``; off by default, banned in EU workplaces).
        arousal_population: learn this deployment's own population of callers' voices, kept as
            counts in ``data_dir/arousal-population.json``, and measure the arousal of speakers too
            short for a baseline of their own against it once 20 were heard
            (``CALLSCOPE_AROUSAL_POPULATION``; on by default; off: the shipped prior).
        correct_channel_map: let the words overrule a call's channel map when they contradict it
            with confidence ≥ 0.95 (``CALLSCOPE_CORRECT_CHANNEL_MAP``; off: the map is kept and
            the call's ``role_note`` flags it).
        language: the language of every call (``CALLSCOPE_LANGUAGE``, e.g. ``sv``); unset or ``auto``
            (default): detected per call among ``languages``. An upload's own ``language`` goes first.
        unsupported_language: what to do with a call heard in a language outside ``languages``
            (``CALLSCOPE_UNSUPPORTED_LANGUAGE``): ``stop`` (default) after language ID, with status
            ``unsupported_language`` and the language reported; or ``transcribe`` it in its own
            language (never another), its sentiment marked not validated.
        direction: the direction of every call whose upload gives none and whose queue has none
            below (``CALLSCOPE_DIRECTION``: ``inbound`` or ``outbound``; unset: inferred from the
            words, which is right on most inbound calls and less often on outbound ones).
        direction_by_queue: the direction per queue (``CALLSCOPE_DIRECTION_BY_QUEUE``, e.g.
            ``sales=outbound,collections=outbound,support=inbound``); an upload's own ``direction``
            goes first.
        asr_model: the Whisper model (``CALLSCOPE_ASR_MODEL``): ``base`` (bundled, multilingual), ``tiny.en``
            (bundled, English only; set ``CALLSCOPE_LANGUAGE=en`` with it), or a model registered with
            ``callscope models add``; unset: the registered default model, else ``base``.
        log_level: what the server and the workers log (``CALLSCOPE_LOG_LEVEL``: debug, info,
            warning (default), error). At no level does a log line hold transcript text or what
            was redacted: ids, counts and times only.
        languages: the languages detection may choose among (``CALLSCOPE_LANGUAGES``, comma
            separated; default all supported: en,sv,da,no,fi,de,fr,es,pl).
        model_dirs: per language, a CTranslate2 Whisper directory to transcribe it with
            (``CALLSCOPE_MODEL_DIRS``, e.g. ``sv=/models/whisper-sv,da=/models/whisper-da``); models
            registered for a language (``callscope models add --language``) are used for the others.
        model_dir: a CTranslate2 Whisper directory used instead of the bundled weights for every
            language without a directory of its own (``CALLSCOPE_MODEL_DIR``). When it is English-only,
            other languages (and language detection) go to the bundled multilingual Whisper base.
        reasons_language: the language of the escalation reasons (``CALLSCOPE_REASONS_LANGUAGE``:
            ``en`` or ``sv``; catalogues in ``scoring/locale/``).
        lone_speaker_role: role of the only speaker of a one-speaker recording, e.g. ``customer``
            for a voicemail line (``CALLSCOPE_LONE_SPEAKER_ROLE``; default ``unknown``); an
            upload's own ``lone_speaker_role`` goes first.
        stale_upload_s: an unfinished upload's temporary file untouched for this long (s) is
            swept away (``CALLSCOPE_STALE_UPLOAD_S``, default 3600).
        pseudonym_key: the secret customer identifiers are hashed under (``CALLSCOPE_PSEUDONYM_KEY``,
            at least 32 characters); unset: one made once in ``data_dir/pseudonym.key``, which
            is enough for one machine (see :mod:`callscope.privacy.pseudonyms`).
        redact: replace personal data in transcripts by [KIND] placeholders before anything is
            scored or stored (``CALLSCOPE_REDACT``, default on).
        redact_audio: silence what was redacted in the text in the stored recording too, on the
            speaker's channel, and keep no unredacted copy (``CALLSCOPE_REDACT_AUDIO``, default on).
        redact_pseudonymise: kinds of personal data replaced by a keyed pseudonym, ``[EMAIL:3f9a1c2b7d]``,
            instead of ``[EMAIL]`` (``CALLSCOPE_REDACT_PSEUDONYMISE``, comma separated; the key is
            the pseudonym key above), so that QA can see that two calls name the same address.
        alert_poll_s, alert_retry_s, alert_max_attempts: how often the alert outbox is looked at
            (``CALLSCOPE_ALERT_POLL_S``, 1 s), the first retry's wait (``CALLSCOPE_ALERT_RETRY_S``,
            5 s, doubling up to 15 min) and the attempts before a delivery is dead
            (``CALLSCOPE_ALERT_MAX_ATTEMPTS``, 20).
        digest_hour: the UTC hour from which yesterday's digest is sent (``CALLSCOPE_DIGEST_HOUR``, 6).
        topics_daily: a worker makes yesterday's topic run once a day, when it has nothing else to
            do, and raises its surge and sentiment-drop alerts (``CALLSCOPE_TOPICS_DAILY``, on).
        summary_model, summary_budget_s: a GGUF model file a worker writes each call's summary
            with after storing its analysis (``CALLSCOPE_SUMMARY_MODEL``, none: extractive only;
            llama-cpp-python must be installed), and the seconds it may take per call
            (``CALLSCOPE_SUMMARY_BUDGET_S``, 30); past it, the extractive summary stands.
        webhook_allow: networks webhooks may go to besides public addresses
            (``CALLSCOPE_WEBHOOK_ALLOW``, CIDR, comma separated, e.g. ``10.20.0.0/16``; default
            none): loopback, private, link-local and multicast targets are refused otherwise
            (:mod:`callscope.alerts.egress`).
        sentiment_head: a sentiment head file to score with instead of the shipped one
            (``CALLSCOPE_SENTIMENT_HEAD``), e.g. one ``callscope calibrate --sentiment`` wrote;
            setting it (on the server and every worker) is what activates a recalibration.
        spot_check_share: the share of each day's analysed calls drawn for QA review
            (``CALLSCOPE_SPOT_CHECK_SHARE``, 0.05; 0.01 to 0.20); drawn at the retention sweep after the day.
        review_due_red_h, review_due_orange_h: how soon a red / orange call in the review queue is
            due, hours after its analysis (``CALLSCOPE_REVIEW_DUE_RED_H``, 1;
            ``CALLSCOPE_REVIEW_DUE_ORANGE_H``, 4).
        review_due_sample_days: how soon the spot-check sample is due, working days (Monday to
            Friday) after it is drawn (``CALLSCOPE_REVIEW_DUE_SAMPLE_DAYS``, 2).
        repeat_days, repeat_same_reason, churn_days: the customer journeys
            (:mod:`callscope.qa.journeys`): another contact from the same customer within
            ``CALLSCOPE_REPEAT_DAYS`` (7; 1 to 90) is a repeat contact, about the same contact
            reason only with ``CALLSCOPE_REPEAT_SAME_REASON`` (off); churn-risk signals are read
            from the last ``CALLSCOPE_CHURN_DAYS`` (90; 7 to 730) of a customer's contacts.
        keep_original: keep the unredacted upload of a call whose recording was redacted, sealed
            at rest with AES-256-GCM (``CALLSCOPE_KEEP_ORIGINAL``, default off: not kept). Only
            admin keys read it back (``GET /v1/calls/{id}/audio/original``), each read logged.
        original_key: the key originals are sealed under (``CALLSCOPE_ORIGINAL_KEY``: 32 random
            bytes, URL-safe base64; needed with ``keep_original``). Losing it loses the originals.
        redact_keep: kinds of personal data to leave in transcripts (``CALLSCOPE_REDACT_KEEP``,
            comma separated, e.g. ``PHONE``).
        access_log_days: how long the log of who read which transcript or audio is kept, days
            (``CALLSCOPE_ACCESS_LOG_DAYS``, default 365); swept every ``retention_check_s``.
    """

    model_config = SettingsConfigDict(env_prefix="CALLSCOPE_", extra="ignore", frozen=True)

    data_dir: Path = Path("callscope-data")
    database_url: str = ""
    audio_store: str = ""
    keyring: str = ""
    max_upload_mb: Annotated[float, Field(gt=0)] = 500.0
    max_request_mb: Annotated[float, Field(gt=0)] = 2048.0
    max_files_per_request: Annotated[int, Field(ge=1, le=10_000)] = 100
    max_form_fields: Annotated[int, Field(ge=1, le=1000)] = 30
    max_field_bytes: Annotated[int, Field(ge=16, le=1_048_576)] = 4096
    max_duration_h: Annotated[float, Field(gt=0, le=24)] = 4.0
    worker_memory_mb: Annotated[int, Field(ge=512)] = 6144
    lease_s: Annotated[float, Field(gt=0)] = 60.0
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 3
    retry_backoff_s: Annotated[float, Field(ge=0)] = 5.0
    auth: bool = True
    retention_days: Annotated[int | None, Field(ge=1, le=365_000)] = None
    retention_check_s: Annotated[float, Field(gt=0)] = 3600.0
    rate_limit_per_key: str | None = "1200/minute"
    rate_limit_per_ip: str | None = "2400/minute"
    rate_limit_storage: str = "database"
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 12.0
    metrics_token: str | None = None
    agent_acoustic_emotion: bool = False
    arousal_population: bool = True
    correct_channel_map: bool = False
    lone_speaker_role: Literal["agent", "customer", "unknown"] = "unknown"
    language: Language | None = None
    unsupported_language: Literal["stop", "transcribe"] = "stop"
    direction: Literal["inbound", "outbound"] | None = None
    direction_by_queue: str = ""
    asr_model: str = ""
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    languages: str = ",".join(SUPPORTED_LANGUAGES)
    reasons_language: Literal["en", "sv"] = "en"
    model_dirs: str = ""
    model_dir: Path | None = None
    stale_upload_s: Annotated[float, Field(gt=0)] = 3600.0
    pseudonym_key: Annotated[SecretStr | None, Field(min_length=32)] = None
    access_log_days: Annotated[float, Field(gt=0, le=365_000)] = 365.0
    redact: bool = True
    redact_audio: bool = True
    redact_keep: str = ""
    redact_pseudonymise: str = ""
    keep_original: bool = False
    alert_poll_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    alert_retry_s: Annotated[float, Field(gt=0, le=3600)] = 5.0
    alert_max_attempts: Annotated[int, Field(ge=1, le=100)] = 20
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 6
    topics_daily: bool = True
    summary_model: Path | None = None
    summary_budget_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    webhook_allow: str = ""
    spot_check_share: Annotated[float, Field(ge=0.01, le=0.20)] = 0.05
    review_due_red_h: Annotated[float, Field(gt=0, le=24 * 30)] = 1.0
    review_due_orange_h: Annotated[float, Field(gt=0, le=24 * 30)] = 4.0
    review_due_sample_days: Annotated[int, Field(ge=1, le=60)] = 2
    repeat_days: Annotated[float, Field(ge=1, le=90)] = 7.0
    repeat_same_reason: bool = False
    churn_days: Annotated[float, Field(ge=7, le=730)] = 90.0
    sentiment_head: Path | None = None
    original_key: SecretStr | None = None

    @field_validator("audio_store")
    def _a_directory(cls, v: str) -> str:
        if "://" in v:
            raise ValueError(f"{v!r}: give a directory (a local disk, or a shared file system every machine mounts); "
                             "object-store URLs such as s3:// are not supported")
        return v

    @field_validator("redact_keep", "redact_pseudonymise")
    @classmethod
    def _known_kinds(cls, v: str) -> str:
        RedactionPolicy.keeping([v])  # ValueError names an unknown kind
        return v

    @property
    def review_delays(self):
        """The review queue's due times (:class:`~callscope.qa.review_queue.ReviewDelays`)."""
        from callscope.qa.review_queue import ReviewDelays

        return ReviewDelays(self.review_due_red_h, self.review_due_orange_h, self.review_due_sample_days)

    @property
    def journey_rules(self):
        """Repeat window and churn window (:class:`~callscope.qa.journeys.JourneyRules`)."""
        from callscope.qa.journeys import JourneyRules

        return JourneyRules(self.repeat_days, self.repeat_same_reason, self.churn_days)

    @property
    def redaction(self) -> RedactionPolicy:
        """What the deployment redacts (``redact``, ``redact_keep``, ``redact_pseudonymise`` with
        the deployment's secret)."""
        from callscope.privacy.pseudonyms import deployment_secret

        return RedactionPolicy.keeping([self.redact_keep], enabled=self.redact, pseudonymise=[self.redact_pseudonymise],
                                       secret=deployment_secret(self) if self.redact_pseudonymise.strip() else None)

    @field_validator("sentiment_head")
    @classmethod
    def _a_head_file(cls, v: Path | None) -> Path | None:
        if v is not None and not Path(v).is_file():
            raise ValueError(f"{v} is not a file (a sentiment head, .npz)")
        return v

    @field_validator("original_key")
    @classmethod
    def _a_256_bit_key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            from callscope.privacy.sealed import parse_key

            parse_key(v.get_secret_value())  # ValueError says what is wrong with it
        return v

    @property
    def opening_key(self) -> bytes | None:
        """The key sealed originals open with (``original_key``), None if unset."""
        from callscope.privacy.sealed import parse_key

        return parse_key(self.original_key.get_secret_value()) if self.original_key else None

    @property
    def sealing_key(self) -> bytes | None:
        """The key new originals are sealed under when the deployment keeps them, else None."""
        return self.opening_key if self.keep_original else None

    @field_validator("retention_days", "pseudonym_key", "original_key", "sentiment_head", mode="before")
    @classmethod
    def _empty_is_unset(cls, v):
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("rate_limit_storage")
    @classmethod
    def _a_storage(cls, v: str) -> str:
        v = v.strip()
        if v != "database" and "://" not in v:
            raise ValueError(f"{v!r}: give 'database', or a limits storage URL such as redis://host:6379 or memory://")
        return v

    @field_validator("rate_limit_per_key", "rate_limit_per_ip", mode="before")
    @classmethod
    def _check_rate(cls, v):
        return _rate(v)

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, v):
        if isinstance(v, str):  # "auto" (as `callscope analyze --language` takes it) or empty: detected per call
            v = v.strip().lower()
            return None if v in ("", "auto") else v
        return v

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: str) -> str:
        return ",".join(parse_languages(v))

    @field_validator("model_dirs")
    @classmethod
    def _model_dirs(cls, v: str) -> str:
        parse_model_dirs(v)
        return v

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, v):
        return (v.strip().lower() or None) if isinstance(v, str) else v

    @field_validator("webhook_allow")
    @classmethod
    def _networks(cls, v: str) -> str:
        from callscope.alerts.egress import EgressPolicy

        EgressPolicy.parse(v)  # ValueError names the entry that is not a network
        return v

    @property
    def egress(self):
        """Where webhooks may go: an :class:`~callscope.alerts.egress.EgressPolicy` (public addresses,
        plus the networks in ``webhook_allow``)."""
        from callscope.alerts.egress import EgressPolicy

        return EgressPolicy.parse(self.webhook_allow)

    @field_validator("direction_by_queue")
    @classmethod
    def _queue_directions(cls, v: str) -> str:
        parse_queue_directions(v)
        return v

    def direction_for(self, queue: str | None) -> str | None:
        """The deployment's direction for a call in ``queue`` (its queue's, else the default)."""
        return parse_queue_directions(self.direction_by_queue).get(queue, self.direction) if queue else self.direction

    @field_validator("asr_model")
    @classmethod
    def _a_known_model(cls, v: str) -> str:
        from callscope.transcription import model_registry

        v = v.strip()
        if v and v not in ("base", "tiny.en"):
            registered = model_registry.load()
            if v not in registered:
                raise ValueError(f"{v!r}: give base, tiny.en or a model registered with `callscope models add` "
                                 f"(registered: {', '.join(registered) or 'none'})")
        return v

    @property
    def whisper_model(self) -> str:
        """The Whisper model calls are transcribed with (``asr_model``, else the registered
        default, else base)."""
        from callscope.transcription import model_registry

        default = model_registry.default_model()
        return self.asr_model or (default.name if default else "base")

    @property
    def allowed_languages(self) -> tuple[str, ...]:
        return parse_languages(self.languages)

    @property
    def language_model_dirs(self) -> tuple[tuple[str, str], ...]:
        """``model_dirs`` as (language, directory) pairs, then the registered models for the
        languages those do not name."""
        from callscope.transcription import model_registry

        given = parse_model_dirs(self.model_dirs)
        named = {lang for lang, _ in given}
        return given + tuple((lang, path) for lang, path in model_registry.language_dirs() if lang not in named)

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _token(cls, v):
        return v or None

    @model_validator(mode="after")
    def _resolve(self) -> "ServiceSettings":
        object.__setattr__(self, "data_dir", Path(self.data_dir).resolve())
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'callscope.db'}")
        if self.max_request_mb < self.max_upload_mb:
            object.__setattr__(self, "max_request_mb", self.max_upload_mb)
        RedactionPolicy.keeping([self.redact_keep], pseudonymise=[self.redact_pseudonymise], enabled=False)
        if self.keep_original and self.original_key is None:
            raise ValueError("CALLSCOPE_KEEP_ORIGINAL needs CALLSCOPE_ORIGINAL_KEY (32 bytes, URL-safe base64) to seal "
                             "the originals with")
        return self

    @property
    def audio_dir(self) -> Path:
        """The audio store's directory (``CALLSCOPE_AUDIO_STORE``, else ``data_dir/audio``)."""
        return Path(self.audio_store).resolve() if self.audio_store else self.data_dir / "audio"

    @property
    def keyring_file(self) -> Path:
        """The keyring of call keys (``CALLSCOPE_KEYRING``, else ``data_dir/call-keys.keyring``)."""
        from callscope.privacy.call_keys import KEYRING_NAME

        return Path(self.keyring).resolve() if self.keyring else self.data_dir / KEYRING_NAME

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * _MB)

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * _MB)

    @property
    def max_duration_s(self) -> float:
        return self.max_duration_h * 3600.0

    @classmethod
    def from_env(cls, **overrides) -> "ServiceSettings":
        """The settings from the environment, ``overrides`` (field names) on top.

        Raises:
            ConfigError: naming each invalid variable and why.
        """
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                name = "CALLSCOPE_" + "_".join(str(p) for p in e["loc"]).upper() if e["loc"] else "settings"
                problems.append(f"{name}: {e['msg'].removeprefix('Value error, ')}")
            raise ConfigError("invalid setting(s): " + "; ".join(problems)) from None
