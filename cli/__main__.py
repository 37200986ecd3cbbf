"""``python -m callscope.cli``."""

from callscope.cli.main import main

main()
