"""``callscope import``: text interactions (chats, e-mail threads, tickets) from an NDJSON file,
one per line as ``POST /v1/interactions`` takes it, into the service's database; a worker scores
them. Every line is checked before anything is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from callscope.cli.admin import _sessions

console = Console(stderr=True)
BATCH = 500


def import_interactions(
    path: Annotated[Path, typer.Argument(help="NDJSON file: one interaction per line (channel, messages with role, "
                                              "at and text, metadata); '-' is not accepted", exists=True,
                                         dir_okay=False, readable=True)],
) -> None:
    """Import chats, e-mail threads and tickets from an NDJSON file and queue their scoring (a
    running worker scores them as it does calls). Every line is checked first: with any line
    refused, nothing is stored and each refused line is named (exit 1). The same messages with the
    same external_id are not stored twice."""
    from callscope.privacy.pseudonyms import deployment_secret
    from callscope.service.intake import MetaError
    from callscope.service.interactions import insert_interaction, parse_ndjson_line

    errors: list[str] = []
    lines = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            lines += 1
            try:
                parse_ndjson_line(raw.decode("utf-8"), number)
            except UnicodeDecodeError:
                errors.append(f"line {number}: not UTF-8")
            except MetaError as exc:
                errors.append(exc.message)
    if not lines:
        console.print(f"[red]error:[/red] {path}: no interaction in the file (one JSON object per line)")
        raise typer.Exit(1)
    if errors:
        for e in errors[:20]:
            console.print(f"[red]refused[/red] {e}")
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        console.print(f"[red]error:[/red] {len(errors)} of {lines} lines refused{more}; nothing was stored")
        raise typer.Exit(1)
    settings, sessions = _sessions()
    secret = deployment_secret(settings)
    new = existing = 0
    with path.open("rb") as f, Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("import", total=lines)
        batch: list = []

        def flush() -> None:
            nonlocal new, existing
            with sessions() as s:
                for item in batch:
                    try:
                        _cid, made = insert_interaction(s, item, secret, settings.retention_days, settings.direction_for)
                    except MetaError as exc:  # e.g. older than the retention: checked against the clock now
                        s.rollback()
                        console.print(f"[red]error:[/red] {exc.message}; the interactions before it are stored "
                                      f"({new} new); fix the line and import again (stored ones are not doubled)")
                        raise typer.Exit(1) from None
                    new, existing = new + made, existing + (not made)
                s.commit()
            bar.update(task, advance=len(batch))
            batch.clear()

        for number, raw in enumerate(f, start=1):
            if raw.strip():
                batch.append(parse_ndjson_line(raw.decode("utf-8"), number))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    console.print(f"{new} interactions stored and queued for scoring, {existing} already stored "
                  f"(a running worker scores them: `callscope worker`, or `callscope serve`)")
