"""``planarmpi simulate``: presets of the phantom simulator, written as DICOM NM."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from planarmpi.errors import InvalidInputError


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the ``simulate`` sub-command."""
    from planarmpi.simulate.presets import PRESETS

    p.add_argument("--preset", default="normal-male", choices=sorted(PRESETS),
                   help="clinical picture to simulate (default: normal-male)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="output folder for the DICOM files and truth.json")
    p.add_argument("--view-encoding", choices=("code", "description", "none"), default=None,
                   help="where the view is written (default: the preset's, View Code Sequence)")
    p.add_argument("--preview", type=Path, metavar="PNG",
                   help="also write a montage of the simulated images")
    p.add_argument("--doses-mbq", metavar="A,B,...",
                   help="administered activity of each injection in MBq, in the order of the "
                        "preset's states (a Tl-201 redistribution has none of its own); "
                        "default: a full dose, a one-day Tc-99m protocol's first at a third "
                        "of the second (370,1110)")
    p.add_argument("--one-day-residual", action="store_true",
                   help="a one-day Tc-99m protocol's second views also hold the first "
                        "injection's distribution, by the activity it left (shine-through)")
    p.add_argument("--population", type=int, metavar="N",
                   help="instead of a preset, simulate N random perfusion studies with truth "
                        "into DIR/case-NNNNN/ and index them in DIR/population.json")


def simulate_command(args: argparse.Namespace) -> int:
    """Run the simulation (a preset or a population) and print where it went."""
    from planarmpi.simulate import simulate_study
    from planarmpi.simulate.presets import preset

    if args.seed < 0:
        raise InvalidInputError(f"--seed must be ≥ 0, got {args.seed}")
    if args.population is not None:
        return _population(args)
    spec = preset(args.preset)
    if args.view_encoding:
        spec = replace(spec, view_encoding=args.view_encoding)
    if args.doses_mbq or args.one_day_residual:
        try:
            doses = tuple(float(x) for x in args.doses_mbq.split(",")) if args.doses_mbq \
                else spec.doses_mbq
        except ValueError:
            raise InvalidInputError(f"--doses-mbq {args.doses_mbq!r}: give numbers in MBq "
                                    "separated by commas, e.g. 370,1110") from None
        try:
            spec = replace(spec, doses_mbq=doses, one_day_residual=args.one_day_residual)
        except ValueError as exc:
            raise InvalidInputError(f"--doses-mbq for preset {args.preset} "
                                    f"({', '.join(s.value for s in spec.states)}): {exc}"
                                    ) from None
    truth = simulate_study(spec, args.out, seed=args.seed)
    print(f"{args.preset} (seed {args.seed}) → {args.out}: {len(truth['files'])} files, "
          f"true LVEF {truth['lv']['voxelised_lvef_percent']:.1f}% (voxelised)")
    if args.preview:
        from planarmpi.io.reader import read_studies
        from planarmpi.report.preview import write_preview

        write_preview(read_studies(args.out).studies, args.preview)
        print(f"preview → {args.preview}")
    return 0


def _population(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from planarmpi.simulate import simulate_study
    from planarmpi.simulate.presets import random_spec

    if not 1 <= args.population <= 100_000:
        raise InvalidInputError(f"--population must be within 1–100000, got {args.population}")
    args.out.mkdir(parents=True, exist_ok=True)
    index = []
    for i in range(args.population):
        spec = random_spec(np.random.default_rng([args.seed, i]), i)
        if args.view_encoding:
            spec = replace(spec, view_encoding=args.view_encoding)
        folder = args.out / f"case-{i:05d}"
        truth = simulate_study(spec, folder, seed=args.seed * 100_000 + i)
        index.append({"case": folder.name, "study_instance_uid": truth["study_instance_uid"],
                      "sex": truth["sex"], "tracer": truth["tracer"],
                      "lvef_percent": truth["lv"]["voxelised_lvef_percent"],
                      "defects": truth["defects"]})
        print(f"{folder.name}: {spec.sex.value} {spec.tracer.value}, "
              f"{len(spec.defects)} defect(s)")
    (args.out / "population.json").write_text(json.dumps(index, indent=2) + "\n",
                                              encoding="utf-8")
    return 0
