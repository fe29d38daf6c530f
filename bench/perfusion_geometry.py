"""Does the perfusion verdict depend on the camera's matrix and pixel size?

Run: ``.venv/bin/python bench/perfusion_geometry.py [--n 40] [--jobs 2]`` (≈ 20 min the
first time; the simulated studies are cached). ``--grids "256 × 1.6 mm"`` adds the 256
matrix (ten times slower to simulate).

The built-in normal limits come from studies simulated on a 128 × 128 matrix of 3.2 mm
pixels. Sites acquire planar perfusion views on other grids: 64 × 64 (older cameras, 6–7 mm
pixels), 128 × 128 with a zoom (2.4 mm), 256 × 256 (1.6–2.2 mm). The profiles are sampled in
millimetres and by angle, so the limits should hold on any of these; this bench checks it.

The population: studies of the perfusion benchmark's kind (``random_perfusion_spec``, seeds
980000+, not used by the tests: 40% normals with their traps, 1–2 defects, Tc-99m agents or
Tl-201, stress and rest). Each patient is simulated on the reference grid (128 × 3.2 mm)
twice, with two noise seeds, and once on each other grid, with the same total counts per
view. The two reference acquisitions say how often Poisson noise alone changes the verdict;
another grid should change it no more often than that.

Measures per grid: the verdict equal to the reference acquisition's; the stress summed
score's mean absolute difference from it; the verdict against the truth (sensitivity:
abnormal among studies with a defect of severity ≥ 30% and extent ≥ 5%; specificity: normal
among normals); the views flagged for low counts (maximal LV counts per pixel below 100 —
Wackers' criterion, stated for the usual planar pixel: the same counts spread over smaller
pixels fall below it sooner).
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from _population import CACHE, studies
from planarmpi.analysis.perfusion.study import analyze_perfusion
from planarmpi.simulate.presets import random_perfusion_spec
from planarmpi.simulate.study import simulate_study

SEED0 = 980_000
#: name → (matrix, pixel mm, noise seed offset); the first is the reference.
GRIDS: dict[str, tuple[int, float, int]] = {
    "128 × 3.2 mm (reference)": (128, 3.2, 0),
    "128 × 3.2 mm, other noise": (128, 3.2, 1),
    "64 × 6.4 mm": (64, 6.4, 0),
    "128 × 2.4 mm (zoom 1.33)": (128, 2.4, 0),
    "256 × 1.6 mm": (256, 1.6, 0),
}
REFERENCE = next(iter(GRIDS))
#: Simulating a 256 matrix takes ten times as long: asked for by name only.
DEFAULT_GRIDS = [g for g in GRIDS if not g.startswith("256")]


def _folder(seed: int, grid: str) -> Path:
    matrix, pixel_mm, noise = GRIDS[grid]
    return CACHE / "perfusion-geometry" / f"{seed:06d}-{matrix}-{pixel_mm:g}mm-n{noise}"


def _simulate(job: tuple[int, str]) -> str:
    seed, grid = job
    out = _folder(seed, grid)
    if not (out / "truth.json").exists():
        matrix, pixel_mm, noise = GRIDS[grid]
        spec = random_perfusion_spec(np.random.default_rng(seed), seed - SEED0)
        simulate_study(replace(spec, matrix=matrix, pixel_mm=pixel_mm), out,
                       seed=seed + 1_000_000 * noise)
    return str(out)


def _read(folder: Path) -> dict[str, Any]:
    truth = json.loads((folder / "truth.json").read_text())
    [(_, study)] = list(studies([folder]))
    result = analyze_perfusion(study)
    assert result is not None
    section = result.section
    stress = next(s for s in section["states"] if s["state"].startswith("stress"))
    significant = any(d["severity"] >= 0.3 and d["extent_percent_of_lv"] >= 5
                      for d in truth["defects"])
    return {"verdict": section["verdict"], "score": stress["summed_score"],
            "normal": not truth["defects"], "significant": significant,
            "low_counts": sum(v.get("max_lv_counts_per_pixel", 1e9) < 100.0
                              for s in section["states"] for v in s["views"]),
            "views": sum(len(s["views"]) for s in section["states"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--grids", nargs="*", default=DEFAULT_GRIDS, choices=list(GRIDS),
                        metavar="GRID", help="grids to compare, by name (default: all but "
                        f"the 256 matrix); the reference, {REFERENCE!r}, is always included")
    args = parser.parse_args()
    grids = [REFERENCE, *[g for g in args.grids if g != REFERENCE]]
    jobs = [(seed, grid) for seed in range(SEED0, SEED0 + args.n) for grid in grids]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(_simulate, jobs))
        rows = dict(zip(jobs, pool.map(_read, [_folder(*job) for job in jobs]), strict=True))

    def pct(values: list[bool]) -> str:
        return f"{100 * np.mean(values):5.1f}% ({sum(values)}/{len(values)})" if values else "—"

    seeds = range(SEED0, SEED0 + args.n)
    print(f"perfusion verdict vs camera grid: {args.n} patients (seeds {SEED0}+), "
          "same total counts per view")
    header = ("grid", "verdict = reference", "|Δ stress score|", "sensitivity",
              "specificity", "low-count views")
    print(f"{header[0]:28s} {header[1]:>20s} {header[2]:>17s} {header[3]:>15s} "
          f"{header[4]:>15s} {header[5]:>16s}")
    for grid in grids:
        ref = [rows[(s, REFERENCE)] for s in seeds]
        got = [rows[(s, grid)] for s in seeds]
        same = [g["verdict"] == r["verdict"] for g, r in zip(got, ref, strict=True)]
        delta = np.mean([abs(g["score"] - r["score"]) for g, r in zip(got, ref, strict=True)])
        sens = [g["verdict"] == "abnormal" for g in got if g["significant"]]
        spec = [g["verdict"] == "normal" for g in got if g["normal"]]
        low = f"{sum(g['low_counts'] for g in got)}/{sum(g['views'] for g in got)}"
        print(f"{grid:28s} {pct(same) if grid != REFERENCE else '—':>20s} {delta:17.2f} "
              f"{pct(sens):>15s} {pct(spec):>15s} {low:>16s}")


if __name__ == "__main__":
    main()
