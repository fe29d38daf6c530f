"""Experiment (not used by the analysis): explain a stress profile's losses by wall sectors.

Run: ``.venv/bin/python bench/sector_fit.py --seed0 1250000 --n 150 [--jobs 2]``.

The territory fit (``planarmpi.analysis.perfusion.territory``) explains the 15 segment
deficits by three territory signatures. This experiment asks whether a finer model does
better: the model heart (``bench/territory_signatures.py``) is imaged noise-free with a
50% defect in each of twelve 30° sectors around the long axis (base to apex), at
``--orientations`` heart orientations, and the mean per-point loss of each view's
profile is that sector's *signature*. A study's stress losses (normal mean − aligned
profile, in each view, weighted by 1 / the SD its limits used) are explained as a
non-negative combination of the twelve signatures (NNLS); each coefficient estimates the
sector's severity. From them:

- *territories*: those holding a sector whose coefficient is ≥ ``--relative`` × the
  largest and ≥ 0.1 (sector centres assigned by the model heart's territory arcs);
- *extent*: the share of the twelve sectors at ≥ half the largest coefficient, in percent
  of the LV (0 when no profile point is in a defect).

It prints, over the studies, the territory accuracy (as ``bench/perfusion_accuracy.py``
counts it) and the extent correlation of the analysis and of the sector fit. The
signatures are cached in the bench cache (``sector-signatures-N.json``). Results:
docs/validation.md, "Fifteenth session".
"""

from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import nnls

from _population import CACHE, population, studies
from planarmpi.analysis.perfusion.normals import VIEW_NAMES
from planarmpi.analysis.perfusion.profiles import ProfileParams
from planarmpi.analysis.perfusion.scoring import ScoringParams
from planarmpi.analysis.perfusion.study import analyze_perfusion
from planarmpi.simulate.phantom import TERRITORY_ARCS, Defect
from territory_signatures import SEVERITY, load_study, point_deficits, simulate_model_heart

SECTOR_WIDTH_DEG = 30.0
SECTORS_DEG = tuple(SECTOR_WIDTH_DEG / 2 + SECTOR_WIDTH_DEG * k for k in range(12))
#: Heart orientations (azimuth, elevation) in degrees, first ``--orientations`` of them.
ORIENTATIONS = ((45.0, 30.0), (35.0, 20.0), (55.0, 40.0), (35.0, 40.0), (55.0, 20.0))
VIEWS = ("ANT", "LAO", "LLAT")
#: result.json's view values → the profile views of the signatures.
_VIEW_NAMES = {view.value: name for view, name in VIEW_NAMES.items()}


def _simulate(args: tuple[float, float, float | None, str]) -> str:
    azimuth, elevation, centre, folder = args
    defect = (None if centre is None
              else Defect("CUSTOM", SEVERITY, 1.0, True, centre, SECTOR_WIDTH_DEG))
    return simulate_model_heart(azimuth, elevation, defect, folder,
                                "normal" if centre is None else f"sector{centre:g}")


def sector_signatures(n_orientations: int, jobs: int) -> dict[str, np.ndarray]:
    """Per view name: (points, 12) mean loss per unit severity of each sector."""
    cache = CACHE / f"sector-signatures-{n_orientations}.json"
    if cache.exists():
        return {k: np.asarray(v) for k, v in json.loads(cache.read_text()).items()}
    orientations = ORIENTATIONS[:n_orientations]
    params = ProfileParams()
    per_view: dict[str, list[list[np.ndarray]]] = {v: [] for v in VIEWS}
    with tempfile.TemporaryDirectory() as tmp:
        work = [(az, el, c, tmp) for az, el in orientations for c in (None, *SECTORS_DEG)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            paths = list(pool.map(_simulate, work))
        size = len(SECTORS_DEG) + 1
        for k in range(len(orientations)):
            group = paths[size * k: size * (k + 1)]
            normal = load_study(group[0])
            columns = [point_deficits(normal, load_study(p), params)[1] for p in group[1:]]
            for view in VIEWS:
                per_view[view].append([c[view] / SEVERITY for c in columns])
    out = {v: np.mean(np.asarray(per_view[v]), axis=0).T for v in VIEWS}
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({k: v.tolist() for k, v in out.items()}))
    return out


def sector_territory(centre_deg: float) -> str:
    """The model heart's territory whose arc holds a sector's centre."""
    def distance(territory: str) -> float:
        centre, width = TERRITORY_ARCS[territory]
        return abs((centre_deg - centre + 180.0) % 360.0 - 180.0) - width / 2
    return min(TERRITORY_ARCS, key=distance)


def weighted_losses(state: dict[str, Any], signatures: dict[str, np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray] | None:
    """One state's signatures and stress losses (normal mean − aligned profile) over its
    views, both weighted by 1 / the SD the limits used (None without limits)."""
    losses, weights, rows = [], [], []
    for view in state["views"]:
        profile = view["profile"]
        if profile.get("aligned_values") is None or view["view"] not in _VIEW_NAMES:
            continue
        sd = np.asarray(profile["sd_used"])
        mean = np.asarray(profile["lower_limit"]) + ScoringParams().sd_multiplier * sd
        losses.append(mean - np.asarray(profile["aligned_values"]))
        weights.append(1.0 / sd)
        rows.append(signatures[_VIEW_NAMES[view["view"]]])
    if not losses:
        return None
    w = np.concatenate(weights)
    return np.vstack(rows) * w[:, None], np.concatenate(losses) * w


def sector_fit(state: dict[str, Any], signatures: dict[str, np.ndarray]) -> np.ndarray | None:
    """NNLS coefficients of the twelve sectors for one state's views (None without limits)."""
    weighted = weighted_losses(state, signatures)
    if weighted is None:
        return None
    coefficients, _ = nnls(*weighted)
    return np.asarray(coefficients)


def stress_and_truth(path: Path, section: dict[str, Any]
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The analysed stress state of a simulated study, and the row fields both experiments
    compare against: the truth's defects, territories and extent, the analysis' own."""
    truth = json.loads((path / "truth.json").read_text())
    stress_name = next(s for s in truth["perfusion"]["states"] if s.startswith("stress"))
    stress = next(s for s in section["states"] if s["state"] == stress_name)
    defects = truth["defects"]
    significant = [d for d in defects if d["severity"] >= 0.3 and d["extent_percent_of_lv"] >= 5]
    return stress, {
        "study": path.name, "verdict": section["verdict"], "defects": defects,
        "significant": bool(significant), "n_defects": len(defects),
        "max_severity": max((d["severity"] for d in defects), default=0.0),
        "required": {d["territory"] for d in significant},
        "true": {d["territory"] for d in defects},
        "named_analysis": set(section["territories"]),
        "true_extent": truth["perfusion"]["states"][stress_name]["defect_extent_percent"],
        "extent_analysis": stress["extent_percent"] or 0.0,
        "any_abnormal": any(any(v["profile"].get("abnormal") or []) for v in stress["views"])}


def print_comparison(rows: list[dict[str, Any]], method: str, prefix: str = "") -> None:
    """Territory accuracy (as ``bench/perfusion_accuracy.py`` counts it) and extent r of
    the analysis and of ``method`` (row fields ``named_<method>``, ``extent_<method>``)."""
    detected = [r for r in rows if r["significant"] and r["verdict"] == "abnormal"]
    ok = {s: sum(r["required"] <= r[f"named_{s}"] <= r["true"] for r in detected)
          for s in ("analysis", method)}
    print(f"{prefix}{'territory correct, detected (' + str(len(detected)) + ')':40s} "
          f"{ok['analysis']:>10d} {ok[method]:>10d}")
    truth = np.array([r["true_extent"] for r in rows])
    for label, mask in (("extent r, all studies", np.ones(len(rows), bool)),
                        ("extent r, studies with a defect",
                         np.array([r["n_defects"] > 0 for r in rows]))):
        r = {s: float(np.corrcoef(truth[mask],
                                  np.array([x[f"extent_{s}"] for x in rows])[mask])[0, 1])
             for s in ("analysis", method)}
        print(f"{prefix}{label:40s} {r['analysis']:>10.3f} {r[method]:>10.3f}")


def _evaluate(path: Path, study: Any, signatures: dict[str, np.ndarray],
              relative: float) -> dict[str, Any]:
    section = analyze_perfusion(study).section  # type: ignore[union-attr]
    stress, row = stress_and_truth(path, section)
    coefficients = sector_fit(stress, signatures)
    named: set[str] = set()
    extent = 0.0
    if coefficients is not None and row["any_abnormal"] and coefficients.max() > 0:
        top = float(coefficients.max())
        named = {sector_territory(c) for c, k in zip(SECTORS_DEG, coefficients, strict=True)
                 if k >= relative * top and k >= 0.1}
        extent = 100.0 * float(np.mean(coefficients >= 0.5 * top))
    return {**row, "named_sectors": named, "extent_sectors": extent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed0", type=int, default=1_250_000)
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--orientations", type=int, default=1, choices=range(1, 6))
    parser.add_argument("--relative", type=float, default=0.5)
    args = parser.parse_args()
    signatures = sector_signatures(args.orientations, args.jobs)
    paths = population(f"perfusion-dev-{args.seed0}", "bench", args.n, args.seed0,
                       jobs=args.jobs)
    rows = [_evaluate(p, s, signatures, args.relative) for p, s in studies(paths)]
    print(f"sector fit over {len(rows)} studies (seeds {args.seed0}+), "
          f"{args.orientations} orientation(s), relative {args.relative}")
    print(f"{'measure':40s} {'analysis':>10s} {'sectors':>10s}")
    print_comparison(rows, "sectors")


if __name__ == "__main__":
    main()
