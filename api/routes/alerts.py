"""Routes for alerts: webhook subscriptions (admin) and the record of every delivery (status,
attempts, response code), with a retry for dead ones. What raises an alert: :mod:`.alerts`;
how it is sent and signed: :mod:`.delivery`."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field, HttpUrl
from sqlalchemy import select, update

from callscope.alerts.egress import EgressRefused
from callscope.api.deps import Admin, Svc
from callscope.api.responses import AlertDeliveryOut, AlertListOut, WebhookListOut, WebhookOut
from callscope.privacy.secret_box import seal_text, webhook_key
from callscope.store.db import AlertDelivery, Webhook, utcnow

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class WebhookIn(BaseModel):
    url: HttpUrl = Field(description="where alerts are POSTed (http or https)")
    secret: str = Field(min_length=16, max_length=200, description="the receiver checks X-Callscope-Signature with it")
    events: list[Literal["call", "window", "digest"]] = Field(min_length=1, description="call: a call at min_level or "
                                                             "worse or matching an alerting category; window: window "
                                                             "alerts; digest: yesterday's summary")
    min_level: Literal["yellow", "orange", "red"] = "red"


def _describe(h: Webhook) -> dict:
    return {"id": h.id, "url": h.url, "events": h.events.split(","), "min_level": h.min_level, "active": h.active,
            "created_by": h.created_by, "created_at": h.created_at.isoformat()}


def _delivery(d: AlertDelivery) -> dict:
    return {"id": d.id, "webhook_id": d.webhook_id, "event": d.event, "call_id": d.call_id, "status": d.status,
            "attempts": d.attempts, "last_status_code": d.last_status_code, "last_error": d.last_error,
            "next_attempt_at": d.next_attempt_at.isoformat() if d.status == "pending" else None,
            "created_at": d.created_at.isoformat(), "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "payload": json.loads(d.payload_json)}


@router.post("/v1/webhooks", status_code=201, response_model=WebhookOut)
def add_webhook(body: WebhookIn, svc: Svc, who: Admin) -> dict:
    """Subscribe a URL to alerts; deliveries are signed with ``secret`` (stored encrypted, never
    shown again). The URL must pass the egress policy (public addresses, plus
    ``CALLSCOPE_WEBHOOK_ALLOW``): otherwise a 422 says why."""
    try:
        svc.settings.egress.check(str(body.url))
    except EgressRefused as exc:
        raise HTTPException(422, f"url: {exc}") from None
    with svc.sessions() as s:
        h = Webhook(url=str(body.url), secret="", events=",".join(dict.fromkeys(body.events)),
                    min_level=body.min_level, active=True, created_by=who.name, created_at=utcnow())
        s.add(h)
        s.flush()  # the id the sealed secret is bound to
        h.secret = seal_text(body.secret, webhook_key(svc.settings), f"webhook:{h.id}")
        s.commit()
        return _describe(h)


@router.get("/v1/webhooks", response_model=WebhookListOut)
def list_webhooks(svc: Svc, _who: Admin) -> dict:
    with svc.sessions() as s:
        return {"webhooks": [_describe(h) for h in s.execute(select(Webhook).order_by(Webhook.id)).scalars()]}


@router.delete("/v1/webhooks/{webhook_id}", response_model=WebhookOut)
def remove_webhook(webhook_id: Id, svc: Svc, _who: Admin) -> dict:
    """Stop sending to a subscription: its pending deliveries (retries included) are cancelled
    at once; its delivery record is kept."""
    with svc.sessions() as s:
        if s.execute(update(Webhook).where(Webhook.id == webhook_id).values(active=False)).rowcount != 1:
            raise HTTPException(404, f"no webhook {webhook_id}")
        s.execute(update(AlertDelivery).where(AlertDelivery.webhook_id == webhook_id, AlertDelivery.status == "pending")
                  .values(status="cancelled", last_error="the subscription was deleted"))
        s.commit()
        return _describe(s.get(Webhook, webhook_id))


@router.get("/v1/alerts", response_model=AlertListOut)
def list_alerts(svc: Svc, _who: Admin,
                status: Annotated[str | None, Query(pattern="^(pending|delivered|dead|cancelled)$")] = None,
                webhook_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict:
    """Alert deliveries, newest first: event, payload, status, attempts, last response code or error."""
    q = select(AlertDelivery).order_by(AlertDelivery.id.desc()).limit(limit)
    if status:
        q = q.where(AlertDelivery.status == status)
    if webhook_id:
        q = q.where(AlertDelivery.webhook_id == webhook_id)
    with svc.sessions() as s:
        return {"alerts": [_delivery(d) for d in s.execute(q).scalars()]}


@router.post("/v1/alerts/{delivery_id}/retry", response_model=AlertDeliveryOut)
def retry_alert(delivery_id: Id, svc: Svc, _who: Admin) -> dict:
    """Send a dead (or pending) delivery again now, with a fresh count of attempts (not one of a
    deleted subscription)."""
    with svc.sessions() as s:
        live = select(Webhook.id).where(Webhook.active.is_(True))
        r = s.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id,
                                                  AlertDelivery.status.in_(("pending", "dead")),
                                                  AlertDelivery.webhook_id.in_(live))
                      .values(status="pending", attempts=0, next_attempt_at=utcnow()))
        if r.rowcount != 1:
            raise HTTPException(404, f"no undelivered alert {delivery_id} of a subscription still active")
        s.commit()
        return _delivery(s.get(AlertDelivery, delivery_id))
