"""Patient motion in framed static views: measured shift vs truth, detection, and what the
correction does to the verdict.

Run: ``.venv/bin/python bench/perfusion_motion.py [--n 40] [--jobs 2]`` (≈ 5 min the first
time; the simulated studies are cached).

The population: studies of the perfusion benchmark's kind (``random_perfusion_spec``,
seeds 870000+, not used by the tests: normals with their traps, 1–2 defects) with every
static view acquired in 6 time frames. In each study the patient moves once, during one
random view of one random state: a shift of 3–30 mm in a random direction from a random
time (20–80% of the view's acquisition) on. Each study is simulated twice with the same
seed — with that motion and without it (the same noise elsewhere) — so the verdict the
still patient would have had is known.

Measures: the largest displacement measured in the moved view vs the true shift (error,
mm); detection (``moved``) among views moved ≥ 8 mm and among views not moved at all
(false alarms); the verdict with correction (default) and without it
(``MotionParams(correct=False)``) against the still twin's; the time to register a
framed view.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from _population import CACHE, studies
from planarmpi.analysis.perfusion.motion import MotionParams, framed_static_view
from planarmpi.analysis.perfusion.study import PerfusionParams, analyze_perfusion
from planarmpi.simulate.presets import random_perfusion_spec
from planarmpi.simulate.study import VIEWS, PatientMotion, simulate_study

SEED0 = 870_000
FRAMES = 6
DETECTABLE_MM = 8.0


def _motion(rng: np.random.Generator, views: tuple[str, ...], states: tuple[Any, ...]
            ) -> PatientMotion:
    size = float(rng.uniform(3.0, 30.0))
    angle = float(rng.uniform(0, 2 * np.pi))
    return PatientMotion(str(rng.choice(list(views))), float(rng.uniform(0.2, 0.8)),
                         (size * np.sin(angle), size * np.cos(angle)),
                         (states[int(rng.integers(len(states)))],))


def _simulate(seed: int) -> tuple[str, str]:
    folder = CACHE / "perfusion-motion"
    moved, still = folder / f"{seed:06d}-moved", folder / f"{seed:06d}-still"
    if not (moved / "truth.json").exists() or not (still / "truth.json").exists():
        spec = random_perfusion_spec(np.random.default_rng(seed), seed - SEED0)
        spec = replace(spec, static_frames=FRAMES)
        motion = _motion(np.random.default_rng([seed, 1]), spec.static_views, spec.states)
        simulate_study(replace(spec, motion=(motion,)), moved, seed=seed)
        simulate_study(spec, still, seed=seed)
    return str(moved), str(still)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        pairs = list(pool.map(_simulate, range(SEED0, SEED0 + args.n)))
    errors, detected, false_alarms, seconds = [], [], [], []
    same_corrected, same_raw = [], []
    raw_params = PerfusionParams(motion=MotionParams(correct=False))
    for moved_dir, still_dir in pairs:
        truth = json.loads((Path(moved_dir) / "truth.json").read_text())
        motion = truth["motion"][0]
        shift = float(np.hypot(*motion["shift_mm"]))
        [(_, moved)] = list(studies([Path(moved_dir)]))
        [(_, still)] = list(studies([Path(still_dir)]))
        for series in moved.framed_statics:
            start = time.perf_counter()
            _, m = framed_static_view(series)
            seconds.append(time.perf_counter() - start)
            acq = series.acquisition
            is_moved = (acq.view is VIEWS[motion["view"]][0]
                        and acq.state.value in motion["states"])
            if is_moved:
                errors.append(m.max_displacement_mm - shift)
                if shift >= DETECTABLE_MM:
                    detected.append(m.moved)
            else:
                false_alarms.append(m.moved)
        reference = analyze_perfusion(still)
        corrected = analyze_perfusion(moved)
        raw = analyze_perfusion(moved, params=raw_params)
        assert reference is not None
        assert corrected is not None
        assert raw is not None
        same_corrected.append(corrected.section["verdict"] == reference.section["verdict"])
        same_raw.append(raw.section["verdict"] == reference.section["verdict"])

    def pct(values: list[bool]) -> str:
        return f"{100 * np.mean(values):5.1f}% ({sum(values)}/{len(values)})"

    e = np.asarray(errors)
    print(f"patient motion in framed static views: {len(pairs)} studies ({FRAMES} frames per "
          f"view, seeds {SEED0}+)")
    print(f"{'measure':52s} {'value':>18s}")
    for name, value in [
        ("measured − true shift, moved view: mean (mm)", f"{e.mean():18.2f}"),
        ("  mean absolute error (mm)", f"{np.abs(e).mean():18.2f}"),
        ("  largest absolute error (mm)", f"{np.abs(e).max():18.2f}"),
        (f"detected | shift ≥ {DETECTABLE_MM:g} mm", pct(detected)),
        ("false alarm | view not moved", pct(false_alarms)),
        ("verdict = still twin's, corrected", pct(same_corrected)),
        ("verdict = still twin's, not corrected", pct(same_raw)),
        ("seconds per framed view (median)", f"{np.median(seconds):18.3f}"),
    ]:
        print(f"{name:52s} {value:>18s}")


if __name__ == "__main__":
    main()
