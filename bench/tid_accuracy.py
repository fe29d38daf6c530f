"""Planar TID against simulated truth: dilated and undilated stress ventricles.

Run: ``.venv/bin/python bench/tid_accuracy.py [--n 60] [--jobs 2] [--seed0 990000]``.
The method's settings were chosen on seeds 990000–990059 (and on populations without
dilation); ``--seed0 990060`` is a check population drawn the same way.

The population is the perfusion benchmark's (``random_perfusion_spec``: normals with their
traps, 1–2 defects, reversible or fixed, Tc-99m and Tl-201), seeds 990000+, with the stress
ventricle dilated by a factor drawn uniformly from 1.00–1.12 (the cavity's linear size;
``SimulationSpec.stress_lv_dilation``). The truth is the phantom's own projected anterior
LV outline area at stress over rest (``truth.json`` ``tid``). Each study is analysed as
``planarmpi analyze`` does; the table gives the agreement of the measured planar TID
(``reversibility.tid.ratio``) with the truth, and how often it is called abnormal (> 1.12)
with the outline grown by > 15% or < 5%. The ratio of the two fitted ellipses' areas (the
method before, kept in result.json as ``ellipse_area_ratio``) is shown beside it.
``bench/perfusion_accuracy.py`` gives the false-positive rate on populations without
dilation.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from _population import population, studies
from planarmpi.analysis.perfusion.study import analyze_perfusion

SEED0 = 990_000


def _measure(values: np.ndarray, truth: np.ndarray) -> dict[str, str]:
    ok = ~np.isnan(values)
    v, t = values[ok], truth[ok]
    return {
        "studies measured": f"{ok.sum()} of {ok.size}",
        "r with the truth": f"{np.corrcoef(v, t)[0, 1]:.3f}",
        "bias (measured − true)": f"{np.mean(v - t):+.3f}",
        "SD of the error": f"{np.std(v - t):.3f}",
        "slope (measured on true)": f"{np.polyfit(t, v, 1)[0]:.2f}",
        "abnormal | outline grew > 15%": _pct(v[t > 1.15] > 1.12),
        "abnormal | outline grew < 5%": _pct(v[t < 1.05] > 1.12),
    }


def _pct(flags: np.ndarray) -> str:
    return f"{100 * np.mean(flags):.0f}% ({int(flags.sum())}/{flags.size})" if flags.size else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed0", type=int, default=SEED0)
    args = parser.parse_args()
    paths = population("tid-dilated", "dilated", args.n, args.seed0, jobs=args.jobs)
    truth, measured, ellipse = [], [], []
    for path, study in studies(paths):
        doc: dict[str, Any] = json.loads((path / "truth.json").read_text())
        result = analyze_perfusion(study)
        assert result is not None
        tid = (result.section.get("reversibility") or {}).get("tid") or {}
        truth.append(doc.get("tid", {}).get("lv_outline_area_ratio", 1.0))
        measured.append(np.nan if tid.get("ratio") is None else tid["ratio"])
        ellipse.append(np.nan if tid.get("ellipse_area_ratio") is None
                       else tid["ellipse_area_ratio"])
    t = np.asarray(truth)
    rows = {"wall (reversibility.tid.ratio)": _measure(np.asarray(measured), t),
            "fitted ellipses (ellipse_area_ratio)": _measure(np.asarray(ellipse), t)}
    print(f"planar TID over {len(t)} simulated studies (seeds {args.seed0}+), true outline area "
          f"ratio {t.min():.2f}–{t.max():.2f}")
    names = list(next(iter(rows.values())))
    print(f"{'measure':32s} " + " ".join(f"{k:>38s}" for k in rows))
    for name in names:
        print(f"{name:32s} " + " ".join(f"{rows[k][name]:>38s}" for k in rows))


if __name__ == "__main__":
    main()
