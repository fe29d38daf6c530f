"""Simulation speed, on one core: one full study of each kind the simulator makes.

Run: ``.venv/bin/python bench/simulate_bench.py`` — prints a table.
Target (issue #3): a full study (3 static views, a gated view, a first pass) ≤ 20 s.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import tempfile  # noqa: E402
import time  # noqa: E402

from planarmpi.simulate import simulate_study  # noqa: E402
from planarmpi.simulate.presets import preset  # noqa: E402

CASES = (
    ("full study: 3 static + gated LAO + first pass (target ≤ 20 s)", "first-pass-normal"),
    ("perfusion stress + rest: 2 × (3 static + gated LAO)", "lad-ischemia"),
    ("gated blood pool LAO, 24 slots, 64×64", "muga-normal"),
    ("first pass with shunt (Qp:Qs 2), 64×64, 625 frames", "first-pass-shunt"),
)


def main() -> None:
    print(f"{'study':66s} {'seconds':>8s}")
    for label, name in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            simulate_study(preset(name), tmp, seed=1)
            print(f"{label:66s} {time.perf_counter() - t0:8.2f}")


if __name__ == "__main__":
    main()
