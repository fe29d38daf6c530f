"""Perfusion analysis of simulated normals under what real images add: hot foci beside the
heart or in the lung field, a blurrier camera, more scatter, a heart near the matrix border.

Run: ``.venv/bin/python bench/perfusion_robustness.py [--seed0 1440000] [--n 150]
[--normals 12] [--jobs 2]``. The first ``--normals`` normals of a draw of the benchmark's
design (``random_perfusion_spec``, cached like ``bench/perfusion_accuracy.py``'s) are each
analysed as simulated and under every perturbation; the table gives, per perturbation, the
share of their verdicts that stayed the same, and for the lung field the largest change of
the anterior lung/heart ratio and how many ratios were not measured. A perturbation is added
to every static view of both states:

* ``box-edge focus`` — a Gaussian focus (8 mm σ, 19 mm FWHM) at ``×`` the view's maximum
  (0.5, 1, 3; and 10, an injection site, in the last row),
  centred on one side of the view's background box (top, left, right, bottom: one row each
  summed) — a gut loop or the stomach beside the heart (docs/perfusion.md §2, §3);
* ``lung-field focus`` — the same at 7 cm above the image centre, 25 mm inside the image's
  right edge (the patient's left arm: an injection site), anterior views only, σ as given
  (docs/perfusion.md §6);
* ``blur`` — an extra Gaussian blur of the given FWHM (a general-purpose collimator, a
  larger distance); ``scatter`` — that share of the counts redistributed by a 30 mm σ
  Gaussian, then Poisson-resampled (which also adds noise);
* ``crop`` — the heart near the matrix border: the image cut by that many pixels on one
  side (the counts go on to the border).

Normals only: these perturbations add no defect, so any change of verdict is the
perturbation's doing. Each (study, row, side) draws its noise from its own seed, so a row
added leaves the others' figures as they were (since 2026-12-03). The seeds are read,
never tuned on (1440000+ is a benchmark draw read before).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from scipy import ndimage

from _population import population, studies
from planarmpi.analysis.perfusion.study import analyze_perfusion
from planarmpi.model import StaticImage, Study, View

Perturb = Callable[[Study, dict[str, Any], np.random.Generator], Study]


def _each_static(study: Study, change: Callable[[StaticImage], Any]) -> Study:
    series = []
    for s in study.series:
        if isinstance(s, StaticImage):
            pixels = change(s)
            if pixels is not None:
                s = replace(s, pixels=np.asarray(pixels).astype(np.asarray(s.pixels).dtype))
        series.append(s)
    return replace(study, series=tuple(series))


def _spacing_mm(s: StaticImage) -> float:
    spacing = s.acquisition.pixel_spacing_mm
    return float(spacing[0]) if spacing else 3.2


def _gaussian(shape: tuple[int, ...], centre: tuple[float, float], sigma_px: float) -> Any:
    rr, cc = np.indices(shape[-2:], dtype=np.float64)
    return np.exp(-((rr - centre[0]) ** 2 + (cc - centre[1]) ** 2) / (2 * sigma_px ** 2))


def box_edge_focus(side: str, times_max: float) -> Perturb:
    def perturb(study: Study, clean: dict[str, Any], rng: np.random.Generator) -> Study:
        boxes = {(s["state"], v["view"]): v["background_box_rc"]
                 for s in clean["states"] for v in s["views"]}

        def change(s: StaticImage) -> Any:
            box = boxes.get((s.acquisition.state.value, s.acquisition.view.value))
            if box is None:
                return None
            r0, r1, c0, c1 = box
            centre = {"top": (r0, (c0 + c1) / 2), "bottom": (r1 - 1, (c0 + c1) / 2),
                      "left": ((r0 + r1) / 2, c0), "right": ((r0 + r1) / 2, c1 - 1)}[side]
            pixels = np.asarray(s.pixels, dtype=np.float64)
            sigma = 8.0 / _spacing_mm(s)
            return pixels + rng.poisson(times_max * pixels.max()
                                        * _gaussian(pixels.shape, centre, sigma))
        return _each_static(study, change)
    return perturb


def lung_field_focus(fwhm_mm: float, times_max: float) -> Perturb:
    def perturb(study: Study, clean: dict[str, Any], rng: np.random.Generator) -> Study:
        def change(s: StaticImage) -> Any:
            if s.acquisition.view is not View.ANTERIOR:
                return None
            pixels = np.asarray(s.pixels, dtype=np.float64)
            spacing = _spacing_mm(s)
            h, w = pixels.shape
            centre = (h / 2 - 70.0 / spacing, w - 25.0 / spacing)
            return pixels + rng.poisson(times_max * pixels.max() * _gaussian(
                pixels.shape, centre, fwhm_mm / 2.355 / spacing))
        return _each_static(study, change)
    return perturb


def blur(fwhm_mm: float) -> Perturb:
    def perturb(study: Study, clean: dict[str, Any], rng: np.random.Generator) -> Study:
        return _each_static(study, lambda s: np.round(ndimage.gaussian_filter(
            np.asarray(s.pixels, dtype=np.float64),
            fwhm_mm / 2.355 / _spacing_mm(s))))
    return perturb


def scatter(share: float) -> Perturb:
    def perturb(study: Study, clean: dict[str, Any], rng: np.random.Generator) -> Study:
        def change(s: StaticImage) -> Any:
            pixels = np.asarray(s.pixels, dtype=np.float64)
            wide = ndimage.gaussian_filter(pixels, 30.0 / _spacing_mm(s))
            return rng.poisson((1 - share) * pixels + share * wide)
        return _each_static(study, change)
    return perturb


def crop(side: str, pixels_cut: int) -> Perturb:
    def perturb(study: Study, clean: dict[str, Any], rng: np.random.Generator) -> Study:
        def change(s: StaticImage) -> Any:
            p = np.asarray(s.pixels)
            cut = {"top": p[pixels_cut:], "bottom": p[:-pixels_cut],
                   "left": p[:, pixels_cut:], "right": p[:, :-pixels_cut]}[side]
            return np.ascontiguousarray(cut)
        return _each_static(study, change)
    return perturb


def perturbations() -> list[tuple[str, list[Perturb]]]:
    """(row label, the perturbations pooled in that row)."""
    sides = ("top", "left", "right", "bottom")
    rows: list[tuple[str, list[Perturb]]] = []
    for times in (0.5, 1.0, 3.0):
        rows.append((f"box-edge focus ×{times:g} (4 sides)",
                     [box_edge_focus(side, times) for side in sides]))
    for fwhm, times in ((24.0, 0.5), (24.0, 3.0), (24.0, 20.0), (47.0, 3.0), (71.0, 3.0)):
        rows.append((f"lung-field focus {fwhm:g} mm ×{times:g}", [lung_field_focus(fwhm, times)]))
    for fwhm in (5.0, 10.0):
        rows.append((f"blur +{fwhm:g} mm FWHM", [blur(fwhm)]))
    for share in (0.2, 0.4):
        rows.append((f"scatter {share:.0%} (Poisson again)", [scatter(share)]))
    rows.append(("crop 45 px (4 sides)", [crop(side, 45) for side in sides]))
    rows.append(("box-edge focus ×10 (4 sides)", [box_edge_focus(side, 10.0) for side in sides]))
    return rows


def _ratios(section: dict[str, Any]) -> dict[str, float | None]:
    return {m["state"]: m.get("value") for m in section.get("lung_heart_ratio") or []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed0", type=int, default=1_440_000)
    parser.add_argument("--n", type=int, default=150, help="draw size (normals are ~40%%)")
    parser.add_argument("--normals", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    paths = population(f"perfusion-dev-{args.seed0}", "bench", args.n, args.seed0,
                       jobs=args.jobs)
    rows = perturbations()
    same = {label: [0, 0] for label, _ in rows}
    lhr_dev = {label: 0.0 for label, _ in rows}
    lhr_none = {label: 0 for label, _ in rows}
    taken = 0
    for path, study in studies(paths):
        if taken >= args.normals:
            break
        if json.loads((path / "truth.json").read_text())["defects"]:
            continue
        clean = analyze_perfusion(study)
        if clean is None:
            continue
        taken += 1
        before = _ratios(clean.section)
        for row, (label, perturbs) in enumerate(rows):
            for side, perturb in enumerate(perturbs):
                # Noise of its own per study, row and side: adding a row leaves the others'.
                rng = np.random.default_rng([args.seed0, int(path.name), row, side])
                result = analyze_perfusion(perturb(study, clean.section, rng))
                verdict = result.section["verdict"] if result is not None else "none"
                same[label][0] += verdict == clean.section["verdict"]
                same[label][1] += 1
                if result is not None and label.startswith("lung"):
                    for state, value in _ratios(result.section).items():
                        if value is None:
                            lhr_none[label] += 1
                        elif (old := before.get(state)) is not None:
                            lhr_dev[label] = max(lhr_dev[label], abs(value - old))
    print(f"perfusion robustness: {taken} simulated normals of seeds {args.seed0}+ "
          "(each analysed clean and perturbed)")
    print(f"{'perturbation':38s} {'verdict unchanged':>20s} {'LHR max |Δ|':>12s} "
          f"{'LHR not measured':>17s}")
    for label, _ in rows:
        done, total = same[label]
        lung = label.startswith("lung")
        print(f"{label:38s} {f'{done}/{total} ({done / max(total, 1):.0%})':>20s} "
              f"{f'{lhr_dev[label]:.3f}' if lung else '':>12s} "
              f"{str(lhr_none[label]) if lung else '':>17s}")


if __name__ == "__main__":
    main()
