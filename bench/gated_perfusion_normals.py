"""Derive the regional-shortening normal limits of gated perfusion from simulated normals.

Run: ``.venv/bin/python bench/gated_perfusion_normals.py [--n 30] [--jobs 2] [--write]``.
Normal hearts (seeds 940000+; LVEF 52–75%, EDV 70–160 ml, sexes, habitus, orientation,
counts 0.8–2.5 M, 8 or 16 slots) are analysed; per LAO segment the mean and SD of the
regional shortening and thickening, and the root-mean-square of the shortening's Poisson SD
(the counting noise the normals' SD holds), are printed; with ``--write`` the shortening is
stored in ``src/planarmpi/analysis/data/gated_perfusion_motion_normals.json`` (the grade's
limit is mean − 2 SD, widened for a noisier study: ``GatedWallMotionParams``), through
the same builder as ``planarmpi normals wall-motion``. Simulated normals, not patients: a
site should replace them with its own (``planarmpi normals wall-motion --method
gated-perfusion``).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from _gated_perfusion import simulate_and_analyze
from planarmpi.analysis.motion_normals import (
    MotionMethod,
    build_wall_motion_normals,
    write_wall_motion_normals,
)

SEED0 = 940_000
OUT = (Path(__file__).resolve().parents[1]
       / "src/planarmpi/analysis/data/gated_perfusion_motion_normals.json")


def one(index: int) -> dict[str, tuple[float, float, float]]:
    _, result, _ = simulate_and_analyze(SEED0, index, normal=True)
    if isinstance(result, str):
        raise RuntimeError(f"simulated normal {index}: {result}")
    return {w.segment: (w.shortening_percent, w.thickening_percent, w.shortening_sd_percent)
            for w in result.wall_motion}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(one, range(args.n)))
    keys = sorted({k for r in rows for k in r})
    print(f"regional shortening / thickening (%) in {args.n} simulated normals (seeds {SEED0}+)")
    print(f"{'segment':8s} {'n':>3s} {'shortening':>16s} {'limit':>7s} {'thickening':>16s} "
          f"{'Poisson SD (rms)':>17s}")
    for k in keys:
        s = np.array([r[k][0] for r in rows if k in r])
        t = np.array([r[k][1] for r in rows if k in r])
        noise = float(np.sqrt(np.mean(np.square([r[k][2] for r in rows if k in r]))))
        mean, sd = float(s.mean()), float(s.std(ddof=1))
        print(f"{k:8s} {s.size:3d} {mean:8.1f} ± {sd:5.1f} {mean - 2.0 * sd:7.1f} "
              f"{t.mean():8.1f} ± {t.std(ddof=1):5.1f} {noise:17.1f}")
    if args.write:
        normals = build_wall_motion_normals(
            [{k: (v[0], v[2]) for k, v in r.items()} for r in rows],
            MotionMethod.GATED_PERFUSION, name="planarmpi built-in gated-perfusion wall motion",
            source=f"bench/gated_perfusion_normals.py --n {args.n} (simulated normals, "
                   f"seeds {SEED0}+)", min_studies=args.n)
        write_wall_motion_normals(normals, OUT)
        print(f"written: {OUT}")

if __name__ == "__main__":
    main()
