"""How often a simulated regional wall-motion abnormality is found, and normal walls kept.

Run: ``.venv/bin/python bench/wall_motion_accuracy.py [--n 100] [--normals 40] [--jobs 2]``.
Each study (seeds 70000+) has a normal global curve (LVEF 55–72%) and one territory that is
hypokinetic (30–60% of normal motion), akinetic or dyskinetic (−20 to −40%); anatomy,
heart rate and counts vary. A territory is called abnormal when any of its LAO segments is
not graded normal. Prints sensitivity per grade and the specificity of remote territories;
then the territories of ``--normals`` fresh normal studies (the normals' population of
``wall_motion_normals.py``, seeds 62000+, not those the limits were derived from).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from _muga import simulate_and_analyze
from _wall_motion import Row, print_table, score, score_normal
from wall_motion_normals import normal_study

SEED0 = 70_000
NORMALS_SEED0 = 62_000


def one(index: int) -> Row:
    from planarmpi.simulate.phantom import Anatomy

    rng = np.random.default_rng([SEED0, index])
    territory = str(rng.choice(["LAD", "LCX", "RCA"]))
    kind = str(rng.choice(["hypokinetic", "akinetic", "dyskinetic"]))
    motion = {"hypokinetic": float(rng.uniform(0.3, 0.6)), "akinetic": 0.0,
              "dyskinetic": float(rng.uniform(-0.4, -0.2))}[kind]
    anatomy = Anatomy(edv_ml=float(rng.uniform(90, 170)), lvef_percent=float(rng.uniform(55, 72)),
                      heart_rate_bpm=float(rng.uniform(50, 95)),
                      heart_azimuth_deg=float(45 + rng.uniform(-8, 8)),
                      heart_elevation_deg=float(30 + rng.uniform(-8, 8)),
                      wall_motion={territory: motion})
    out = simulate_and_analyze(SEED0 + index, name=f"wm-{index}", anatomy=anatomy,
                               counts_per_view=float(rng.uniform(2e6, 8e6)))
    if out.result is None:
        raise RuntimeError(f"study {index}: {out.error}")
    return score(territory, kind, out.result.wall_motion, out.result.wall_motion_territories)


def one_normal(index: int) -> int:
    return score_normal(normal_study(NORMALS_SEED0, index).wall_motion_territories)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--normals", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(one, range(args.n)))
        normals = list(pool.map(one_normal, range(args.normals)))
    print_table(f"regional wall motion on {args.n} simulated studies (seeds {SEED0}+)", rows,
                normals, f"{args.normals} fresh normal studies (seeds {NORMALS_SEED0}+)")

if __name__ == "__main__":
    main()
