"""Accuracy of the geometric LVEF of gated planar perfusion images, on simulated studies.

Run: ``.venv/bin/python bench/gated_perfusion_accuracy.py [--n 100] [--jobs 2]``.
Seeds 970000+ are not used by the tests (the method's settings were chosen on a separate
development population, seeds 960000+). Each study draws a Tc-99m agent, sex and habitus
(breasts in women), heart size (EDV 60–250 ml), LVEF 15–80%, heart rate, orientation,
position, LV shape and wall thickness, liver/gut uptake, 0.8–2.5 M counts in the gated LAO
view, and 8 or 16 slots. The truth is the phantom's voxelised cavity volume EF.
Prints the table recorded in docs/validation.md.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from _gated_perfusion import simulate_and_analyze

SEED0 = 970_000


def one(job: tuple[int, int]) -> tuple[float, ...] | str:
    seed0, index = job
    truth, r, seconds = simulate_and_analyze(seed0, index)
    if isinstance(r, str):
        return r
    lv = truth["lv"]
    return (lv["voxelised_lvef_percent"], r.lvef_percent, *r.ci95_percent,
            r.poisson_sd_percent, r.roi_sd_percent, lv["voxelised_edv_ml"], r.edv_ml,
            lv["voxelised_esv_ml"], r.esv_ml, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed0", type=int, default=SEED0,
                        help="first seed (960000: the development set)")
    args = parser.parse_args()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(one, [(args.seed0, i) for i in range(args.n)]))
    failed = [r for r in rows if isinstance(r, str)]
    data = np.array([r for r in rows if not isinstance(r, str)], dtype=float)
    truth, ef, lo, hi, sd_p, sd_r, edv_t, edv, esv_t, esv, sec = data.T
    err = ef - truth
    bias = err.mean()
    low = truth < 35
    covered = (truth + bias >= lo) & (truth + bias <= hi)
    edv_err = 100 * (edv - edv_t) / edv_t
    esv_err = 100 * (esv - esv_t) / esv_t
    print(f"gated perfusion (geometric) LVEF on {args.n} simulated studies (seeds {args.seed0}+)")
    table = [
        ("studies analysed / failed", f"{len(data)} / {len(failed)}"),
        ("true EF range (%)", f"{truth.min():.0f}–{truth.max():.0f}"),
        ("MAE (points)", f"{np.abs(err).mean():.2f}"),
        ("median absolute error (points)", f"{np.median(np.abs(err)):.2f}"),
        ("bias (points)", f"{bias:+.2f}"),
        ("SD of error (points)", f"{err.std(ddof=1):.2f}"),
        ("slope of error vs true EF", f"{np.polyfit(truth, err, 1)[0]:+.3f}"),
        ("bias when true EF < 35% (points)",
         f"{err[low].mean():+.2f} (n={int(low.sum())})" if low.any() else "—"),
        ("|error| ≤ 5 / ≤ 10 points",
         f"{np.mean(np.abs(err) <= 5):.0%} / {np.mean(np.abs(err) <= 10):.0%}"),
        ("95% CI covers truth + bias", f"{np.mean(covered):.0%}"),
        ("mean Poisson SD / ROI SD (points)", f"{sd_p.mean():.2f} / {sd_r.mean():.2f}"),
        ("EDV error (%, median [IQR])",
         f"{np.median(edv_err):+.0f} [{np.percentile(edv_err, 25):+.0f}, "
         f"{np.percentile(edv_err, 75):+.0f}]"),
        ("ESV error (%, median [IQR])",
         f"{np.median(esv_err):+.0f} [{np.percentile(esv_err, 25):+.0f}, "
         f"{np.percentile(esv_err, 75):+.0f}]"),
        ("analysis time per study (s, median)", f"{np.median(sec):.2f}"),
    ]
    print(f"{'quantity':40s} {'value':>22s}")
    for name, value in table:
        print(f"{name:40s} {value:>22s}")
    for reason in failed[:5]:
        print("failed:", reason)


if __name__ == "__main__":
    main()
