"""What the command groups share: the console errors go to, logging, quiet libraries and the
service's settings read once from the environment."""

from __future__ import annotations

import logging
import warnings

import typer
from rich.console import Console

console = Console(stderr=True)


def _quiet_libraries() -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("faster_whisper").setLevel(logging.ERROR)


def _configure_logging(level: str) -> None:
    """callscope's own log lines at ``level`` (CALLSCOPE_LOG_LEVEL), to stderr."""
    import logging

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("callscope").setLevel(level.upper())


def _service_settings():
    """The service's settings from the environment; a clear message and exit code 2 if invalid."""
    from callscope.service.config import ConfigError, ServiceSettings

    try:
        return ServiceSettings.from_env()
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
