"""API keys: created by an admin (``callscope keys create`` or ``POST /v1/keys``), shown once,
stored as a SHA-256 of the secret. A key has scopes:

* ``read``: calls, transcripts, timelines, audio, lists, aggregates, feeds, corrections;
* ``upload``: ``POST /v1/calls``;
* ``review``: corrections, evaluations, comments, the review queue (QA reviewers);
* ``lead``: a QA or team lead: acknowledges, disputes and resolves evaluations, assigns the review
  queue, runs calibration sessions (with ``review`` for the rest of a reviewer's work);
* ``agent``: one agent's own evaluations and coaching (``GET /v1/me/evaluations``) and nothing
  else: the key is bound to an agent id (``--agent-id``), and sees no transcript, audio or
  other agent's call;
* ``admin``: everything, including erasure, retention purges and key management.

A request names its key in ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. No key or an
unknown or revoked key: 401; a key without the scope: 403.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from callscope.store.db import ApiKey, utcnow

SCOPES = ("read", "upload", "review", "lead", "agent", "admin")
KEY_PREFIX = "cs_"
_LAST_USED_EVERY = timedelta(minutes=1)  # at most one write per key per minute for last_used_at


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and name (None/"anonymous" with auth off), its scopes and,
    for an ``agent`` key, the agent it is bound to."""

    key_id: int | None
    name: str
    scopes: frozenset[str]
    agent_id: str | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


ANONYMOUS_ADMIN = Principal(None, "anonymous", frozenset({"admin"}))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes: list[str] | str) -> list[str]:
    """Scopes as a sorted list, from ``"read,review"`` or ``["read", "review"]`` or both mixed
    (``--scope read,review`` as the README writes it); raises ValueError naming an unknown one."""
    items = [part for item in ([scopes] if isinstance(scopes, str) else scopes) for part in item.split(",")]
    out = sorted({s.strip() for s in items if s.strip()})
    unknown = [s for s in out if s not in SCOPES]
    if unknown or not out:
        raise ValueError(f"unknown scope(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SCOPES)}")
    return out


def create_key(session: Session, name: str, scopes: list[str] | str, agent_id: str | None = None) -> tuple[ApiKey, str]:
    """A new key row and the key itself (``cs_<prefix>_<secret>``), which is not stored and
    cannot be shown again. An ``agent`` key needs ``agent_id`` and no other scope (ValueError)."""
    parsed = parse_scopes(scopes)
    if "agent" in parsed and (parsed != ["agent"] or not agent_id):
        raise ValueError("an agent key has the agent scope alone and names its agent (--agent-id)")
    if agent_id and "agent" not in parsed:
        raise ValueError("--agent-id belongs to a key with the agent scope")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=prefix, secret_sha256=_digest(secret), scopes=",".join(parsed), agent_id=agent_id)
    session.add(row)
    session.flush()
    return row, f"{KEY_PREFIX}{prefix}_{secret}"


def verify(sessions: sessionmaker, presented: str) -> Principal | None:
    """The principal for a presented key, or None if it is malformed, unknown or revoked."""
    if not presented.startswith(KEY_PREFIX) or presented.count("_") < 2:
        return None
    prefix, secret = presented[len(KEY_PREFIX):].split("_", 1)
    with sessions() as s:
        row = s.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one_or_none()
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_sha256, _digest(secret)):
            return None
        now = utcnow()
        last = row.last_used_at
        if last is not None and last.tzinfo is None:  # SQLite keeps no zone; stored times are UTC
            last = last.replace(tzinfo=now.tzinfo)
        if last is None or now - last > _LAST_USED_EVERY:
            s.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
            s.commit()
        return principal_of(row)


def principal_of(row: ApiKey) -> Principal:
    """The principal an API key row stands for."""
    return Principal(row.id, row.name, frozenset(row.scopes.split(",")), row.agent_id)


def describe(row: ApiKey) -> dict:
    """A key as listings show it (never the secret)."""
    return {"id": row.id, "name": row.name, "prefix": f"{KEY_PREFIX}{row.prefix}", "scopes": row.scopes.split(","), "agent_id": row.agent_id,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}
