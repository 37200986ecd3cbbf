"""Sign-in sessions of the QA app. A reviewer enters an API key once; the browser then holds a
random session token in a cookie (HttpOnly, SameSite=Strict, Secure over HTTPS), never the key
and never in a URL. The database keeps the token's SHA-256, the key it stands for, a CSRF token
and the expiry. A request authenticated by the cookie that changes something (any method but
GET/HEAD/OPTIONS) must also send the CSRF token in ``X-CSRF-Token``; a revoked key or an expired
session is refused like a bad key. Signing out deletes the row."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from callscope.service.auth import Principal, principal_of
from callscope.store.db import ApiKey, WebSession, utcnow

COOKIE = "callscope_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_token(cookie_header: str) -> str | None:
    """The session token in a ``Cookie`` header, or None."""
    if not cookie_header:
        return None
    try:
        jar = SimpleCookie(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel and morsel.value else None


def start(sessions: sessionmaker, key_id: int, hours: float) -> tuple[str, str]:
    """A new session for API key ``key_id`` lasting ``hours``: (cookie token, CSRF token).
    Expired sessions are removed on the way."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    with sessions() as s:
        s.execute(delete(WebSession).where(WebSession.expires_at < now))
        s.add(WebSession(token_sha256=_digest(token), api_key_id=key_id, csrf=csrf, created_at=now,
                         expires_at=now + timedelta(hours=hours)))
        s.commit()
    return token, csrf


def principal(sessions: sessionmaker, token: str) -> tuple[Principal, str] | None:
    """The principal and CSRF token of a live session (its key not revoked), or None."""
    with sessions() as s:
        row = s.execute(select(WebSession, ApiKey).join(ApiKey, ApiKey.id == WebSession.api_key_id)
                        .where(WebSession.token_sha256 == _digest(token))).first()
    if row is None:
        return None
    web, key = row
    if key.revoked_at is not None or web.expires_at <= utcnow():
        return None
    return principal_of(key), web.csrf


def csrf_ok(expected: str, sent: str | None) -> bool:
    return sent is not None and bool(sent) and hmac.compare_digest(expected.encode(), sent.encode())


def end(sessions: sessionmaker, token: str) -> bool:
    """Delete the session (signing out); whether there was one."""
    with sessions() as s:
        gone = s.execute(delete(WebSession).where(WebSession.token_sha256 == _digest(token))).rowcount
        s.commit()
    return bool(gone)
