"""``callscope journeys``: recompute every customer's journey (after changing the repeat or churn
settings, or for calls stored before journeys existed) and list the customers at risk."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from callscope.cli.admin import _sessions

console = Console(stderr=True)


def journeys(
    at_risk: Annotated[int, typer.Option(min=0, max=500, help="list this many customers at medium or high churn risk "
                                                             "after the run (0: none)")] = 20,
) -> None:
    """Recompute repeat contacts, first-contact resolution, recovery and churn risk for every
    customer (CALLSCOPE_REPEAT_DAYS, CALLSCOPE_REPEAT_SAME_REASON, CALLSCOPE_CHURN_DAYS), in
    batches of 2,000 customers, then list the customers at risk by pseudonym."""
    from callscope.qa import journeys as journey_runs

    settings, sessions = _sessions()
    with Progress(SpinnerColumn(), TextColumn("recomputing journeys"), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("journeys", total=None)
        n = journey_runs.recompute_all(sessions, settings.journey_rules, progress=lambda done: bar.update(task, completed=done))
    console.print(f"{n} customers recomputed (repeat window {settings.repeat_days:g} days"
                  f"{', same reason' if settings.repeat_same_reason else ''}; churn window {settings.churn_days:g} days)")
    if not at_risk:
        return
    with sessions() as s:
        rows = journey_runs.at_risk(s, "medium", at_risk)
    if not rows:
        console.print("no customer at medium or high churn risk")
        return
    table = Table("customer", "contacts", "repeats", "churn risk", "level", "last contact",
                  title="customers at risk (pseudonyms; GET /v1/customers/<key> for the evidence)")
    for r in rows:
        table.add_row(r["pseudonym"], str(r["contacts"]), str(r["repeat_contacts"]), f"{r['churn_risk']:.2f}",
                      r["churn_level"], (r["last_contact_at"] or "")[:16])
    Console().print(table)
