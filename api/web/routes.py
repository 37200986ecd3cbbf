"""The QA app's pages and its sign-in. Pages are thin server-rendered shells (Jinja2, escaped);
the scripts in ``static/`` fill them from the ``/v1`` API with the session cookie. A page asked
for without a live session sends the browser to ``/signin`` (and back afterwards)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from callscope.api.deps import CallId, Services, Svc, error_response
from callscope.api.responses import SignedInOut
from callscope.api.web import sessions
from callscope.scoring.escalation import EscalationBands
from callscope.service.auth import ANONYMOUS_ADMIN, Principal, verify

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html
router = APIRouter()


def _live(request: Request, svc: Services) -> tuple[Principal, str] | None:
    """The signed-in principal and CSRF token, (admin, "") with auth off, or None."""
    if not svc.settings.auth:
        return ANONYMOUS_ADMIN, ""
    token = sessions.cookie_token(request.headers.get("cookie", ""))
    return sessions.principal(svc.sessions, token) if token else None


def _page(request: Request, svc: Services, template: str, **context) -> Response:
    found = _live(request, svc)
    if found is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(here, safe='')}", status_code=303)
    who, csrf = found
    agent_only = who.scopes == frozenset({"agent"})
    if agent_only and template != "me.html":  # an agent's key sees its own evaluations, nothing else
        return RedirectResponse("/me", status_code=303)
    bands = EscalationBands()
    return templates.TemplateResponse(request, template, {
        "who": who, "csrf": csrf, "scopes": ",".join(sorted(who.scopes)), "auth": svc.settings.auth,
        "agent_only": agent_only, "can_review": who.allows("review"), "due": svc.settings.review_delays,
        "bands": f"{bands.green},{bands.yellow},{bands.orange}", **context})


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def calls_page(request: Request, svc: Svc) -> Response:
    return _page(request, svc, "calls.html", page="calls")


@router.get("/calls/{call_id}", response_class=HTMLResponse, include_in_schema=False)
def review_page(request: Request, svc: Svc, call_id: CallId,
                calibration: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    """The call's review page; ``?t=40`` opens it at 40 s, ``#u6`` at utterance 6, and
    ``?calibration=N`` evaluates it for calibration session N (blind)."""
    from sqlalchemy import select

    from callscope.store.db import Call

    with svc.sessions() as s:  # a text interaction has no recording: its page shows the thread
        found = s.execute(select(Call.channel, Call.audio_key).where(Call.id == call_id)).one_or_none()
    thread = found.channel if found is not None and not found.audio_key else None
    return _page(request, svc, "review.html", page="review", call_id=call_id, calibration_id=calibration, thread=thread)


@router.get("/topics", response_class=HTMLResponse, include_in_schema=False)
def topics_page(request: Request, svc: Svc) -> Response:
    """What customers call about: the newest topic run (``?run=N``: another)."""
    return _page(request, svc, "topics.html", page="topics")


@router.get("/customers", response_class=HTMLResponse, include_in_schema=False)
def customers_page(request: Request, svc: Svc) -> Response:
    """Customers at risk of leaving, by pseudonym (``?at_risk=high``: only the high ones)."""
    return _page(request, svc, "customers.html", page="customers")


@router.get("/customers/{key}", response_class=HTMLResponse, include_in_schema=False)
def customer_page(request: Request, svc: Svc,
                  key: Annotated[str, PathParam(pattern="^[0-9a-f]{64}$")]) -> Response:
    """One customer's journey: contacts on one timeline, repeats marked, churn-risk evidence."""
    return _page(request, svc, "customer.html", page="customer", customer_key=key)


@router.get("/queue", response_class=HTMLResponse, include_in_schema=False)
def queue_page(request: Request, svc: Svc) -> Response:
    return _page(request, svc, "queue.html", page="queue")


@router.get("/me", response_class=HTMLResponse, include_in_schema=False)
def agent_page(request: Request, svc: Svc) -> Response:
    return _page(request, svc, "me.html", page="me")


@router.get("/calibrations/{calibration_id}", response_class=HTMLResponse, include_in_schema=False)
def calibration_page(request: Request, svc: Svc, calibration_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)]) -> Response:
    return _page(request, svc, "calibration.html", page="calibration", calibration_id=calibration_id)


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, svc: Svc) -> Response:
    return _page(request, svc, "dashboard.html", page="dashboard")


@router.get("/signin", response_class=HTMLResponse, include_in_schema=False)
def signin_page(request: Request, next: str = "/") -> Response:
    return templates.TemplateResponse(request, "signin.html", {"next": _local(next), "page": "signin", "who": None})


def _local(target: str) -> str:
    r"""A path on this site to go back to after signing in (anything else: the calls list).

    Browsers drop tabs and newlines from a URL and read ``\`` as ``/`` before they resolve it,
    so ``/\t/host`` or ``/\host`` would land on another site: a target with a control
    character, a space or a backslash is refused, and what is left must parse as a path with
    neither scheme nor host."""
    if not target.startswith("/") or any(c == "\\" or ord(c) <= 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return "/"
    return target


def _same_origin(request: Request) -> bool:
    """False for a browser request sent from another site (its ``Origin`` names another host):
    no page elsewhere can sign a reviewer's browser in to an account of its choosing."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


class SignIn(BaseModel):
    key: str = Field(min_length=1, max_length=200, description="an API key (cs_…)")


@router.post("/app/session", tags=["app"], response_model=None,
             responses={200: {"model": SignedInOut}, 401: {"description": "unknown or revoked key"}})
async def sign_in(request: Request, svc: Svc, body: Annotated[SignIn, Body()]) -> JSONResponse:
    """Sign in to the QA app with an API key: sets the session cookie (HttpOnly,
    SameSite=Strict, Secure over HTTPS, for ``CALLSCOPE_SESSION_HOURS``). The key itself is
    not kept by the browser. Returns the key's name and scopes."""
    if not _same_origin(request):
        return error_response(403, "sign in from this site's own sign-in page")
    who = await run_in_threadpool(verify, svc.sessions, body.key.strip())
    if who is None or who.key_id is None:
        return error_response(401, "unknown or revoked API key")
    token, _csrf = await run_in_threadpool(sessions.start, svc.sessions, who.key_id, svc.settings.session_hours)
    response = JSONResponse({"name": who.name, "scopes": sorted(who.scopes)})
    response.set_cookie(sessions.COOKIE, token, max_age=int(svc.settings.session_hours * 3600), path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


@router.delete("/app/session", status_code=204, tags=["app"],
               responses={403: {"description": "the CSRF token is missing or wrong"}})
async def sign_out(request: Request, svc: Svc) -> Response:
    """Sign out: the session ends on the server and the cookie is removed. Send the page's CSRF
    token in ``X-CSRF-Token``."""
    token = sessions.cookie_token(request.headers.get("cookie", ""))
    if token:
        found = await run_in_threadpool(sessions.principal, svc.sessions, token)
        if found is not None and not sessions.csrf_ok(found[1], request.headers.get(sessions.CSRF_HEADER)):
            return error_response(403, f"signing out needs the page's CSRF token in {sessions.CSRF_HEADER}")
        await run_in_threadpool(sessions.end, svc.sessions, token)
    response = Response(status_code=204)
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="strict")
    return response
