"""Experiment (not used by the analysis): explain a stress profile's losses by contiguous arcs.

Run: ``.venv/bin/python bench/arc_fit.py --seed0 1250000 --n 150 [--jobs 2]``.

The sector fit (``bench/sector_fit.py``, fifteenth session) let twelve 30° sectors take
independent non-negative weights; a deep defect then spread over its neighbours and the
extent by sector count did not follow the true width. A defect of the phantom, and of a
coronary territory, is one contiguous arc of the wall around the long axis with one depth.
This experiment fits exactly that: the model heart (``bench/territory_signatures.py``) is
imaged noise-free with a 50% defect in each of 36 sectors of 10° (base to apex); the
phantom's arc shoulders make adjacent sectors add up to the arc they span, so the loss
signature of an arc of k sectors is the sum of theirs. A study's stress losses (normal mean
− aligned profile, every view, weighted by 1 / the SD its limits used) are explained by

- one arc (every start × width of 1–``--max-width`` sectors, closed-form non-negative
  depth), or
- two non-overlapping arcs (every pair, 2 × 2 normal equations, both depths positive),
  kept only when it lowers the weighted residual sum of squares by more than ``--kappa``.

*extent* = the arcs' total width / 360° × the share of the LV myocardium a full ring covers
(the model heart's, base ramp to apex) — the simulator's definition of a defect's extent —
and 0 when no profile point is abnormal or the deepest arc is shallower than
``--min-depth``; *territories* are those holding an arc's centre. The signatures are
cached in the bench cache (``arc-signatures-36.json``). Results: docs/validation.md,
"Sixteenth session".
"""

from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from _population import CACHE, population, studies
from planarmpi.analysis.perfusion.profiles import ProfileParams
from planarmpi.analysis.perfusion.study import analyze_perfusion
from planarmpi.simulate.phantom import (
    Anatomy,
    Defect,
    Grid,
    defect_extent_percent,
    heart_masks,
)
from sector_fit import (
    VIEWS,
    print_comparison,
    sector_territory,
    stress_and_truth,
    weighted_losses,
)
from territory_signatures import SEVERITY, load_study, point_deficits, simulate_model_heart

N_SECTORS = 36
SECTOR_DEG = 360.0 / N_SECTORS
CENTRES_DEG = tuple(SECTOR_DEG / 2 + SECTOR_DEG * k for k in range(N_SECTORS))
ORIENTATION = (45.0, 30.0)


def _simulate(args: tuple[float | None, str]) -> str:
    centre, folder = args
    defect = (None if centre is None
              else Defect("CUSTOM", SEVERITY, 1.0, True, centre, SECTOR_DEG))
    return simulate_model_heart(*ORIENTATION, defect, folder,
                                "normal" if centre is None else f"arc{centre:g}")


def arc_signatures(jobs: int) -> dict[str, np.ndarray]:
    """Per view name: (points, 36) mean loss per unit severity of each 10° sector."""
    cache = CACHE / f"arc-signatures-{N_SECTORS}.json"
    if cache.exists():
        return {k: np.asarray(v) for k, v in json.loads(cache.read_text()).items()}
    params = ProfileParams()
    with tempfile.TemporaryDirectory() as tmp:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            paths = list(pool.map(_simulate, [(c, tmp) for c in (None, *CENTRES_DEG)]))
        normal = load_study(paths[0])
        columns = [point_deficits(normal, load_study(p), params)[1] for p in paths[1:]]
    out = {v: np.asarray([c[v] / SEVERITY for c in columns]).T for v in VIEWS}
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({k: v.tolist() for k, v in out.items()}))
    return out


def ring_share_percent() -> float:
    """Percentage of the model heart's LV myocardium that a full-ring defect covers."""
    heart = heart_masks(Anatomy(heart_azimuth_deg=ORIENTATION[0],
                                heart_elevation_deg=ORIENTATION[1], edv_ml=120.0),
                        Grid(), 0.0)
    return defect_extent_percent(heart, (Defect("CUSTOM", 0.5, 1.0, True, 0.0, 360.0),))


def arc_membership(max_width: int) -> np.ndarray:
    """(arcs, 36) booleans: arc ``start * max_width + (width - 1)`` covers which sectors."""
    rows = []
    for start in range(N_SECTORS):
        for width in range(1, max_width + 1):
            row = np.zeros(N_SECTORS, bool)
            row[(start + np.arange(width)) % N_SECTORS] = True
            rows.append(row)
    return np.asarray(rows)


def _arc_centre_deg(member: np.ndarray) -> float:
    """Circular mean of the covered sectors' centres."""
    angles = np.radians(np.asarray(CENTRES_DEG)[member])
    return float(np.degrees(np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())) % 360)


def arc_fit(state: dict[str, Any], signatures: dict[str, np.ndarray], member: np.ndarray,
            kappa: float, max_depth: float = np.inf,
            ) -> tuple[list[tuple[np.ndarray, float]], float] | None:
    """The arcs (membership, depth) explaining one state's losses, and the RSS reduction."""
    weighted = weighted_losses(state, signatures)
    if weighted is None:
        return None
    a, b = weighted
    columns = a @ member.T.astype(float)          # (points, arcs)
    r = columns.T @ b
    gram = columns.T @ columns
    g = np.diag(gram)
    depth = np.clip(r / g, 0.0, max_depth)
    single = 2 * depth * r - depth * depth * g
    best = int(np.argmax(single))
    arcs = [(member[best], float(depth[best]))] if single[best] > 0 else []
    gain = float(single[best])
    # Pairs of disjoint arcs: 2 × 2 normal equations for every pair at once.
    disjoint = ~(member.astype(int) @ member.T.astype(int)).astype(bool)
    i, j = np.nonzero(np.triu(disjoint, 1))
    det = g[i] * g[j] - gram[i, j] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = (g[j] * r[i] - gram[i, j] * r[j]) / det
        d2 = (g[i] * r[j] - gram[i, j] * r[i]) / det
    pair_gain = np.where((d1 > 0) & (d2 > 0) & (det > 0), d1 * r[i] + d2 * r[j], 0.0)
    k = int(np.argmax(pair_gain))
    if pair_gain[k] - gain > kappa:
        arcs = [(member[i[k]], float(d1[k])), (member[j[k]], float(d2[k]))]
        gain = float(pair_gain[k])
    return arcs, gain


def _evaluate(path: Path, section: dict[str, Any], signatures: dict[str, np.ndarray],
              member: np.ndarray, ring_percent: float, kappa: float, min_depth: float,
              max_depth: float) -> dict[str, Any]:
    stress, row = stress_and_truth(path, section)
    fit = arc_fit(stress, signatures, member, kappa, max_depth)
    named: set[str] = set()
    extent = depth = 0.0
    arcs: list[tuple[np.ndarray, float]] = []
    if fit is not None and row["any_abnormal"] and fit[0]:
        depth = max(d for _, d in fit[0])
        if depth >= min_depth:
            arcs = fit[0]
            covered = np.any([m for m, _ in arcs], axis=0)
            extent = ring_percent * float(covered.mean())
            named = {sector_territory(_arc_centre_deg(m)) for m, _ in arcs}
    fitted = fit[0] if fit is not None else []
    return {**row, "named_arcs": named, "extent_arcs": extent, "depth_arcs": depth,
            "n_arcs": len(arcs),
            "fitted_arcs": [(_arc_centre_deg(m), SECTOR_DEG * float(m.sum())) for m, _ in fitted]}


def _single_defect_lines(rows: list[dict[str, Any]], prefix: str) -> None:
    """Centre and width of the widest fitted arc (before the abnormal-point and depth
    gates) against the one true defect's arc."""
    single = [r for r in rows if r["n_defects"] == 1 and r["defects"][0].get("arc_deg")]
    if not single:
        return
    true_arc = np.array([r["defects"][0]["arc_deg"] for r in single])  # (centre, width) °
    fitted = np.array([max(r["fitted_arcs"], key=lambda a: a[1]) if r["fitted_arcs"]
                       else (np.nan, 0.0) for r in single])
    off = np.abs((fitted[:, 0] - true_arc[:, 0] + 180.0) % 360.0 - 180.0)
    print(f"{prefix}{'one-defect studies: fit centre within 20°':40s} {'':>10s} "
          f"{int(np.sum(off <= 20.0)):>4d} / {len(single):<3d}")
    print(f"{prefix}{'one-defect studies: fit width r, true width':40s} "
          f"{np.corrcoef(true_arc[:, 1], [r['extent_analysis'] for r in single])[0, 1]:>10.3f} "
          f"{np.corrcoef(true_arc[:, 1], fitted[:, 1])[0, 1]:>10.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed0", type=int, default=1_250_000)
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-width", type=int, default=24,
                        help="widest arc, in 10° sectors")
    parser.add_argument("--kappa", type=float, nargs="+", default=[1e9, 80.0, 40.0],
                        help="RSS reduction a second arc must add (weighted units); "
                             "1e9 = one arc only (the defaults: the docs' table)")
    parser.add_argument("--min-depth", type=float, default=0.1)
    parser.add_argument("--max-depth", type=float, default=np.inf,
                        help="upper bound of an arc's depth (fractional uptake loss)")
    args = parser.parse_args()
    signatures = arc_signatures(args.jobs)
    ring_percent = ring_share_percent()
    member = arc_membership(args.max_width)
    paths = population(f"perfusion-dev-{args.seed0}", "bench", args.n, args.seed0,
                       jobs=args.jobs)
    loaded = [(p, analyze_perfusion(s).section)  # type: ignore[union-attr]
              for p, s in studies(paths)]
    print(f"arc fit over {len(loaded)} studies (seeds {args.seed0}+), full ring = "
          f"{ring_percent:.1f}% of the LV, min depth {args.min_depth}")
    print(f"{'kappa':>6s} {'measure':40s} {'analysis':>10s} {'arcs':>10s}")
    for kappa in args.kappa:
        rows = [_evaluate(p, s, signatures, member, ring_percent, kappa, args.min_depth,
                          args.max_depth) for p, s in loaded]
        print_comparison(rows, "arcs", prefix=f"{kappa:6g} ")
        with_defect = [r for r in rows if r["n_defects"] > 0]
        depth_r = np.corrcoef([r["max_severity"] for r in with_defect],
                              [r["depth_arcs"] for r in with_defect])[0, 1]
        print(f"{kappa:6g} {'depth r with max severity (with defect)':40s} {'':>10s} "
              f"{depth_r:>10.3f}")
        print(f"{kappa:6g} {'two arcs fitted / two true defects':40s} {'':>10s} "
              f"{sum(r['n_arcs'] == 2 for r in rows):>4d} / "
              f"{sum(r['n_defects'] == 2 for r in rows):<3d}")
        _single_defect_lines(rows, prefix=f"{kappa:6g} ")

if __name__ == "__main__":
    main()
