"""Rule-set and re-scoring commands: ``callscope rules …`` and ``callscope rescore``. Like the
other admin commands they work on the service's database directly."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from callscope.cli.admin import _sessions

rules_app = typer.Typer(help="Rule sets (categories): list, show, add a version, activate one.", no_args_is_help=True)
console = Console(stderr=True)


@rules_app.command("list")
def list_versions() -> None:
    """Every rule-set version, newest first; * marks the active one."""
    from sqlalchemy import select

    from callscope.qa import categories
    from callscope.store.db import RuleSetRow

    _, sessions = _sessions()
    table = Table("", "version", "name", "by", "created")
    table.add_column("categories", overflow="fold")
    with sessions() as s:
        categories.active(s)
        s.commit()
        for row in s.execute(select(RuleSetRow).order_by(RuleSetRow.version.desc())).scalars():
            d = categories.describe(row)
            table.add_row("*" if row.active else "", f"rules/{row.version}", d["name"], d["created_by"],
                          d["created_at"][:16].replace("T", " "), ", ".join(c["name"] for c in d["categories"]))
    Console().print(table)


@rules_app.command("show")
def show(version: Annotated[int, typer.Argument(min=1, help="The version number.")]) -> None:
    """Print one version's YAML."""
    from callscope.store.db import RuleSetRow

    _, sessions = _sessions()
    with sessions() as s:
        row = s.get(RuleSetRow, version)
        if row is None:
            console.print(f"[red]error:[/red] no rule-set version {version}")
            raise typer.Exit(1)
        typer.echo(row.yaml)


@rules_app.command("add")
def add(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A rule set in YAML.")],
    activate: Annotated[bool, typer.Option("--activate", help="Make it the version new analyses use.")] = False,
    name: Annotated[str, typer.Option(help="Who adds it (kept with the version).")] = "cli",
) -> None:
    """Add a rule set as a new version (earlier versions never change)."""
    from callscope.qa import categories
    from callscope.scoring.rules import RulesError

    _, sessions = _sessions()
    with sessions() as s:
        try:
            row = categories.add(s, path.read_text(encoding="utf-8"), name, activate=activate)
        except RulesError as exc:
            console.print(f"[red]error:[/red] {path}: {exc}")
            raise typer.Exit(1) from exc
        s.commit()
        console.print(f"added rules/{row.version}+{row.digest}{' (active)' if activate else ''}")


@rules_app.command("activate")
def activate(version: Annotated[int, typer.Argument(min=1)]) -> None:
    """Make VERSION the one new analyses use (re-score older calls with `callscope rescore`)."""
    from callscope.qa import categories

    _, sessions = _sessions()
    with sessions() as s:
        try:
            categories.set_active(s, version)
        except KeyError:
            console.print(f"[red]error:[/red] no rule-set version {version}")
            raise typer.Exit(1) from None
        s.commit()
    console.print(f"rules/{version} is active")


def rescore(
    since: Annotated[str | None, typer.Option(help="Only calls on or after this day (YYYY-MM-DD, call time, UTC).")] = None,
    rules: Annotated[int | None, typer.Option("--rules", min=1, help="The rule-set version (default: the active one).")] = None,
    sentiment: Annotated[bool, typer.Option("--sentiment", help="Also score text sentiment again, from the stored "
                                            "transcripts, for calls scored by another sentiment model than the one in "
                                            "use (CALLSCOPE_SENTIMENT_HEAD, else the shipped one).")] = False,
    cancel: Annotated[int | None, typer.Option("--cancel", min=1, metavar="RUN",
                                                  help="Cancel the queued or running re-scoring run RUN (one asked "
                                                  "for over the API, or another `callscope rescore`) instead; "
                                                  "it stops after the batch at hand.")] = None,
) -> None:
    """Recompute stored calls' categories under a rule-set version, from their stored analyses:
    no audio is read and no model loaded. Resumable: a second run skips what is done. Under the
    active version the results become the calls' categories; under another they are kept beside.
    Ctrl-C cancels the run (what was done stays); --cancel RUN cancels another one."""
    from callscope.qa import rescoring
    from callscope.service.feed import day_bounds

    if cancel is not None:
        _cancel_run(cancel)
        return

    try:
        start = day_bounds(date.fromisoformat(since))[0] if since else None
    except ValueError as exc:
        raise typer.BadParameter(f"{since!r} is not a date (YYYY-MM-DD)", param_hint="--since") from exc
    settings, sessions = _sessions()
    model = None
    if sentiment:
        from callscope.scoring.scorer import sentiment_model

        with console.status("loading the sentiment model…"):
            model = sentiment_model(str(settings.sentiment_head) if settings.sentiment_head else None)
    try:
        rec = rescoring.start(sessions, rules, start, "cli")
    except rescoring.RescoreError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    columns = (TextColumn(f"re-scoring under rules/{rec.rules_version}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("rescore", total=None)
            done = rescoring.run(sessions, rec.id, sentiment=model, journey_rules=settings.journey_rules,
                                 on_progress=lambda n, total: bar.update(task, completed=n, total=total))
    except (KeyboardInterrupt, rescoring.Cancelled) as exc:
        stopped = rescoring.cancel(sessions, rec.id)
        assert stopped is not None  # the run made above
        who = "you (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else "another user"
        console.print(f"run {rec.id} was cancelled by {who} after {stopped.done} re-scored, {stopped.skipped} "
                      f"already done, of {stopped.total}; what was done stays, and `callscope rescore` resumes it")
        raise typer.Exit(130 if isinstance(exc, KeyboardInterrupt) else 1) from None
    console.print(f"run {done.id}: {done.done} re-scored, {done.skipped} already done, {done.failed} failed, "
                  f"of {done.total}")
    if done.failed:
        raise typer.Exit(1)


def _cancel_run(run_id: int) -> None:
    from callscope.qa import rescoring

    _settings, sessions = _sessions()
    rec = rescoring.cancel(sessions, run_id)
    if rec is None:
        console.print(f"[red]error:[/red] there is no re-scoring run {run_id}")
        raise typer.Exit(1)
    if rec.status != "cancelled":
        console.print(f"[red]error:[/red] re-scoring run {run_id} has already ended ({rec.status})")
        raise typer.Exit(1)
    console.print(f"run {run_id} is cancelled: it stops after the batch at hand ({rec.done} re-scored so far)")


def calibrate(
    date_from: Annotated[str, typer.Option("--from", help="First day of reviews (YYYY-MM-DD, UTC).")],
    date_to: Annotated[str, typer.Option("--to", help="Last day of reviews, inclusive.")],
    sentiment: Annotated[bool, typer.Option("--sentiment", help="Refit the sentiment model's calibration to the "
                                            "reviewers' utterance sentiment corrections instead.")] = False,
) -> None:
    """Fit the default escalation bands to the levels QA reviewers gave the spot checks reviewed in
    the period, and add them as a new rule-set version, not active: the agreement before and
    after is shown (on the same calls), and nothing changes until an admin activates it. With
    --sentiment, refit the sentiment head's calibration to the reviewers' corrections and write it
    to the data directory, not in use until CALLSCOPE_SENTIMENT_HEAD names it."""
    from callscope.qa import calibration
    from callscope.service.feed import day_bounds

    try:
        start, end = day_bounds(date.fromisoformat(date_from))[0], day_bounds(date.fromisoformat(date_to))[1]
    except ValueError as exc:
        raise typer.BadParameter("dates are YYYY-MM-DD", param_hint="--from/--to") from exc
    settings, sessions = _sessions()
    if sentiment:
        with sessions() as s:
            try:
                found = calibration.recalibrate_sentiment(s, start, end, settings.data_dir / "models",
                                                          str(settings.sentiment_head) if settings.sentiment_head else None)
            except ValueError as exc:
                console.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(1) from exc
        console.print(f"{found['corrections']} corrections: mean absolute error {found['mae_before']:.3f} before, "
                      f"{found['mae_after']:.3f} after (in-sample)")
        console.print(f"wrote {found['path']} (not in use). To use it: CALLSCOPE_SENTIMENT_HEAD={found['path']} on the "
                      "server and every worker, then callscope rescore --sentiment")
        return
    with sessions() as s:
        try:
            found, number = calibration.calibrate(s, start, end, "calibrate")
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc
        s.commit()
    table = Table("", "green", "yellow", "orange", "accuracy", "kappa", "n")
    for label, bands, agreed in (("current", found["current"], found["agreement_before"]),
                                 ("suggested", found["suggested"], found["agreement_after"])):
        table.add_row(label, f"{bands['green']:+.2f}", f"{bands['yellow']:+.2f}", f"{bands['orange']:+.2f}",
                      f"{agreed['accuracy']:.3f}", "-" if agreed["kappa"] is None else f"{agreed['kappa']:.3f}",
                      str(agreed["n"]))
    Console().print(table)
    console.print(f"added rules/{number} (not active; in-sample agreement). To use it: "
                  f"callscope rules activate {number} && callscope rescore")


def topics(
    day_from: Annotated[str, typer.Option("--from", help="first day of the window, YYYY-MM-DD (UTC)")],
    day_to: Annotated[str | None, typer.Option("--to", help="last day, inclusive (default: --from)")] = None,
    baseline_days: Annotated[int, typer.Option(min=1, max=28, help="days before the window it is compared with")] = 7,
) -> None:
    """Find the topics of the customers' problem statements over a window of days, compare each
    day with the days before it, store the run (the app's Topics page shows the newest) and raise
    an alert for every topic that surges or whose customers' sentiment drops."""
    from callscope.qa import topics as topic_runs

    try:
        first = date.fromisoformat(day_from)
        last = date.fromisoformat(day_to) if day_to else first
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}: days are YYYY-MM-DD")
        raise typer.Exit(2) from exc
    _, sessions = _sessions()
    with sessions() as s:
        with console.status("finding topics…"):
            try:
                made = topic_runs.run(s, first, last, "cli", baseline_days)
            except topic_runs.TopicsError as exc:
                console.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(1) from exc
            s.commit()
        body = topic_runs.describe(s, made)
    table = Table("topic", "calls", "terms", "", title=f"topic run {body['id']}: {body['from']} – {body['to']}, "
                  f"{body['statements']} problem statements")
    for t in body["topics"][:20]:
        flags = ", ".join(f for f, on in (("surging", t["surge"]), ("sentiment drops", t["sentiment_drop"]), ("new", t["new"])) if on)
        table.add_row(str(t["key"]), str(t["calls"]), ", ".join(t["terms"]), flags)
    Console().print(table)
    if len(body["topics"]) > 20:
        console.print(f"… and {len(body['topics']) - 20} more: see /topics in the app")
