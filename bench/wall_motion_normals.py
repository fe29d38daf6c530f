"""Derive the regional-EF normal limits of the five LAO segments from simulated normals.

Run: ``.venv/bin/python bench/wall_motion_normals.py [--n 30] [--jobs 2] [--write]``.
Normal hearts (LVEF 55–75%, EDV 80–170 ml, heart rate 50–95, orientation ±8°, torso sizes,
2–8 M counts; seeds 60000+) are analysed; per segment the mean and SD of the regional EF
are printed, and with ``--write`` stored in ``src/planarmpi/analysis/data/
wall_motion_normals.json`` (the built-in limits: normal ≥ mean − 2 SD). These are
simulated normals, not patients: a site should replace them with its own.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from _muga import simulate_and_analyze
from planarmpi.analysis.bloodpool import BloodPoolResult
from planarmpi.analysis.motion_normals import (
    MotionMethod,
    build_wall_motion_normals,
    write_wall_motion_normals,
)

SEED0 = 60_000
OUT = Path(__file__).resolve().parents[1] / "src/planarmpi/analysis/data/wall_motion_normals.json"


def normal_study(seed0: int, index: int) -> BloodPoolResult:
    """One simulated normal blood-pool study of the normals' population, analysed."""
    from planarmpi.simulate.phantom import Anatomy

    rng = np.random.default_rng([seed0, index])
    anatomy = Anatomy(edv_ml=float(rng.uniform(80, 170)), lvef_percent=float(rng.uniform(55, 75)),
                      heart_rate_bpm=float(rng.uniform(50, 95)),
                      heart_azimuth_deg=float(45 + rng.uniform(-8, 8)),
                      heart_elevation_deg=float(30 + rng.uniform(-8, 8)),
                      torso_half_width_mm=float(rng.uniform(150, 200)),
                      torso_half_depth_mm=float(rng.uniform(95, 135)))
    out = simulate_and_analyze(seed0 + index, name=f"wm-normal-{index}", anatomy=anatomy,
                               counts_per_view=float(rng.uniform(2e6, 8e6)))
    if out.result is None:
        raise RuntimeError(f"simulated normal {seed0}+{index}: {out.error}")
    return out.result


def one(index: int) -> dict[str, float]:
    return {w.segment: w.regional_ef_percent for w in normal_study(SEED0, index).wall_motion}

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(one, range(args.n)))
    segments = sorted({k for r in rows for k in r})
    print(f"regional EF of the LAO segments in {args.n} simulated normals (seeds {SEED0}+)")
    print(f"{'segment':10s} {'n':>4s} {'mean %':>8s} {'SD':>6s} {'limit %':>8s}")
    for seg in segments:
        values = np.array([r[seg] for r in rows if seg in r and np.isfinite(r[seg])])
        mean, sd = float(values.mean()), float(values.std(ddof=1))
        print(f"{seg:10s} {values.size:4d} {mean:8.1f} {sd:6.1f} {mean - 2 * sd:8.1f}")
    if args.write:
        normals = build_wall_motion_normals(
            [{k: (v, None) for k, v in r.items()} for r in rows],
            MotionMethod.GATED_BLOOD_POOL, name="planarmpi built-in blood-pool wall motion",
            source=f"bench/wall_motion_normals.py --n {args.n} (simulated normals, "
                   f"seeds {SEED0}+)", min_studies=2)
        write_wall_motion_normals(normals, OUT)
        print(f"written {OUT}")

if __name__ == "__main__":
    main()
