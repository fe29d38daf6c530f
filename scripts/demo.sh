#!/usr/bin/env bash
# Set up planarmpi and run it on the built-in demo studies (simulated: a normal male stress
# perfusion study — anterior, LAO 45°, left lateral and gated LAO — and a gated blood pool).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export MPLBACKEND=Agg
.venv/bin/planarmpi demo --out demo-out
.venv/bin/planarmpi inspect demo-out/study
