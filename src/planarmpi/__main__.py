"""``python -m planarmpi``: the command line."""

from planarmpi.cli.main import run

run()
