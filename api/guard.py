"""The first thing every request meets (a pure ASGI middleware), before any byte of its body is read:

0. a URL (path and query) over :data:`MAX_URL_BYTES`: 414;
1. the per-address rate limit (``CALLSCOPE_RATE_LIMIT_PER_IP``): 429 with ``Retry-After``;
2. for ``/v1`` routes, the API key (a header), or else the QA app's session cookie
   (:mod:`callscope.api.web.sessions`): missing, unknown, revoked or expired → 401; a change
   (not GET/HEAD/OPTIONS) made with the cookie without its CSRF token → 403; then the per-key
   rate limit (``CALLSCOPE_RATE_LIMIT_PER_KEY``) → 429; the caller is kept in
   ``request.state.principal`` for the scope checks;
3. the body size: a ``Content-Length`` over the route's limit → 413 at once (uploads:
   ``CALLSCOPE_MAX_REQUEST_MB``, also for the NDJSON of text interactions; every other body:
   ``JSON_BODY_LIMIT``); a body without a length
   is counted as it streams and cut off at the same limit;
4. on every response ``X-Content-Type-Options: nosniff``, and ``Cache-Control: no-store`` on
   ``/v1`` (transcripts, audio, feeds: nothing is kept by caches or browsers); everywhere but
   the API docs (whose Swagger UI needs inline script), a Content-Security-Policy that allows
   only the app's own scripts, styles, media and connections (no inline script, no CDN), no
   framing and no referrer.

Counters come from the ``limits`` library, kept in the deployment's database by default so that
every API process counts against the same limit (:mod:`callscope.store.rate_store`).
"""

from __future__ import annotations

import math
import time

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callscope.api.deps import error_response
from callscope.api.web import sessions as web_sessions
from callscope.service.auth import ANONYMOUS_ADMIN, verify

#: Longest path plus query string, bytes (the longest filter URL the app makes is under 2 KB).
MAX_URL_BYTES = 8 * 1024
#: Request line and headers the HTTP parser reads before it gives up, bytes. Well above
#: :data:`MAX_URL_BYTES`, so that a long URL is read whole and answered with a 414 by this guard;
#: with h11's 16 KiB default the parser dropped the connection before a byte of the answer
#: reached the client (the client was still sending).
MAX_REQUEST_HEAD_BYTES = 1024 * 1024
#: Largest body of any route but the upload (JSON corrections and keys), bytes.
JSON_BODY_LIMIT = 1024 * 1024
UPLOAD_PATH = "/v1/calls"
BULK_PATH = "/v1/interactions/bulk"  # NDJSON of text interactions: the upload limit too
#: The app's pages, scripts and API answers: only what the app itself serves.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "media-src 'self'; connect-src 'self'; font-src 'self'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")


class BodyTooLarge(HTTPException):
    """A body without ``Content-Length`` went past its limit while streaming (an HTTP 413, so
    that a route reading its body turns it into the JSON error)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is over the limit of {limit} bytes")


def presented_key(headers: dict[bytes, bytes]) -> str | None:
    """The API key sent as ``Authorization: Bearer <key>`` or ``X-API-Key``."""
    auth = headers.get(b"authorization", b"").decode("latin-1").strip()
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    return key or None


class RateLimits:
    """Per-key and per-address limits (None: off) over one ``limits`` storage: ``database`` (the
    deployment's database, shared by every API process, fixed windows:
    :class:`~callscope.store.rate_store.DatabaseStorage`), or a ``limits`` storage URL such as
    ``redis://host:6379`` (shared, moving window) or ``memory://`` (this process alone)."""

    def __init__(self, per_key: str | None, per_ip: str | None, storage_url: str, sessions=None,
                 secret: bytes = b"", data_dir=None) -> None:
        from limits import parse
        from limits.storage import storage_from_string
        from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

        self.per_key = parse(per_key) if per_key else None
        self.per_ip = parse(per_ip) if per_ip else None
        if storage_url == "database":
            from callscope.store.rate_store import DatabaseStorage

            self.limiter: FixedWindowRateLimiter | MovingWindowRateLimiter = FixedWindowRateLimiter(DatabaseStorage.for_deployment(sessions, secret, data_dir))
        else:
            self.limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    def retry_after(self, item, *ident: str) -> int | None:
        """None if the hit is allowed; else seconds until one more is. Blocking (a database
        round trip with ``database``): call it from a thread."""
        if item is None or self.limiter.hit(item, *ident):
            return None
        reset = self.limiter.get_window_stats(item, *ident).reset_time
        return max(1, math.ceil(reset - time.time()))


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str, **headers: str) -> None:
    """The usual JSON error, sent before the body is read (and the connection closed after it)."""
    response = error_response(status, message, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
                                                        "Connection": "close", **headers})
    await response(scope, receive, send)


#: The liveness probe: a constant answer with no I/O, cheaper than counting it, so not counted
#: against the address's limit (a load balancer's probe must see the process alive while its
#: address is busy, and counting it would put a database write in front of every probe).
UNCOUNTED_PATHS = frozenset({"/healthz"})


class RequestGuard:
    def __init__(self, app: ASGIApp, services) -> None:
        self.app = app
        self.services = services
        st = services.settings
        self.limits = RateLimits(st.rate_limit_per_key, st.rate_limit_per_ip, st.rate_limit_storage,
                                 services.sessions, services.secret, st.data_dir)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") > MAX_URL_BYTES:
            await _refuse(scope, receive, send, 414, f"the URL is over {MAX_URL_BYTES} bytes: filter with fewer or "
                                                     "shorter values")
            return
        headers = dict(scope["headers"])
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = None if self.limits.per_ip is None or path in UNCOUNTED_PATHS else await run_in_threadpool(
            self.limits.retry_after, self.limits.per_ip, "ip", client)
        if wait is not None:
            await _refuse(scope, receive, send, 429, f"too many requests from {client}; retry in {wait} s",
                          **{"Retry-After": str(wait)})
            return
        if path.startswith("/v1/") or path == "/v1":
            settings = self.services.settings
            if settings.auth:
                key = presented_key(headers)
                token = None if key else web_sessions.cookie_token(headers.get(b"cookie", b"").decode("latin-1"))
                if not key and not token:
                    await _refuse(scope, receive, send, 401,
                                  "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                                  **{"WWW-Authenticate": "Bearer"})
                    return
                if key:
                    who = await run_in_threadpool(verify, self.services.sessions, key)
                    if who is None:
                        await _refuse(scope, receive, send, 401, "invalid or revoked API key", **{"WWW-Authenticate": "Bearer"})
                        return
                else:
                    found = await run_in_threadpool(web_sessions.principal, self.services.sessions, token or "")
                    if found is None:
                        await _refuse(scope, receive, send, 401, "the session has expired or was ended: sign in again",
                                      **{"WWW-Authenticate": "Bearer"})
                        return
                    who, csrf = found
                    sent = headers.get(web_sessions.CSRF_HEADER.lower().encode(), b"").decode("latin-1")
                    if scope["method"] not in web_sessions.SAFE_METHODS and not web_sessions.csrf_ok(csrf, sent):
                        await _refuse(scope, receive, send, 403, f"a change made with the session cookie needs its "
                                                                 f"CSRF token in {web_sessions.CSRF_HEADER}")
                        return
                wait = None if self.limits.per_key is None else await run_in_threadpool(
                    self.limits.retry_after, self.limits.per_key, "key", str(who.key_id))
                if wait is not None:
                    await _refuse(scope, receive, send, 429, f"too many requests with API key '{who.name}'; retry in {wait} s",
                                  **{"Retry-After": str(wait)})
                    return
            else:
                who = ANONYMOUS_ADMIN
            scope.setdefault("state", {})["principal"] = who
        limit = self.services.settings.max_request_bytes if path in (UPLOAD_PATH, BULK_PATH) else JSON_BODY_LIMIT
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _refuse(scope, receive, send, 400, "Content-Length is not a number")
                return
            if declared > limit:
                await _refuse(scope, receive, send, 413, f"request body of {declared} bytes is over the limit of {limit} bytes")
                return
        no_store = path.startswith("/v1")
        csp = not path.startswith(DOCS_PATHS)
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = [(b"x-content-type-options", b"nosniff")]
                if no_store:
                    extra.append((b"cache-control", b"no-store"))
                if csp:
                    extra += [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                              (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *[(k, v) for k, v in extra if k not in names]]}
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _refuse(scope, receive, send, 413, f"request body is over the limit of {limit} bytes")
