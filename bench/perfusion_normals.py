"""Build the built-in perfusion normal limits from simulated normal populations.

Run: ``.venv/bin/python bench/perfusion_normals.py [--n 30] [--jobs 2] [--write]``.

For each tracer group (Tc-99m sestamibi; Tl-201) and sex, ``--n`` normal studies are
simulated (stress and rest/redistribution; anterior, LAO 45°, left lateral; body habitus,
breasts, heart size/orientation/position, wall thickness, counts, liver and gut activity
all varied — see ``random_normal_spec``; seeds 700000+ Tc men, 710000+ Tc women, 720000+
Tl men, 730000+ Tl women) and their limits are built by exactly the code behind
``planarmpi normals build``. The table shows, per view and state, the mean and the range
of the SD over the angles. With ``--write`` the files are stored in
``src/planarmpi/analysis/data/perfusion_normals/``. These are simulated normals, not
patients: a site should build its own (``planarmpi normals build``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _population import population, studies
from planarmpi.analysis.perfusion.build import build_from_studies
from planarmpi.analysis.perfusion.normals import write_limits
from planarmpi.model import Sex, Tracer

OUT = Path(__file__).resolve().parents[1] / "src/planarmpi/analysis/data/perfusion_normals"
GROUPS = [
    ("tc99m", Tracer.TC99M_SESTAMIBI, Sex.MALE, 700_000),
    ("tc99m", Tracer.TC99M_SESTAMIBI, Sex.FEMALE, 710_000),
    ("tl201", Tracer.TL201, Sex.MALE, 720_000),
    ("tl201", Tracer.TL201, Sex.FEMALE, 730_000),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    print(f"{'limits':16s} {'view/state':14s} {'n':>4s} {'mean':>6s} {'SD min':>7s} "
          f"{'SD max':>7s}")
    for group, tracer, sex, seed0 in GROUPS:
        name = f"{group}-{sex.value}"
        paths = population(f"normal-{name}", "normal", args.n, seed0, sex=sex, tracer=tracer,
                           jobs=args.jobs)
        report = build_from_studies(
            (s for _, s in studies(paths)), tracer=tracer, sex=sex,
            name=f"planarmpi built-in {group} {'men' if sex is Sex.MALE else 'women'}",
            source=f"{args.n} simulated normals (bench/perfusion_normals.py, seeds {seed0}+)")
        for skipped, reason in report.skipped:
            print(f"  skipped {skipped}: {reason}")
        for v in report.limits.views:
            print(f"{name:16s} {v.view + '/' + v.state:14s} {v.n_studies:4d} "
                  f"{v.mean.mean():6.3f} {v.sd.min():7.3f} {v.sd.max():7.3f}")
        if args.write:
            write_limits(report.limits, OUT / f"{name}.json")
    if args.write:
        print(f"written to {OUT}")


if __name__ == "__main__":
    main()
