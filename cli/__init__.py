"""The ``callscope`` command line: :mod:`callscope.cli.main` holds the app and the analysis and
service commands, one module per command group beside it, shared helpers in
:mod:`callscope.cli.common`."""

from callscope.cli.main import app

__all__ = ["app"]
