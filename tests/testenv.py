"""Where the tests run: CI or not, and where the real sample files are."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("PLANARMPI_SAMPLES", REPO.parent / "shared" / "samples"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLES = REPO / "src" / "planarmpi" / "examples"
