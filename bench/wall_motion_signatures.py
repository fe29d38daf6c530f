"""Derive the wall-motion territory signatures of the LAO segments.

Run: ``.venv/bin/python bench/wall_motion_signatures.py [--method blood-pool|gated-perfusion]
[--jobs 2] [--write]``.

In the LAO view the walls overlap: the anterior wall (LAD) faces the camera and runs to the
apex, so an LAD motion abnormality lowers the regional EF of the inferoapical segment
(LAO-3, mapped to the RCA) as well as the septum's. A segment's grade alone therefore cannot
name the territory. As for perfusion (``bench/territory_signatures.py``), each territory's
*signature* is measured on the simulator's model heart: a near noise-free gated blood pool
(4e8 counts; regional EF) or gated Tc-99m perfusion LAO view (5e7 counts, faint liver and
gut; regional shortening of the endocardial border) at 9 orientations (azimuth
37/45/53°, elevation 22/30/38°), once with normal motion and once with each territory
akinetic over its whole arc; each segment's relative drop of its motion measure
(1 − akinetic / normal), averaged over the orientations and clipped at 0, is the
signature. The
analysis explains a study's segment deficits (below the normal mean, relative) as a
non-negative combination of the signatures (``planarmpi.analysis.wall_motion``). With
``--write`` the table is stored in
``src/planarmpi/analysis/data/wall_motion_territory_signatures.json`` (blood pool) or
``gated_perfusion_territory_signatures.json``.

This is a projection of a model anatomy (territories as arcs around the long axis reaching
the apex), not of patients; a site with another territory model can write its own file.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from _muga import simulate_and_analyze
from _population import CACHE

DATA = Path(__file__).resolve().parents[1] / "src/planarmpi/analysis/data"
OUT = {"blood-pool": DATA / "wall_motion_territory_signatures.json",
       "gated-perfusion": DATA / "gated_perfusion_territory_signatures.json"}
ORIENTATIONS = [(az, el) for az in (37.0, 45.0, 53.0) for el in (22.0, 30.0, 38.0)]
TERRITORIES = ("LAD", "LCX", "RCA")


def one(args: tuple[str, float, float, str | None]) -> dict[str, float]:
    from planarmpi.simulate.phantom import Anatomy

    method, azimuth, elevation, territory = args
    anatomy = Anatomy(heart_azimuth_deg=azimuth, heart_elevation_deg=elevation, edv_ml=120.0,
                      lvef_percent=65.0, heart_rate_bpm=70.0,
                      wall_motion={territory: 0.0} if territory else {})
    name = f"{azimuth:g}-{elevation:g}-{territory or 'normal'}"
    if method == "gated-perfusion":
        return _gated_perfusion(name, anatomy)
    out = simulate_and_analyze(1, name=f"wm-signature-{name}", anatomy=anatomy,
                               counts_per_view=4e8)
    if out.result is None:
        raise RuntimeError(out.error)
    return {s.segment: s.regional_ef_percent for s in out.result.wall_motion}


def _gated_perfusion(name: str, anatomy: object) -> dict[str, float]:
    from planarmpi import read_studies
    from planarmpi.analysis.gated_perfusion import analyze_gated_perfusion
    from planarmpi.simulate import simulate_study
    from planarmpi.simulate.study import SimulationSpec

    spec = SimulationSpec(name=f"gp-signature-{name}", anatomy=anatomy,  # type: ignore[arg-type]
                          static_views=(), gated_view="LAO45", counts_per_view=5e7,
                          uptake=(("liver", 0.05), ("gut", 0.05)))
    folder = CACHE / "gated-perfusion" / spec.name
    if not (folder / "truth.json").exists():
        simulate_study(spec, folder, seed=1)
    (study,) = read_studies(folder).studies
    result = analyze_gated_perfusion(study.gated[0])
    return {s.segment: s.shortening_percent for s in result.wall_motion}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--method", choices=sorted(OUT), default="blood-pool")
    args = parser.parse_args()
    jobs = [(args.method, az, el, t) for az, el in ORIENTATIONS for t in (None, *TERRITORIES)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = dict(zip(jobs, pool.map(one, jobs), strict=True))
    segments = sorted(results[jobs[0]])
    drops: dict[str, dict[str, list[float]]] = {s: {t: [] for t in TERRITORIES}
                                               for s in segments}
    for az, el in ORIENTATIONS:
        normal = results[(args.method, az, el, None)]
        for t in TERRITORIES:
            for s in segments:
                drops[s][t].append(1.0 - results[(args.method, az, el, t)][s] / normal[s])
    # A segment that moves *more* when another territory is akinetic (the LV centre shifts)
    # shows no deficit, which the analysis clips at 0: the table is clipped alike.
    table = {s: {t: round(max(float(np.mean(drops[s][t])), 0.0), 4) for t in TERRITORIES}
             for s in segments}
    print(f"{args.method}: relative drop of the segments' motion when a territory is "
          "akinetic (mean ± SD over "
          f"{len(ORIENTATIONS)} orientations)")
    print(f"{'segment':8s} " + " ".join(f"{t:>13s}" for t in TERRITORIES))
    for s in segments:
        print(f"{s:8s} " + " ".join(f"{np.mean(drops[s][t]):6.2f} ± {np.std(drops[s][t]):4.2f}"
                                    for t in TERRITORIES))
    if args.write:
        OUT[args.method].write_text(json.dumps({
            "schema": "planarmpi/wall-motion-territory-signatures@1",
            "source": f"bench/wall_motion_signatures.py --method {args.method} (the "
                      "simulator's model heart, LAO, 9 orientations, each territory "
                      "akinetic)",
            "segments": table,
        }, indent=2) + "\n", encoding="utf-8")
        print(f"written {OUT[args.method]}")


if __name__ == "__main__":
    main()
