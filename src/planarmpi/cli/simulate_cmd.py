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


def simulate_command(args: argparse.Namespace) -> int:
    """Run the simulation and print where it went."""
    from planarmpi.simulate import simulate_study
    from planarmpi.simulate.presets import preset

    if args.seed < 0:
        raise InvalidInputError(f"--seed must be ≥ 0, got {args.seed}")
    spec = preset(args.preset)
    if args.view_encoding:
        spec = replace(spec, view_encoding=args.view_encoding)
    truth = simulate_study(spec, args.out, seed=args.seed)
    print(f"{args.preset} (seed {args.seed}) → {args.out}: {len(truth['files'])} files, "
          f"true LVEF {truth['lv']['lvef_percent']:g}%")
    if args.preview:
        from planarmpi.report.preview import write_preview

        write_preview(args.out, args.preview)
        print(f"preview → {args.preview}")
    return 0
