#!/usr/bin/env bash
# Set up planarmpi and run it on the built-in demo study (a simulated normal male
# stress study: anterior, LAO 45° and left lateral views plus a gated LAO view).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export MPLBACKEND=Agg
.venv/bin/planarmpi demo --out demo-out
.venv/bin/planarmpi inspect demo-out/study
