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
