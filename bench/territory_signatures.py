"""Derive the planar territory signatures: how a defect of each coronary territory projects.

Run: ``.venv/bin/python bench/territory_signatures.py [--jobs 2] [--write]``.

A model heart (the simulator's: LV shell with the usual right-dominant territories as arcs
around the long axis — LAD anterior wall and anterior septum, RCA inferior wall and inferior
septum, LCX lateral and posterolateral wall — reaching the apex) is imaged noise-free
(1e8 counts per view, male chest without breasts, faint liver and gut) at the three standard
views, for 9 orientations (azimuth 35/45/55°, elevation 20/30/40°), once without defect and
once with each territory reduced by 50% over its whole arc. Each defect image's profile is
measured on the normal image's LV ring, rotated onto the built-in template as the normal's
is, and the deficit (normal − defect, in units of the normal profile's maximum) is averaged
over each of the 15 segments' arcs. The mean over orientations, divided by the 0.5 severity,
is the territory's *signature*: the expected fractional count loss in each segment when the
whole territory is absent. The analysis explains a study's segment deficits as a
non-negative combination of the three signatures (``planarmpi.analysis.perfusion.territory``).
With ``--write`` the signatures are stored in
``src/planarmpi/analysis/data/planar_territory_signatures.json``.

This is a projection of a model anatomy, not of patients; a site with other coronary
dominance or another territory model can write its own file.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from planarmpi.analysis.perfusion.normals import VIEW_NAMES, best_shift, builtin_limits
from planarmpi.analysis.perfusion.profiles import ProfileParams, circumferential_profile
from planarmpi.analysis.perfusion.rings import oriented_pixels, view_profiles
from planarmpi.analysis.perfusion.scoring import in_arc, segment_arcs
from planarmpi.io.reader import iter_studies
from planarmpi.model import State, Study
from planarmpi.simulate.phantom import TERRITORIES, Anatomy, Defect
from planarmpi.simulate.study import SimulationSpec, simulate_study

OUT = (Path(__file__).resolve().parents[1]
       / "src/planarmpi/analysis/data/planar_territory_signatures.json")
SEVERITY = 0.5
ORIENTATIONS = [(az, el) for az in (35.0, 45.0, 55.0) for el in (20.0, 30.0, 40.0)]


def _simulate(args: tuple[float, float, str | None, str]) -> str:
    azimuth, elevation, territory, folder = args
    return simulate_model_heart(azimuth, elevation,
                                Defect(territory, SEVERITY, 1.0, True) if territory else None,
                                folder, territory or "normal")


def simulate_model_heart(azimuth: float, elevation: float, defect: Defect | None, folder: str,
                         label: str) -> str:
    """The model heart at one orientation, noise-free, with ``defect`` or none."""
    anatomy = Anatomy(heart_azimuth_deg=azimuth, heart_elevation_deg=elevation, edv_ml=120.0)
    spec = SimulationSpec(
        name=f"signature-{azimuth:g}-{elevation:g}-{label}", anatomy=anatomy,
        states=(State.STRESS_EXERCISE,), gated_view=None, counts_per_view=1e8,
        uptake=(("liver", 0.05), ("gut", 0.05)), defects=(defect,) if defect else ())
    out = Path(folder) / spec.name
    simulate_study(spec, out, seed=1)
    return str(out)


def load_study(path: str) -> Study:
    return next(s for s in iter_studies([Path(path)]) if isinstance(s, Study))


def point_deficits(normal: Study, defect: Study,
                   params: ProfileParams) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The profile angles (degrees) and, per view name, normal − defect profile in units of
    the normal profile's maximum, measured on the normal image's LV ring and rotated onto
    the built-in template as the normal's is."""
    limits = next(lim for lim in builtin_limits() if lim.sex.value == "M"
                  and lim.tracer_group == "tc99m")
    out: dict[str, np.ndarray] = {}
    angles = np.empty(0)
    by_view = {s.acquisition.view: s for s in defect.statics}
    for vp in view_profiles(list(normal.statics), params):
        view = vp.image.acquisition.view
        assert vp.profile is not None, f"no LV in the normal {view.value} view"
        spacing = vp.image.acquisition.pixel_spacing_mm
        assert spacing is not None
        pixels, _ = oriented_pixels(by_view[view])
        with_defect = circumferential_profile(pixels, spacing, params,
                                              geometry=vp.profile.geometry)
        template = limits.for_view(view, State.STRESS_EXERCISE)
        assert template is not None
        step = 360.0 / vp.profile.values.size
        shift = best_shift(vp.profile.values, template.mean,
                           int(template.alignment_max_deg // step))
        out[VIEW_NAMES[view]] = np.roll((vp.profile.raw_max_counts - with_defect.raw_max_counts)
                                        / vp.profile.normaliser_counts, shift)
        angles = np.asarray(vp.profile.angles_deg)
    return angles, out


def _segment_deficits(normal: Study, defect: Study, params: ProfileParams) -> dict[str, float]:
    out: dict[str, float] = {}
    arcs = segment_arcs()
    angles, deficits = point_deficits(normal, defect, params)
    for name, deficit in deficits.items():
        for index, start, end in arcs[name]:
            inside = in_arc(angles, start, end)
            out[f"{name}-{index}"] = float(deficit[inside].mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    params = ProfileParams()
    with tempfile.TemporaryDirectory() as tmp:
        work = [(az, el, t, tmp) for az, el in ORIENTATIONS for t in (None, *TERRITORIES)]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            paths = list(pool.map(_simulate, work))
        per_territory: dict[str, list[dict[str, float]]] = {t: [] for t in TERRITORIES}
        for k in range(len(ORIENTATIONS)):
            group = paths[4 * k: 4 * k + 4]
            normal = load_study(group[0])
            for territory, path in zip(TERRITORIES, group[1:], strict=True):
                per_territory[territory].append(_segment_deficits(normal, load_study(path), params))
    keys = list(per_territory[TERRITORIES[0]][0])
    signatures: dict[str, dict[str, float]] = {}
    print(f"{'segment':8s} " + " ".join(f"{t:>12s}" for t in TERRITORIES))
    for key in keys:
        row = {t: float(np.mean([d[key] for d in per_territory[t]])) / SEVERITY
               for t in TERRITORIES}
        spread = {t: float(np.std([d[key] for d in per_territory[t]])) / SEVERITY
                  for t in TERRITORIES}
        signatures[key] = {t: round(max(v, 0.0), 4) for t, v in row.items()}
        print(f"{key:8s} " + " ".join(f"{row[t]:6.3f}±{spread[t]:.3f}" for t in TERRITORIES))
    doc: dict[str, Any] = {
        "schema": "planarmpi/planar-territory-signatures@1",
        "definition": "expected fractional count loss (of the normal profile maximum) averaged "
                      "over each segment's arc when a territory's whole arc is absent",
        "source": "projection of the planarmpi model heart (right-dominant territories as arcs "
                  "around the long axis, reaching the apex), noise-free, 9 orientations "
                  "(azimuth 35/45/55°, elevation 20/30/40°), bench/territory_signatures.py",
        "segments": signatures,
    }
    if args.write:
        OUT.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"written to {OUT}")
    else:
        print(json.dumps({"segments": len(signatures)}))


if __name__ == "__main__":
    main()
