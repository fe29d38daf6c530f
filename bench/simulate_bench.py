"""Simulation speed: one full study of each simulated kind, on one core.

Run: ``.venv/bin/python bench/simulate_bench.py`` — prints a table.
Target (issue #3): a full study (3 static views, a gated view, a first pass) ≤ 20 s.
The first-pass simulation does not exist yet; the table says what was timed.
"""

from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import preset

CASES = (
    ("normal-male: 3 static + gated LAO (16 slots), 64×64", "normal-male"),
    ("lad-ischemia: stress + rest, 3 static + gated each", "lad-ischemia"),
    ("muga-normal: gated blood pool LAO (16 slots)", "muga-normal"),
)


def main() -> None:
    print(f"{'study':58s} {'seconds':>8s}")
    for label, name in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            simulate_study(preset(name), tmp, seed=1)
            print(f"{label:58s} {time.perf_counter() - t0:8.2f}")


if __name__ == "__main__":
    main()
