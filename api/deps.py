"""What every route needs: the deployment's services (settings, database sessions, audio store,
metrics), the caller's API key and scope checks, and small shared request checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import sessionmaker

from callscope.qa.rule_runner import RuleRunner
from callscope.service.auth import Principal
from callscope.service.config import ServiceSettings
from callscope.service.intake import FIRST_DAY, LAST_DAY  # dates outside are refused, not overflowed
from callscope.service.metrics import ServiceMetrics
from callscope.store.audio_store import AudioStore


@dataclass(frozen=True)
class Services:
    """One deployment's shared objects, kept in ``app.state.services``."""

    settings: ServiceSettings
    sessions: sessionmaker
    store: AudioStore
    metrics: ServiceMetrics
    secret: bytes  # the key customer identifiers are hashed under (see callscope.privacy.pseudonyms)
    rules: RuleRunner = field(default_factory=RuleRunner)  # rule sets evaluated outside this process


def _services(request: Request) -> Services:
    return request.app.state.services


Svc = Annotated[Services, Depends(_services)]

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


def _principal(request: Request,
               _creds: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
               _key: Annotated[str | None, Security(_header_key)] = None) -> Principal:
    """Who calls, as the request guard (:mod:`callscope.api.guard`) found it before the body was
    read: the key's principal, or an admin when auth is off. (The security parameters only
    describe the key in OpenAPI.)"""
    who = getattr(request.state, "principal", None)
    if who is None:  # every route that asks runs under /v1, which the guard authenticates
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                            headers={"WWW-Authenticate": "Bearer"})
    return who


def _scope(name: str):
    def check(who: Annotated[Principal, Depends(_principal)]) -> Principal:
        if not who.allows(name):
            raise HTTPException(403, f"API key '{who.name}' lacks the '{name}' scope (it has: {', '.join(sorted(who.scopes))})")
        return who

    return check


Reader = Annotated[Principal, Depends(_scope("read"))]
Uploader = Annotated[Principal, Depends(_scope("upload"))]
Reviewer = Annotated[Principal, Depends(_scope("review"))]
Admin = Annotated[Principal, Depends(_scope("admin"))]
Lead = Annotated[Principal, Depends(_scope("lead"))]
#: any authenticated caller; the route checks the scope its action needs
Caller = Annotated[Principal, Depends(_principal)]
Agent = Annotated[Principal, Depends(_scope("agent"))]
CallId = Annotated[str, Path(max_length=36, description="a call id from POST /v1/calls")]


def error_response(status: int, message: str, details=None, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON error body every error has: ``{"error": {"status", "message", "details"}}``."""
    return JSONResponse({"error": {"status": status, "message": message, "details": details}}, status_code=status,
                        headers=headers)


def check_days(*days: date | None) -> None:
    """400 for a date the service does not handle (before 1970 or after 2999)."""
    for d in days:
        if d is not None and not FIRST_DAY <= d <= LAST_DAY:
            raise HTTPException(400, f"date {d.isoformat()} is outside {FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}")
