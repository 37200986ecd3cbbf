"""Service administration commands: ``callscope keys …`` and ``callscope purge``. They work on
the service's database directly (``CALLSCOPE_DATABASE_URL`` / ``CALLSCOPE_DATA_DIR``), so the
first admin key can be made before the server has any."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

keys_app = typer.Typer(help="Create, list and revoke API keys (stored hashed; a key is shown once).", no_args_is_help=True)
console = Console(stderr=True)


def _sessions():
    from callscope.cli.common import _service_settings
    from callscope.store.db import make_engine, migrate, session_factory

    settings = _service_settings()
    migrate(settings.database_url)
    return settings, session_factory(make_engine(settings.database_url), keyring_file=settings.keyring_file)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who or what uses the key (shown in audit records).")],
    scope: Annotated[list[str], typer.Option("--scope", "-s", help="read, upload, review, lead, agent or admin; "
                                             "repeat or separate with commas for several (--scope read,review).")],
    agent_id: Annotated[str | None, typer.Option(help="For an agent key: the agent whose evaluations it sees.")] = None,
) -> None:
    """Create a key and print it to stdout (it cannot be shown again)."""
    from callscope.service.auth import create_key, parse_scopes

    try:
        scopes = parse_scopes(scope)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scope") from exc
    _, sessions = _sessions()
    with sessions() as s:
        try:
            row, key = create_key(s, name, scopes, agent_id)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--scope / --agent-id") from exc
        s.commit()
    console.print(f"key {row.id} '{name}' with scopes {', '.join(scopes)}; store it now, it is not kept:")
    typer.echo(key)


@keys_app.command("list")
def list_keys() -> None:
    """List keys (never their secrets)."""
    from sqlalchemy import select

    from callscope.service.auth import describe
    from callscope.store.db import ApiKey

    _, sessions = _sessions()
    table = Table("id", "name", "prefix", "scopes", "created", "last used", "revoked")
    with sessions() as s:
        for row in s.execute(select(ApiKey).order_by(ApiKey.id)).scalars():
            d = describe(row)
            table.add_row(str(d["id"]), d["name"], d["prefix"], ",".join(d["scopes"]), d["created_at"] or "",
                          d["last_used_at"] or "", d["revoked_at"] or "")
    Console().print(table)


@keys_app.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see `callscope keys list`).")]) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from sqlalchemy import update

    from callscope.store.db import ApiKey, utcnow

    _, sessions = _sessions()
    with sessions() as s:
        done = s.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow()))
        s.commit()
    if done.rowcount != 1:
        console.print(f"[red]no active key {key_id}[/red]")
        raise typer.Exit(1)
    console.print(f"revoked key {key_id}")


def purge(
    older_than_days: Annotated[float | None, typer.Option(help="Age limit in days, > 0 (default: CALLSCOPE_RETENTION_DAYS).")] = None,
) -> None:
    """Erase analysed and failed calls older than N days (by call time): audio, transcript,
    scores, corrections. Calls still queued or being analysed are kept until they finish."""
    if older_than_days is not None and not older_than_days > 0:
        raise typer.BadParameter("must be more than 0 days", param_hint="--older-than-days")
    from callscope.privacy.erasure import purge_older_than
    from callscope.store.audio_store import AudioStore

    settings, sessions = _sessions()
    days = older_than_days if older_than_days is not None else settings.retention_days
    if days is None:
        console.print("[red]no retention set: pass --older-than-days or set CALLSCOPE_RETENTION_DAYS[/red]")
        raise typer.Exit(2)
    purged = purge_older_than(sessions, AudioStore(settings.audio_dir), days, rules=settings.journey_rules)
    console.print(f"purged {len(purged)} calls older than {days:g} days")


def erase_subject(
    identifier: Annotated[str, typer.Argument(help="The customer's phone number, customer id or e-mail address, as given at upload.")],
    kind: Annotated[str, typer.Option(help="any (every kind it can be), phone, customer_id or email.")] = "any",
) -> None:
    """Erase every call of one customer (GDPR Art. 17), found through the pseudonyms of the phone
    number or customer id given at upload; prints what was erased (JSON). Exit 1 if no call matches."""
    import json

    from callscope.privacy.erasure import erase_subject as erase
    from callscope.privacy.pseudonyms import deployment_secret, subject_refs
    from callscope.store.audio_store import AudioStore

    if kind not in ("any", "phone", "customer_id", "email"):
        raise typer.BadParameter("choose any, phone, customer_id or email", param_hint="--kind")
    settings, sessions = _sessions()
    try:
        refs = subject_refs(deployment_secret(settings), identifier, kind)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="IDENTIFIER") from exc
    report = erase(sessions, AudioStore(settings.audio_dir), refs, settings.journey_rules)
    print(json.dumps(report, indent=2))
    if not report["calls_erased"]:
        console.print("[yellow]no call of this customer is stored[/yellow]")
        raise typer.Exit(1)


def rotate_keyring(
    settle_s: Annotated[float, typer.Option(help="Seconds to wait for keys made during the rotation before the old "
                                                 "key-encryption key goes (>= 0).", min=0.0)] = 2.0,
) -> None:
    """Re-wrap every call's data key under a new key-encryption key and remove the old one from
    the keyring (CALLSCOPE_KEYRING, default <data_dir>/call-keys.keyring). Afterwards no copy of an
    erased call's key left in database files, WAL or backups can be opened: run it after erasures
    on PostgreSQL (e.g. daily, after the retention purge). Safe while the service runs; every
    process reading the same keyring file sees the new key. A database backup made before the
    rotation opens only with a keyring backup made before it: keep those no longer than erasure
    allows (see docs/erasure.md)."""
    import json

    from callscope.privacy.call_keys import KeyringMismatch, check_keyring, rotate

    _, sessions = _sessions()
    try:
        check_keyring(sessions)  # never rotate a wrong keyring: the database's keys would stay under the old one
    except KeyringMismatch as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    print(json.dumps(rotate(sessions, settle_s=settle_s), indent=2))
