"""LV phase statistics: normal limits from simulated normals, and how well they flag LBBB.

    .venv/bin/python bench/phase_lbbb.py [--n 20] [--jobs 2]

Simulates ``--n`` normal blood-pool studies (LVEF 55–70%, EDV 100–150 ml, heart rate 55–90)
and ``--n`` with an LBBB-like activation delay (LCX wall 80–180 ms, RCA 20–80 ms, LVEF
35–55%), analyses each like ``planarmpi analyze`` (automatic LV ROI, first-harmonic phase of
the ED LV region) and prints: mean ± SD of the phase SD, bandwidth and entropy in each group,
the ROC AUC of each for LBBB, and the sensitivity and specificity of an upper normal limit at
the normals' mean + 2 SD. Phase normal values depend on the software (function.md): these are
planarmpi's, on its phantom.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from planarmpi.simulate.phantom import Anatomy


def _case(args: tuple[str, int]) -> dict[str, Any] | None:
    from _muga import simulate_and_analyze
    from planarmpi.analysis.phase import phase_statistics

    group, seed = args
    rng = np.random.default_rng(seed)
    if group == "normal":
        anatomy = Anatomy(lvef_percent=float(rng.uniform(55, 70)),
                          edv_ml=float(rng.uniform(100, 150)),
                          heart_rate_bpm=float(rng.uniform(55, 90)))
    else:
        anatomy = Anatomy(lvef_percent=float(rng.uniform(35, 55)),
                          edv_ml=float(rng.uniform(130, 200)),
                          heart_rate_bpm=float(rng.uniform(55, 90)),
                          regional_delay_ms={"LCX": float(rng.uniform(80, 180)),
                                             "RCA": float(rng.uniform(20, 80))})
    out = simulate_and_analyze(seed, anatomy=anatomy)
    if out.result is None:
        return None
    bp = out.result
    _, _, mask, _ = bp.ed_es_rois()
    try:
        stats = phase_statistics(bp.ventricles.phase_deg, bp.ventricles.amplitude, mask)
    except ValueError:
        return None
    return {"group": group, "sd": stats.sd_deg, "bandwidth": stats.bandwidth_deg,
            "entropy": stats.entropy}


def _auc(neg: np.ndarray, pos: np.ndarray) -> float:
    """Mann–Whitney estimate of P(pos > neg) (ties count one half)."""
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    jobs = [("normal", 910000 + i) for i in range(args.n)] + \
        [("lbbb", 920000 + i) for i in range(args.n)]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [r for r in pool.map(_case, jobs) if r is not None]
    normal = [r for r in rows if r["group"] == "normal"]
    lbbb = [r for r in rows if r["group"] == "lbbb"]
    print(f"LV phase, {len(normal)} normal and {len(lbbb)} LBBB-like simulated blood pools "
          f"(of {args.n} each)")
    print(f"{'metric':<12}{'normal':>18}{'LBBB':>18}{'AUC':>7}{'limit':>9}{'sens':>7}"
          f"{'spec':>7}")
    for key, unit in (("sd", "°"), ("bandwidth", "°"), ("entropy", "")):
        a = np.array([r[key] for r in normal])
        b = np.array([r[key] for r in lbbb])
        limit = a.mean() + 2 * a.std(ddof=1)
        sens = float((b > limit).mean())
        spec = float((a <= limit).mean())
        print(f"{key:<12}{a.mean():>10.2f} ± {a.std(ddof=1):<5.2f}{b.mean():>10.2f} ± "
              f"{b.std(ddof=1):<5.2f}{_auc(a, b):>7.2f}{limit:>8.2f}{unit:<1}"
              f"{sens:>7.0%}{spec:>7.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
