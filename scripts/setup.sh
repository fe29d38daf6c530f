#!/usr/bin/env bash
# Set up planarmpi on a fresh Debian machine with Python 3.11: the Debian tools the tests
# use (dicom3tools for dciodvfy, dcmtk, poppler-utils for pdftoppm, orthanc as a PACS peer,
# chromium for the browser tests, PostgreSQL) and a virtual environment in .venv.
# Usage: scripts/setup.sh [--dev]     (--dev adds the test and lint tools)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

need_apt=()
command -v dciodvfy >/dev/null 2>&1 || need_apt+=(dicom3tools)
command -v dcmdump >/dev/null 2>&1 || need_apt+=(dcmtk)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
command -v Orthanc >/dev/null 2>&1 || need_apt+=(orthanc)
[ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need_apt+=(orthanc-dicomweb)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
if [ "${1:-}" = "--dev" ] && [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "setup: installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
echo "setup: done ($(.venv/bin/python -m planarmpi.env_info --short))"
