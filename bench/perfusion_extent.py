"""How much of a defect's 3-D extent planar circumferential profiles carry.

Run: ``.venv/bin/python bench/perfusion_extent.py [--seed0 1200000] [--n 150] [--jobs 2]``
(several ``--seed0`` values pool populations). Each simulated study of a population drawn
like ``bench/perfusion_accuracy.py``'s is analysed with the built-in limits, and the
stress views' profiles give several extent estimators, each correlated with the phantom's
true extent (% of LV myocardium in a stress defect):

* ``result.json``: the mean over views of the % of profile points below the lower limit
  (the ``extent_percent`` the analysis reports);
* the same with other thresholds (mean − 1.5 SD, mean − 2 SD; a loss of ≥ 20% of the
  normal mean) and the largest view instead of the mean;
* the width at half depth: each abnormal run widened to where the loss reaches half the
  run's deepest loss, an estimate that does not grow with severity;
* the territory fit's load: the fitted territory coefficients weighted by each
  territory's share of the LV;
* an upper bound: the best linear combination of 15 profile features (five per view),
  fitted on all populations but the one it predicts (leave-one-population-out).

It prints one row per estimator: r over all studies and over studies with a defect. The
issue's target is r ≥ 0.85 over all studies (docs/validation.md).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
from scipy import ndimage

from _population import population, studies
from planarmpi.analysis.perfusion.normals import builtin_limits
from planarmpi.analysis.perfusion.scoring import grow_runs
from planarmpi.analysis.perfusion.study import analyze_perfusion

#: Territory share of the LV in the simulator's model heart (median of extent_percent_of_lv
#: / extent over 1610 development defects); used only by the territory-load row.
TERRITORY_SHARE_PERCENT = {"LAD": 34.3, "LCX": 25.1, "RCA": 20.5}
FEATURES = ("below_limit", "z15", "z2", "loss", "loss20")


def half_depth_fraction(loss: np.ndarray, abnormal: np.ndarray) -> float:
    """Fraction of angles within an abnormal run's half-depth width: each circular run of
    ``abnormal`` widened (:func:`grow_runs`) to where the loss reaches half its deepest."""
    if not abnormal.any():
        return 0.0
    labels, n = ndimage.label(abnormal)
    if n > 1 and abnormal[0] and abnormal[-1]:  # a run across 0° is one run
        labels[labels == labels[-1]] = labels[0]
    out = np.zeros_like(abnormal)
    for k in set(labels[abnormal].tolist()):
        run = labels == k
        wide = loss >= 0.5 * loss[run].max()
        out |= grow_runs(run & wide, wide)
    return float(out.mean())


def study_features(section: dict[str, Any], means: dict[tuple[str, str], Any]) -> dict[str, Any]:
    stress = next(s for s in section["states"] if s["state"].startswith("stress"))
    views = {}
    for v in stress["views"]:
        if "profile" not in v or (v["view"], section["limits"]["source"]) not in means:
            continue
        p = v["profile"]
        values = np.asarray(p["aligned_values"])
        mean, sd = means[(v["view"], section["limits"]["source"])]
        z = (values - mean) / sd
        loss = (mean - values) / mean
        abnormal = np.asarray(p["abnormal"], bool)
        views[v["view"]] = {"below_limit": abnormal.mean(), "z15": np.mean(z < -1.5),
                            "z2": np.mean(z < -2), "loss": np.clip(loss, 0, None).mean(),
                            "loss20": np.mean(loss >= 0.2),
                            "half_depth": half_depth_fraction(loss, abnormal)}
    coefficients = (stress.get("territory_fit") or {}).get("coefficients", {})
    return {"reported": section["extent_percent"], "views": views,
            "territory_load": sum(c * TERRITORY_SHARE_PERCENT.get(t, 0.0)
                                  for t, c in coefficients.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed0", type=int, nargs="+", default=[1200000])
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    # Keyed as result.json names the limits used (perfusion.limits.source).
    means = {(v.view, lim.source_path): (v.mean, v.sd)
             for lim in builtin_limits() for v in lim.views if v.state == "stress"}
    true, feats, pops = [], [], []
    for seed0 in args.seed0:
        paths = population(f"perfusion-dev-{seed0}", "bench", args.n, seed0, jobs=args.jobs)
        for path, study in studies(paths):
            truth = json.loads((path / "truth.json").read_text())
            state = next(s for s in truth["perfusion"]["states"] if s.startswith("stress"))
            result = analyze_perfusion(study)
            assert result is not None
            true.append(truth["perfusion"]["states"][state]["defect_extent_percent"])
            feats.append(study_features(result.section, means))
            pops.append(seed0)
    t = np.asarray(true)
    has = t > 0

    def view_mean(key: str, agg: Any = np.mean) -> np.ndarray:
        return np.array([100 * agg([v[key] for v in f["views"].values()]) if f["views"]
                         else 0.0 for f in feats])

    rows = [("result.json extent_percent (mean of views, below the limit)",
             np.array([f["reported"] for f in feats])),
            ("below the limit, largest view", view_mean("below_limit", np.max)),
            ("below mean − 1.5 SD", view_mean("z15")),
            ("below mean − 2 SD", view_mean("z2")),
            ("loss ≥ 20% of the normal mean", view_mean("loss20")),
            ("width at half depth of abnormal runs", view_mean("half_depth")),
            ("territory fit load", np.array([f["territory_load"] for f in feats]))]
    x = np.array([[1.0] + [f["views"].get(view, dict.fromkeys(FEATURES, 0.0))[k]
                           for view in ("ANT", "LAO", "LLAT") for k in FEATURES]
                  for f in feats])
    groups = np.asarray(pops)
    if len(set(pops)) > 1:
        predicted = np.zeros_like(t)
        for g in set(pops):
            fit = groups != g
            coef, *_ = np.linalg.lstsq(x[fit], t[fit], rcond=None)
            predicted[~fit] = x[~fit] @ coef
        rows.append(("best linear mix of 15 features (leave one population out)", predicted))
    coef, *_ = np.linalg.lstsq(x, t, rcond=None)
    rows.append(("best linear mix of 15 features (in-sample, optimistic)", x @ coef))
    print(f"extent estimators over {t.size} studies ({int(has.sum())} with a stress defect); "
          "target r ≥ 0.85 over all")
    print(f"{'estimator':62s} {'r all':>6s} {'r defects':>9s}")
    for label, estimate in rows:
        print(f"{label:62s} {np.corrcoef(t, estimate)[0, 1]:6.3f} "
              f"{np.corrcoef(t[has], estimate[has])[0, 1]:9.3f}")


if __name__ == "__main__":
    main()
