"""Evaluation-form commands: ``callscope forms …``. Like the other admin commands they work on the
service's database directly (``CALLSCOPE_DATABASE_URL`` / ``CALLSCOPE_DATA_DIR``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from callscope.cli.admin import _sessions

forms_app = typer.Typer(help="Evaluation forms (QA scorecards): list, show, check, add a version, activate one.",
                        no_args_is_help=True)
console = Console(stderr=True)


@forms_app.command("list")
def list_forms() -> None:
    """Every form version; * marks the active ones (the starter forms are installed on first use)."""
    from sqlalchemy import select

    from callscope.qa import evaluations
    from callscope.store.db import FormRow

    _, sessions = _sessions()
    table = Table("", "id", "form", "title", "language", "applies to", "questions", "created")
    with sessions() as s:
        evaluations.ensure_starter_forms(s)
        s.commit()
        for row in s.execute(select(FormRow).order_by(FormRow.name, FormRow.version.desc())).scalars():
            d = evaluations.describe_form(row)
            applies = "; ".join(f"{k} {', '.join(v)}" for k, v in d["applies_to"].items() if v) or "every call"
            table.add_row("*" if row.active else "", str(row.id), d["label"], d["title"], d["language"], applies,
                          str(sum(len(sec["questions"]) for sec in d["sections"])),
                          (d["created_at"] or "")[:16].replace("T", " "))
    Console().print(table)


@forms_app.command("show")
def show(form_id: Annotated[int, typer.Argument(min=1, help="The form version's id (see `callscope forms list`).")]) -> None:
    """Print one form version's YAML."""
    from callscope.store.db import FormRow

    _, sessions = _sessions()
    with sessions() as s:
        row = s.get(FormRow, form_id)
        if row is None:
            console.print(f"[red]error:[/red] no form {form_id}")
            raise typer.Exit(1)
        typer.echo(row.yaml)


@forms_app.command("check")
def check(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A form in YAML.")]) -> None:
    """Validate a form without a database: says where it is wrong, or what it holds."""
    from callscope.qa.forms import FormError, load_form

    try:
        form = load_form(path.read_text(encoding="utf-8"))
    except FormError as exc:
        console.print(f"[red]error:[/red] {path}: {exc}")
        raise typer.Exit(1) from exc
    auto = sum(1 for q in form.questions if q.auto is not None)
    console.print(f"{path}: form {form.form} ({form.language}), {len(form.questions)} questions, "
                  f"{auto} with an automatic answer, {sum(q.critical for q in form.questions)} critical")


@forms_app.command("add")
def add(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A form in YAML.")],
    activate: Annotated[bool, typer.Option("--activate", help="Make it its form's active version.")] = False,
    name: Annotated[str, typer.Option(help="Who adds it (kept with the version).")] = "cli",
) -> None:
    """Add a form as a new version of the form it names (earlier versions never change)."""
    from callscope.qa import evaluations
    from callscope.qa.forms import FormError

    _, sessions = _sessions()
    with sessions() as s:
        evaluations.ensure_starter_forms(s)
        try:
            row = evaluations.add_form(s, path.read_text(encoding="utf-8"), name, activate=activate)
        except FormError as exc:
            console.print(f"[red]error:[/red] {path}: {exc}")
            raise typer.Exit(1) from exc
        s.commit()
        console.print(f"added {evaluations.label(row)} as id {row.id}{' (active)' if activate else ''}")


@forms_app.command("activate")
def activate(form_id: Annotated[int, typer.Argument(min=1)]) -> None:
    """Make this version its form's active one."""
    from callscope.qa import evaluations

    _, sessions = _sessions()
    with sessions() as s:
        try:
            row = evaluations.activate_form(s, form_id)
        except KeyError:
            console.print(f"[red]error:[/red] no form {form_id}")
            raise typer.Exit(1) from None
        s.commit()
        console.print(f"{evaluations.label(row)} is active")
