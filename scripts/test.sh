#!/usr/bin/env bash
# Set up planarmpi with its test tools and run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
export MPLBACKEND=Agg
export MPLCONFIGDIR="$(mktemp -d)"
.venv/bin/ruff check src tests bench
.venv/bin/mypy
# One worker per CPU (pytest-xdist); the files sharing an expensive fixture stay together
# (tests/conftest.py). PLANARMPI_TEST_WORKERS=0 runs in one process.
.venv/bin/python -m pytest -n "${PLANARMPI_TEST_WORKERS:-auto}" --dist loadfile "$@"
