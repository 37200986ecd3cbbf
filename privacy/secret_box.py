"""Secrets the service must use again but never show (webhook signing secrets), stored encrypted.

A stored value is ``enc1:`` and the URL-safe base64 of a random 96-bit nonce and the AES-256-GCM
ciphertext; the key is derived (HKDF-SHA256) from the deployment's secret
(``CALLSCOPE_PSEUDONYM_KEY``, else ``<data_dir>/pseudonym.key``) with a label per purpose, so a
copy of the database alone (a dump, a backup, a stolen disk of the database server) does not hold
them. The associated data binds a value to its row, so one cannot be moved onto another.
A value without the prefix is one stored before encryption; :func:`seal_plain_webhook_secrets`
encrypts those at start.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

PREFIX = "enc1:"
WEBHOOK_SECRETS = b"callscope/webhook-secrets/1"


class SecretBoxError(ValueError):
    """A stored secret that does not open with this deployment's key (another deployment's
    database, or a changed ``CALLSCOPE_PSEUDONYM_KEY``)."""


def derive_key(deployment_secret: bytes, purpose: bytes) -> bytes:
    """A 256-bit key for ``purpose`` from the deployment's secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(deployment_secret)


def seal_text(plain: str, key: bytes, bound_to: str, prefix: str = PREFIX) -> str:
    """``plain`` encrypted under ``key``, bound to ``bound_to`` (e.g. ``webhook:7``), marked by
    ``prefix`` (call values use their own, :mod:`callscope.privacy.call_keys`)."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plain.encode(), bound_to.encode())
    return prefix + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_text(stored: str, key: bytes, bound_to: str, prefix: str = PREFIX) -> str:
    """The plaintext of a value from :func:`seal_text` (a value stored before encryption is
    returned as it is); SecretBoxError if it does not open."""
    if not stored.startswith(prefix):
        return stored
    raw = base64.urlsafe_b64decode(stored[len(prefix):].encode())
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], bound_to.encode()).decode()
    except InvalidTag as exc:
        raise SecretBoxError(f"the secret of {bound_to} does not open with this deployment's key") from exc


def webhook_key(settings) -> bytes:
    """The key webhook secrets are sealed under, for the deployment ``settings`` describe."""
    from callscope.privacy.pseudonyms import deployment_secret

    return derive_key(deployment_secret(settings), WEBHOOK_SECRETS)


def seal_plain_webhook_secrets(sessions: sessionmaker, key: bytes) -> int:
    """Encrypt the secrets of subscriptions made before secrets were encrypted; how many."""
    from callscope.store.db import Webhook

    with sessions() as s:
        plain = s.execute(select(Webhook.id, Webhook.secret).where(Webhook.secret.not_like(PREFIX + "%"))).all()
        for hook_id, secret in plain:
            s.execute(update(Webhook).where(Webhook.id == hook_id, Webhook.secret == secret)
                      .values(secret=seal_text(secret, key, f"webhook:{hook_id}")))
        s.commit()
    return len(plain)
