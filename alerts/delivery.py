"""Sending the alerts in the outbox (:class:`~callscope.store.db.AlertDelivery`) to their webhooks.

Each delivery is a ``POST`` of its JSON payload with the headers ``X-Callscope-Event``,
``X-Callscope-Delivery`` (its id: receivers drop repeats), ``X-Callscope-Timestamp`` (Unix
seconds) and ``X-Callscope-Signature: sha256=<hex>``, the HMAC-SHA256 under the subscription's
secret of ``<timestamp>.<body>``. A 2xx answer delivers it; anything else (an error status, a
refused connection, a timeout) schedules the next attempt after ``retry_base_s`` × 2^(attempts−1),
at most 15 minutes, until ``max_attempts``; then it is ``dead`` (kept, and can be retried over
the API). A target outside the egress policy (:mod:`.egress`) is ``dead`` at once; deleting a
subscription makes its pending deliveries ``cancelled``. Several processes may run a dispatcher: a row is claimed by moving its next attempt
forward in one conditional update, so each attempt is made once. The API server runs one, and
so does every ``callscope worker`` process, so alerts go out whichever of them is running.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from callscope.alerts import outbox as alerts
from callscope.alerts.egress import EgressPolicy, EgressRefused, pinned_request
from callscope.privacy.secret_box import SecretBoxError, open_text, webhook_key
from callscope.store.db import AlertDelivery, Webhook, utcnow

log = logging.getLogger("callscope.alerts")
CLAIM_S = 60.0  # a claimed delivery is not tried by another process for this long
DIGEST_EVERY_POLLS = 10  # the digest is looked at every tenth round, not every round
MAX_BACKOFF_S = 900.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Callscope-Signature`` value: ``sha256=`` and the HMAC of ``<timestamp>.<body>``."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


NO_ANSWER = "no answer from the receiver (it could not be reached, refused the connection or did not answer in time)"


class Dispatcher:
    """Delivers due alerts every ``poll_s`` seconds and queues the daily digest after ``digest_hour`` (UTC).

    Every attempt checks the URL against ``egress`` (:mod:`.egress`) and connects to the address
    it checked; a target the policy refuses makes the delivery ``dead`` at once, without a
    request. Errors are recorded without telling why a connection failed (refused, reset or
    timed out read the same), so the record of deliveries is no port scanner. A delivery whose
    subscription was deleted is not sent."""

    def __init__(self, sessions: sessionmaker, poll_s: float = 1.0, retry_base_s: float = 5.0, max_attempts: int = 20,
                 timeout_s: float = 5.0, digest_hour: int = 6, egress: EgressPolicy | None = None,
                 secret_key: bytes | None = None) -> None:
        """``egress``: where deliveries may go (default: public addresses only); ``secret_key``:
        the key subscriptions' secrets are sealed under (:func:`.secret_box.webhook_key`)."""
        self.sessions = sessions
        self.poll_s, self.retry_base_s, self.max_attempts = poll_s, retry_base_s, max_attempts
        self.digest_hour = digest_hour
        self.egress = egress or EgressPolicy()
        self.secret_key = secret_key
        self.client = httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False)
        self.stop = threading.Event()
        self._rounds = 0

    @classmethod
    def for_settings(cls, sessions: sessionmaker, settings) -> "Dispatcher":
        """The dispatcher a deployment's :class:`~callscope.service.config.ServiceSettings` describe."""
        return cls(sessions, poll_s=settings.alert_poll_s, retry_base_s=settings.alert_retry_s,
                   max_attempts=settings.alert_max_attempts, digest_hour=settings.digest_hour,
                   egress=settings.egress, secret_key=webhook_key(settings))

    def _claim(self, limit: int = 20) -> list[int]:
        now = utcnow()
        with self.sessions() as s:
            due = s.execute(select(AlertDelivery.id).join(Webhook, Webhook.id == AlertDelivery.webhook_id)
                            .where(AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now,
                                   Webhook.active.is_(True))
                            .order_by(AlertDelivery.id).limit(limit)).scalars().all()
            claimed = []
            for did in due:
                r = s.execute(update(AlertDelivery).where(AlertDelivery.id == did, AlertDelivery.status == "pending",
                                                          AlertDelivery.next_attempt_at <= now)
                              .values(next_attempt_at=now + timedelta(seconds=CLAIM_S)))
                if r.rowcount == 1:
                    claimed.append(did)
            s.commit()
        return claimed

    def _secret(self, hook: Webhook) -> str:
        if self.secret_key is None:
            return hook.secret
        return open_text(hook.secret, self.secret_key, f"webhook:{hook.id}")

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[bool, int | None, str | None, bool]:
        """One attempt: (delivered, HTTP status, error, final: retrying cannot help)."""
        try:
            target = self.egress.check(url)
        except EgressRefused as exc:
            return False, None, f"refused by the egress policy: {exc}", True
        try:
            r = self.client.send(pinned_request(self.client, target, body, headers))
        except httpx.HTTPError:
            return False, None, NO_ANSWER, False
        ok = 200 <= r.status_code < 300
        return ok, r.status_code, None if ok else f"HTTP {r.status_code}", False

    def _send(self, delivery_id: int) -> None:
        with self.sessions() as s:
            d = s.get(AlertDelivery, delivery_id)
            hook = s.get(Webhook, d.webhook_id) if d is not None else None
            if d is None or hook is None or not hook.active or d.status != "pending":
                return  # the subscription was deleted since the claim: nothing goes out
            try:
                secret = self._secret(hook)
            except SecretBoxError as exc:
                s.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id)
                          .values(status="dead", last_error=str(exc)))
                s.commit()
                return
            body, url, event, attempts = d.payload_json.encode(), hook.url, d.event, d.attempts
        ts = str(int(time.time()))
        ok, code, error, final = self._post(url, body, {
            "Content-Type": "application/json", "X-Callscope-Event": event, "X-Callscope-Delivery": str(delivery_id),
            "X-Callscope-Timestamp": ts, "X-Callscope-Signature": signature(secret, ts, body)})
        attempts += 1
        now = utcnow()
        with self.sessions() as s:
            if ok:
                values = {"status": "delivered", "delivered_at": now, "last_error": None}
            elif final or attempts >= self.max_attempts:
                values = {"status": "dead", "last_error": error}
                log.warning("alert %d to webhook %d is dead after %d attempts: %s", delivery_id, d.webhook_id, attempts, error)
            else:
                wait = min(MAX_BACKOFF_S, self.retry_base_s * 2 ** (attempts - 1))
                values = {"next_attempt_at": now + timedelta(seconds=wait), "last_error": error}
            s.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id, AlertDelivery.status == "pending")
                      .values(attempts=attempts, last_status_code=code, **values))
            s.commit()

    def _digest(self) -> None:
        now = utcnow()
        if now.hour < self.digest_hour:
            return
        with self.sessions() as s:
            if alerts.digest_due(s, now.date() - timedelta(days=1)):
                s.commit()

    def run_once(self) -> int:
        """One round: the digest if due, then every due delivery; how many were attempted."""
        if self._rounds % DIGEST_EVERY_POLLS == 0:
            self._digest()
        self._rounds += 1
        claimed = self._claim()
        for did in claimed:
            self._send(did)
        return len(claimed)

    def run_forever(self) -> None:
        while not self.stop.is_set():
            try:
                if self.run_once():
                    continue  # more may be due
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("alert delivery round failed")
            self.stop.wait(self.poll_s)
        self.client.close()
