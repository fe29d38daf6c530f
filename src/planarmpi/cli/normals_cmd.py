"""``planarmpi normals build``: a site's own perfusion normal limits from its normal studies."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from planarmpi.errors import InvalidInputError
from planarmpi.io.reader import Problem, iter_studies
from planarmpi.model import Sex, Study, Tracer

_TRACERS = {"sestamibi": Tracer.TC99M_SESTAMIBI, "tetrofosmin": Tracer.TC99M_TETROFOSMIN,
            "tc99m": Tracer.TC99M_PERFUSION, "tl201": Tracer.TL201}
_SEXES = {"M": Sex.MALE, "F": Sex.FEMALE, "male": Sex.MALE, "female": Sex.FEMALE}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="normals_command", required=True, metavar="ACTION")
    b = sub.add_parser("build", help="build limits from a folder of normal studies")
    b.add_argument("folder", nargs="+", type=Path, metavar="FOLDER",
                   help="folders (or files) of normal studies of one tracer and sex")
    b.add_argument("--tracer", required=True, choices=sorted(_TRACERS),
                   help="tracer group of the studies (sestamibi, tetrofosmin and tc99m are "
                        "one group)")
    b.add_argument("--sex", required=True, choices=sorted(_SEXES),
                   help="patient sex of the studies")
    b.add_argument("--out", required=True, type=Path, metavar="FILE",
                   help="limits file to write (JSON); refused if it exists, unless --force")
    b.add_argument("--name", help="name recorded in the file (default: from --out)")
    b.add_argument("--min-studies", type=int, default=10,
                   help="fewest studies per view and state (default 10)")
    b.add_argument("--outlier-z", type=float, default=None, metavar="Z",
                   help="leave out a study whose profile in some view lies more than Z "
                        "robust SDs (mean over angles) from the others' median (default 5)")
    b.add_argument("--tail-probability", type=float, default=None, metavar="P",
                   help="widen each view's SD until the normals, each compared with limits "
                        "built from the others, fall below mean − z·SD as rarely as a "
                        "Gaussian would at lower-tail probability P (e.g. 0.01); for "
                        "normals with heavy tails. Default: the SD as measured")
    b.add_argument("--force", action="store_true", help="overwrite --out")


def normals_command(args: argparse.Namespace) -> int:
    """Build and write a limits file; print what was used and skipped."""
    from planarmpi.analysis.perfusion.build import OUTLIER_MEAN_ABS_Z, build_from_studies
    from planarmpi.analysis.perfusion.normals import write_limits

    out: Path = args.out
    if args.tail_probability is not None and not 0 < args.tail_probability < 0.5:
        raise InvalidInputError(f"--tail-probability must be within (0, 0.5), got "
                                f"{args.tail_probability}")
    if out.exists() and not args.force:
        raise InvalidInputError(f"{out} exists; give --force to replace it")
    problems = 0

    def studies() -> Iterator[Study]:
        nonlocal problems
        for item in iter_studies([str(f) for f in args.folder]):
            if isinstance(item, Problem):
                print(f"planarmpi: {'' if item.fatal else 'note: skipped '}{item}",
                      file=sys.stderr)
                problems += int(item.fatal)
            elif isinstance(item, Study):
                yield item

    report = build_from_studies(
        studies(),
        tracer=_TRACERS[args.tracer], sex=_SEXES[args.sex],
        name=args.name or out.stem,
        source=f"planarmpi normals build {' '.join(str(f) for f in args.folder)}",
        min_studies=args.min_studies,
        outlier_mean_abs_z=OUTLIER_MEAN_ABS_Z if args.outlier_z is None else args.outlier_z,
        tail_probability=args.tail_probability)
    for label, reason in report.skipped:
        print(f"planarmpi: note: skipped {label}: {reason}", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_limits(report.limits, out)
    print(f"{out}: limits {report.limits.name!r} from {len(report.used)} studies "
          f"({len(report.skipped)} skipped)")
    for v in report.limits.views:
        print(f"  {v.view:5s} {v.state:7s} n={v.n_studies:3d}  mean {v.mean.mean():.3f}  "
              f"SD {v.sd.min():.3f}–{v.sd.max():.3f}"
              + (f"  (widened ×{v.tail_scale:.2f})" if v.tail_scale != 1.0 else ""))
    return 1 if problems else 0
