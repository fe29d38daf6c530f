#!/usr/bin/env bash
# Set up planarmpi with its test tools and run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
export MPLBACKEND=Agg
export MPLCONFIGDIR="$(mktemp -d)"
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
