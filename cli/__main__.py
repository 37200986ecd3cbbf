"""``python -m callscope.cli``."""

from callscope.cli.main import app

app()
