"""``callscope backfill``: analyse a directory or manifest of recordings on Ray, into files or
into the service."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

console = Console(stderr=True)


@contextmanager
def on_cluster(address: str, actors: int, cpus_per_actor: float, gpus_per_actor: float):
    """Join the Ray cluster at ``address`` (``local``: start one here), yield the actor plan
    (:func:`~callscope.backfill.cluster.actor_plan`: count, Ray options, device), shut Ray down
    after. A cluster that cannot be reached ends the command with exit code 2."""
    import ray

    from callscope.backfill.cluster import actor_plan, connect

    try:
        connect(address, actors * cpus_per_actor if actors else None)
    except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError …: say why and stop
        console.print(f"[red]error:[/red] cannot reach the Ray cluster at {address!r}: {exc}")
        raise typer.Exit(2) from exc
    try:
        yield actor_plan(actors, cpus_per_actor, gpus_per_actor,
                         note=lambda m: console.print(f"[yellow]note:[/yellow] {m}"))
    finally:
        ray.shutdown()


def _eta(counts, remaining: int) -> str:
    if not counts.analysed or remaining <= 0:
        return "?" if remaining > 0 else "0:00:00"
    seconds = (time.monotonic() - counts.started) / counts.analysed * remaining
    h, rest = divmod(int(seconds), 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}"


def _print_report(report) -> None:
    table = Table(title="backfill", show_header=False)
    for name, value in (("recordings listed", report.listed), ("analysed", report.analysed),
                        ("skipped (stored already)", report.skipped), ("failed", report.failed),
                        ("audio analysed", f"{report.audio_s / 3600:.2f} h"), ("wall time", f"{report.wall_s:.0f} s"),
                        ("audio hours per hour", f"{report.audio_hours_per_hour:.1f}"),
                        ("actors", len(report.actors)), ("actor deaths (recordings given out again)",
                                                         f"{report.actor_deaths} ({report.retried})")):
        table.add_row(name, str(value))
    if report.feed_rows is not None:
        table.add_row("rows in scores.parquet", str(report.feed_rows))
    console.print(table)
    if report.failures:
        console.print(f"[red]{len(report.failures)} failed:[/red]")
        for f in report.failures:
            console.print(f"  {f.origin}: {f.reason}", highlight=False, soft_wrap=True)


def backfill(
    source: Annotated[Path, typer.Argument(help="A directory (searched recursively for .wav .mp3 .flac .ogg .opus "
                                                ".m4a) or a manifest (.csv or .parquet: a 'path' column plus any "
                                                "upload field: external_id, agent_id, team, queue, product, "
                                                "channel, recorded_at, channel_map, direction, lone_speaker_role, "
                                                "language, customer_id, customer_phone).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write one JSON per call (as `callscope analyze` "
                                                 "does) under DIR/calls and a feed of call scores, DIR/scores.parquet.")] = None,
    into_service: Annotated[bool, typer.Option("--into-service", help="Store the calls in the service's database "
                                               "(CALLSCOPE_DATABASE_URL) and audio store (CALLSCOPE_AUDIO_STORE), "
                                               "as an upload would.")] = False,
    ray_address: Annotated[str, typer.Option("--ray", help="local: start Ray in this process; auto: join the cluster "
                                             "this machine belongs to; or the head's ADDRESS (host:port).")] = "local",
    actors: Annotated[int, typer.Option(min=0, help="Actors (each loads the models once); 0: as many as the "
                                        "cluster's CPUs (or GPUs) allow.")] = 0,
    cpus_per_actor: Annotated[float, typer.Option(min=0.5, help="CPUs Ray reserves per actor (also its ASR "
                                                  "threads).")] = 1.0,
    gpus_per_actor: Annotated[float, typer.Option(min=0.0, help="GPU share per actor (e.g. 0.5: two actors per GPU); "
                                                  "float16 on the GPU. Without a GPU in the cluster the actors "
                                                  "run on CPUs (int8).")] = 0.0,
    max_attempts: Annotated[int, typer.Option(min=1, max=10, help="Times a recording is handed out when the actor "
                                              "analysing it dies; then it is reported failed.")] = 3,
    report_path: Annotated[Path | None, typer.Option("--report", help="Also write the final report as JSON "
                                                        "here.")] = None,
) -> None:
    """Analyse many recordings on a Ray cluster (or this machine), each by an actor that loads the
    models once. Calls already stored (same content SHA-256 and external id) are skipped, so a run
    that was stopped is simply started again. The deployment's settings (CALLSCOPE_*) apply.
    Failures are listed with their reasons at the end; exit code 1 if any, 2 if nothing could start."""
    if (out is None) == (not into_service):
        raise typer.BadParameter("give exactly one of --out DIR and --into-service")
    from callscope.backfill.source import SourceError, read_source
    from callscope.cli.common import _quiet_libraries, _service_settings

    _quiet_libraries()
    settings = _service_settings()
    try:
        recordings, problems = read_source(source, settings.retention_days, settings.direction_for)
    except SourceError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    from callscope.backfill.run import FilesTarget, ServiceTarget

    if into_service:
        from callscope.backfill.service_sink import ServiceSink

        target: ServiceTarget | FilesTarget = ServiceTarget(ServiceSink(settings))
    else:
        from callscope.backfill.file_sink import FileSink

        secret = None
        if any(r.meta.customer_id or r.meta.customer_phone for r in recordings):
            from callscope.privacy.pseudonyms import deployment_secret

            secret = deployment_secret(settings)
        assert out is not None  # --out or --into-service, checked first
        target = FilesTarget(FileSink(out, secret))
    console.print(f"{len(recordings) + len(problems)} recording(s) listed in {source}")

    from callscope.backfill.actor import CallAnalyzer
    from callscope.backfill.cluster import for_actor
    from callscope.backfill.pool import ActorPool
    from callscope.backfill.run import run_backfill, write_report
    from callscope.service.worker import analysis_settings

    with on_cluster(ray_address, actors, cpus_per_actor, gpus_per_actor) as (n, options, device):
        analysis = for_actor(analysis_settings(settings), device, cpus_per_actor)
        pool = ActorPool(CallAnalyzer, (analysis,), n, options, max_attempts=max_attempts)
        progress = Progress(SpinnerColumn(), BarColumn(bar_width=12), MofNCompleteColumn(),
                            TextColumn("{task.fields[stats]}"), TextColumn("ETA {task.fields[eta]}"),
                            console=console, disable=not console.is_terminal)  # fits 80 columns
        last_line = [time.monotonic()]

        def show(counts) -> None:
            stats = (f"done {counts.analysed} · skip {counts.skipped} · fail {counts.failed} · "
                     f"{counts.audio_hours_per_hour():.1f} audio h/h")
            progress.update(bar, completed=counts.finished, stats=stats, eta=_eta(counts, counts.total - counts.finished))
            if not console.is_terminal and time.monotonic() - last_line[0] >= 30:
                last_line[0] = time.monotonic()
                console.print(f"{counts.finished} of {counts.total}: {stats}", highlight=False)

        try:
            with progress:
                bar = progress.add_task("backfill", total=len(recordings) + len(problems), stats="starting", eta="?")
                report = run_backfill(recordings, problems, target, pool, on_update=show)
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/yellow]: what was stored stays stored; run the same command again "
                          "to go on (stored calls are skipped)")
            raise typer.Exit(130) from None
    _print_report(report)
    if report_path is not None:
        write_report(report, report_path)
    if report.failures:
        raise typer.Exit(1)
