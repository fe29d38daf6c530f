"""Accuracy of the gated blood-pool LVEF on simulated studies with known volume EF.

Run: ``.venv/bin/python bench/function_accuracy.py [--n 100] [--jobs 2]``.
Seeds 50000+ are not used by the tests. Each study draws EDV 70–260 ml, LVEF 15–80%,
heart rate 45–110 bpm, heart orientation ±8°, torso size, counts 2–8 M and R-R variability.
Prints the table recorded in docs/validation.md.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from _muga import simulate_and_analyze

SEED0 = 50_000


def one(job: tuple[int, int]) -> tuple[float, float, float, float, float, float, float, float,
                                       str, float]:
    from planarmpi.simulate.gating import BeatModel
    from planarmpi.simulate.phantom import Anatomy

    seed0, index = job
    rng = np.random.default_rng([seed0, index])
    anatomy = Anatomy(
        edv_ml=float(rng.uniform(70, 260)), lvef_percent=float(rng.uniform(15, 80)),
        heart_rate_bpm=float(rng.uniform(45, 110)),
        heart_azimuth_deg=float(45 + rng.uniform(-8, 8)),
        heart_elevation_deg=float(30 + rng.uniform(-8, 8)),
        torso_half_width_mm=float(rng.uniform(150, 200)),
        torso_half_depth_mm=float(rng.uniform(95, 135)),
        rvef_percent=float(rng.uniform(40, 65)),
    )
    out = simulate_and_analyze(seed0 + index, name=f"bench-{index}", anatomy=anatomy,
                               counts_per_view=float(rng.uniform(2e6, 8e6)),
                               beats=BeatModel(rr_cv=float(rng.uniform(0.02, 0.08))))
    true_ef = out.truth["lv"]["voxelised_lvef_percent"]
    r = out.result
    if r is None:
        return (true_ef, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, out.seconds, out.error,
                np.nan)
    lo, hi = r.ci95_percent
    return (true_ef, r.lvef_percent, lo, hi, r.poisson_sd_percent, r.roi_sd_percent,
            r.seed_sd_percent, out.seconds, "", r.noise_sd_percent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--csv", help="also write one row per study to this CSV file")
    parser.add_argument("--seed0", type=int, default=SEED0,
                        help="first seed (55000: the development set)")
    args = parser.parse_args()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(one, [(args.seed0, i) for i in range(args.n)]))
    data = np.array([r[:8] for r in rows], dtype=float)
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as fh:
            fh.write("index,true_ef,ef,ci_lo,ci_hi,poisson_sd,roi_sd,seed_sd,seconds,error,"
                     "noise_sd\n")
            for i, r in enumerate(rows):
                fh.write(",".join([str(i), *(f"{v:.3f}" for v in r[:8]), r[8].replace(",", ";"),
                                   f"{r[9]:.3f}"]) + "\n")
    failed = [r[8] for r in rows if r[8]]
    ok = ~np.isnan(data[:, 1])
    truth, ef, lo, hi, sd_p, sd_r, sd_s, sec = (data[ok, i] for i in range(8))
    sd_n = np.array([r[9] for r in rows], dtype=float)[ok]
    err = ef - truth
    low = truth < 35
    slope = np.polyfit(truth, err, 1)[0]
    covered = (lo - err.mean() <= ef - err.mean()) & ((truth >= lo - err.mean())
                                                      & (truth <= hi - err.mean()))
    print(f"gated blood-pool LVEF on {args.n} simulated studies (seeds {args.seed0}+)")
    print(f"{'quantity':44s} {'value':>10s}")
    rows_out = [
        ("studies analysed / failed", f"{int(ok.sum())} / {len(failed)}"),
        ("true EF range (%)", f"{truth.min():.0f}–{truth.max():.0f}"),
        ("MAE (points)", f"{np.abs(err).mean():.2f}"),
        ("bias (points)", f"{err.mean():+.2f}"),
        ("SD of error (points)", f"{err.std(ddof=1):.2f}"),
        ("slope of error vs true EF", f"{slope:+.3f}"),
        ("bias when true EF < 35% (points)",
         f"{err[low].mean():+.2f} (n={int(low.sum())})" if low.any() else "—"),
        ("|error| ≤ 5 points", f"{np.mean(np.abs(err) <= 5):.0%}"),
        ("95% CI covers truth − bias", f"{np.mean(covered):.0%}"),
        ("mean Poisson SD, fixed ROIs (points)", f"{sd_p.mean():.2f}"),
        ("mean count-noise SD, ROIs redrawn (points)", f"{np.nanmean(sd_n):.2f}"),
        ("mean ROI-seed SD, max (points; target ≤ 1.0)",
         f"{sd_s.mean():.2f}, {sd_s.max():.2f}"),
        ("mean edge/background ROI SD (points)", f"{sd_r.mean():.2f}"),
        ("analysis time per study (s, median)", f"{np.median(sec):.3f}"),
    ]
    for name, value in rows_out:
        print(f"{name:44s} {value:>10s}")
    for reason in failed[:5]:
        print("failed:", reason)


if __name__ == "__main__":
    main()
