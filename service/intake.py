"""How a recording becomes a call: the metadata an upload (or a backfill manifest row) may carry,
checked the same way for both, and the call row it makes.

Both the HTTP upload (:mod:`callscope.api.routes.calls`) and ``callscope backfill --into-service``
(:mod:`callscope.backfill.service_sink`) go through here, so a backfilled call is stored exactly
as an uploaded one: the same columns, the same keyed hashes of customer identifiers, the same
idempotency on (content SHA-256, external id).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from pydantic import ConfigDict, Field

from callscope.analysis.call_settings import CallSettings
from callscope.privacy.call_keys import destroy, seal_value
from callscope.privacy.pseudonyms import normalise_phone, pseudonym
from callscope.store.db import Call, insert_for, utcnow

#: Days the service handles (a recorded_at outside is refused).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
#: How far ahead of the server's clock a recorded_at may be (a local time sent without its zone,
#: a skewed clock); later ones are refused: retention counts from the call time, and a call
#: recorded in the future would be kept past it.
FUTURE_SLACK = timedelta(days=1)


class UploadMeta(CallSettings):
    """The metadata fields of an upload (all optional), validated like any request body: the call's
    own analysis settings (:class:`~callscope.analysis.call_settings.CallSettings`, declared there)
    and what is stored with the call."""

    model_config = ConfigDict(extra="ignore", frozen=False)

    agent_id: str | None = Field(None, max_length=200)
    team: str | None = Field(None, max_length=200)
    queue: str | None = Field(None, max_length=200)
    product: str | None = Field(None, max_length=200)
    channel: str | None = Field(None, max_length=100)
    external_id: str | None = Field(None, max_length=200)
    recorded_at: datetime | None = Field(None, description="ISO 8601; without a zone it is taken as UTC")
    customer_id: str | None = Field(None, max_length=200, description="the customer's id in your systems: stored "
                                    "only as a keyed hash (customer_ref), for joins and erasure by subject")
    customer_phone: str | None = Field(None, max_length=50, description="the customer's phone number: stored only as "
                                       "a keyed hash (phone_ref) of its digits")

    def text_fields(self) -> dict[str, str | None]:
        return {k: getattr(self, k) for k in ("agent_id", "team", "queue", "product", "channel", "external_id")}

    def call_settings(self) -> CallSettings | None:
        """The per-call analysis settings this metadata sets (None: the deployment's)."""
        own = {k: getattr(self, k) for k in CallSettings.model_fields if getattr(self, k)}
        return CallSettings(**own) if own else None


class MetaError(ValueError):
    """Metadata the service refuses (HTTP 422 for an upload, a listed failure for a backfill).

    Attributes:
        message: what is wrong, for people.
        details: the fields concerned, where it names them.
        status: the HTTP status an upload answers with.
    """

    def __init__(self, message: str, details: list[str] | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message, self.details, self.status = message, details, status


def checked(meta: UploadMeta, retention_days: int | None,
            direction_for: Callable[[str | None], str | None] | None = None) -> UploadMeta:
    """``meta`` with ``recorded_at`` in UTC, and the deployment's direction for its queue
    (``direction_for``) when it gives none; raises :class:`MetaError` for a phone number that has
    no digits, a NUL character (PostgreSQL cannot store it), a date outside 1970..2999, a
    ``recorded_at`` more than :data:`FUTURE_SLACK` ahead of the clock, or one older than the
    retention period (``retention_days``; None: kept for ever)."""
    deployment_direction = direction_for(meta.queue) if meta.direction is None and direction_for else None
    if deployment_direction:
        meta = meta.model_copy(update={"direction": deployment_direction})
    if meta.customer_phone:
        try:
            normalise_phone(meta.customer_phone)
        except ValueError as exc:
            raise MetaError(f"customer_phone: {exc}", ["customer_phone"]) from None
    bad = [k for k, v in {**meta.text_fields(), "customer_id": meta.customer_id}.items() if v and "\x00" in v]
    if bad:
        raise MetaError("metadata must not contain NUL characters", bad)
    if meta.recorded_at is None:
        return meta
    when = meta.recorded_at
    when = (when.replace(tzinfo=UTC) if when.tzinfo is None else when).astimezone(UTC)
    if not FIRST_DAY <= when.date() <= LAST_DAY:  # after conversion: 1970-01-01T00:30+01:00 is 1969 in UTC
        raise MetaError(f"date {when.date().isoformat()} is outside {FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}",
                        status=400)
    if when > utcnow() + FUTURE_SLACK:
        raise MetaError(f"recorded_at {when.isoformat()} is in the future (more than a day after this server's "
                        "clock): retention counts from the call time, so it is not stored", ["recorded_at"])
    if retention_days is not None and when < utcnow() - timedelta(days=retention_days):
        raise MetaError(f"recorded_at {when.isoformat()} is older than this deployment's retention of "
                        f"{retention_days:g} days (CALLSCOPE_RETENTION_DAYS): the call would have to be erased at "
                        "once, so it is not stored")
    return meta.model_copy(update={"recorded_at": when})


def call_values(meta: UploadMeta, *, sha256: str, key: str, filename: str, size_bytes: int, secret: bytes,
                **columns) -> dict:
    """The columns of a new call row for a recording with SHA-256 ``sha256`` kept at ``key`` in
    the audio store (``columns`` on top: status, result, …). Customer id and phone number become
    keyed hashes under the deployment's ``secret``; their values are not kept."""
    call_settings = meta.call_settings()
    now = utcnow()
    values = dict(id=str(uuid.uuid4()), sha256=sha256, external_id=meta.external_id, filename=filename, audio_key=key,
                  size_bytes=size_bytes, **{k: v for k, v in meta.text_fields().items() if k != "external_id"},
                  channel_map=",".join(meta.channel_map) if meta.channel_map else None, settings_json=call_settings.model_dump_json() if call_settings else None,
                  recorded_at=meta.recorded_at, status="queued", stage=None, progress=0.0,
                  customer_ref=pseudonym(secret, "customer_id", meta.customer_id) if meta.customer_id else None,
                  phone_ref=pseudonym(secret, "phone", meta.customer_phone) if meta.customer_phone else None,
                  created_at=now, updated_at=now)
    values["customer_key"] = values["customer_ref"] or values["phone_ref"]  # the journey's key (qa/journeys.py)
    values.update(columns)
    return values


def insert_call(session, values: dict) -> str | None:
    """Insert a call row unless one with the same (sha256, external_id) exists (atomic, also
    under concurrent uploads); its id, or None if it existed. The file name is sealed under the
    call's new key (:mod:`callscope.privacy.call_keys`), which goes again if the row was not inserted."""
    sealed = {**values, "filename": seal_value(session, values["id"], "filename", values["filename"])}
    stmt = insert_for(session, Call).values(**sealed).on_conflict_do_nothing(index_elements=[Call.sha256, Call.external_id])
    new_id = session.execute(stmt.returning(Call.id)).scalar_one_or_none()
    if new_id is None:
        destroy(session, values["id"])
    return new_id
