"""The customer across contacts: a customer's journey, and the customers at risk of leaving.

Customers are pseudonyms (keyed hashes of the customer id or phone number given at upload); no
response holds the identifier, which callscope never stores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from callscope.api.deps import Reader, Svc
from callscope.api.responses import CustomerListOut, CustomerOut
from callscope.qa import journeys

router = APIRouter(tags=["customers"])

CustomerKey = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="a customer's pseudonym (64 hex digits)")]


@router.get("/v1/customers", response_model=CustomerListOut)
def list_customers(svc: Svc, _who: Reader,
                   at_risk: Annotated[str, Query(pattern="^(low|medium|high)$",
                                                 description="the lowest churn-risk level listed")] = "medium",
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict:
    """Customers at ``at_risk`` churn risk or above, the riskiest first: pseudonym, contacts,
    repeats, recoveries, churn risk and level."""
    with svc.sessions() as s:
        return {"customers": journeys.at_risk(s, at_risk, limit)}


@router.get("/v1/customers/{key}", response_model=CustomerOut, responses={404: {"description": "no such customer"}})
def get_customer(key: CustomerKey, svc: Svc, _who: Reader) -> dict:
    """A customer's journey: every analysed contact in time order with its level, sentiment,
    reason, outcome, repeat link, first-contact resolution and recovery; the churn risk with the
    signals that make it and their calls."""
    with svc.sessions() as s:
        body = journeys.describe(s, key)
    if body is None:
        raise HTTPException(404, "no customer with this pseudonym (contacts without a customer id or phone "
                                 "number have no journey)")
    return body
