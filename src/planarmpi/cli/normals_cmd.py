"""``planarmpi normals``: a site's own normals from its normal studies — perfusion limits
(``build``) and wall-motion normals (``wall-motion``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from statistics import median

from planarmpi.analysis.motion_normals import MotionMethod
from planarmpi.errors import InvalidInputError
from planarmpi.io.reader import Problem, iter_studies
from planarmpi.model import Sex, Study, Tracer
from planarmpi.model.study import COMBINE_MAX_DAYS, episodes

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
    b.add_argument("--combine-studies", action="store_true",
                   help="normals imaged as two-day protocols (stress and rest as separate "
                        "studies of one patient): each patient's studies read as one, so "
                        "the stress − rest paired limits are built too")
    b.add_argument("--combine-max-days", type=int, default=COMBINE_MAX_DAYS, metavar="DAYS",
                   help="with --combine-studies: the longest interval between the studies' "
                        f"dates (default {COMBINE_MAX_DAYS})")
    b.add_argument("--force", action="store_true", help="overwrite --out")
    w = sub.add_parser("wall-motion",
                       help="build wall-motion normals from a folder of normal gated studies")
    w.add_argument("folder", nargs="+", type=Path, metavar="FOLDER",
                   help="folders (or files) of normal gated studies")
    w.add_argument("--method", required=True,
                   choices=[m.value for m in MotionMethod],
                   help="gated-blood-pool (regional EF of the LAO segments) or "
                        "gated-perfusion (regional shortening of the endocardial border)")
    w.add_argument("--out", required=True, type=Path, metavar="FILE",
                   help="normals file to write (JSON); refused if it exists, unless --force")
    w.add_argument("--name", help="name recorded in the file (default: from --out)")
    w.add_argument("--min-studies", type=int, default=10,
                   help="fewest studies measured in every segment (default 10)")
    w.add_argument("--outlier-z", type=float, default=None, metavar="Z",
                   help="leave out a study whose motion in some segment lies more than Z "
                        "SDs below the other studies' mean (default 5)")
    w.add_argument("--force", action="store_true", help="overwrite --out")


def normals_command(args: argparse.Namespace) -> int:
    """Build and write a normals file; print what was used and skipped."""
    if args.normals_command == "wall-motion":
        return _wall_motion_command(args)
    from planarmpi.analysis.perfusion.build import OUTLIER_MEAN_ABS_Z, build_from_studies
    from planarmpi.analysis.perfusion.normals import write_limits

    out: Path = args.out
    if args.tail_probability is not None and not 0 < args.tail_probability < 0.5:
        raise InvalidInputError(f"--tail-probability must be within (0, 0.5), got "
                                f"{args.tail_probability}")
    if out.exists() and not args.force:
        raise InvalidInputError(f"{out} exists; give --force to replace it")
    problems = 0

    def count(n: int) -> None:
        nonlocal problems
        problems += n

    if args.combine_max_days < 0:
        raise InvalidInputError(f"--combine-max-days must be 0 or more, got "
                                f"{args.combine_max_days}")
    found = _studies(args.folder, count)
    if args.combine_studies:
        found = _episodes(found, args.combine_max_days, count)
    report = build_from_studies(
        found,
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
              + (f"  counting noise {median(v.noise_sd.tolist()):.3f}"
                 if v.noise_sd is not None else "  counting noise not recorded")
              + (f"  (widened ×{v.tail_scale:.2f})" if v.tail_scale != 1.0 else ""))
    if any(v.noise_sd is None for v in report.limits.views):
        print("planarmpi: note: some normals' images do not hold counts (whole, non-negative "
              "values), so the limits record no counting noise and are not widened for a "
              "noisier patient", file=sys.stderr)
    return 1 if problems else 0


def _studies(folders: list[Path], on_problem: Callable[[int], None]) -> Iterator[Study]:
    """The studies found in ``folders``; each unreadable file is printed (and a fatal one
    counted through ``on_problem``)."""
    for item in iter_studies([str(f) for f in folders]):
        if isinstance(item, Problem):
            print(f"planarmpi: {'' if item.fatal else 'note: skipped '}{item}",
                  file=sys.stderr)
            on_problem(int(item.fatal))
        elif isinstance(item, Study):
            yield item


def _episodes(studies: Iterator[Study], max_days: int,
              on_problem: Callable[[int], None]) -> Iterator[Study]:
    """Each patient's studies as one (:func:`planarmpi.model.study.episodes`); a group
    that cannot be combined is used study by study, the reason printed once."""
    said: set[str] = set()
    for study, problem in episodes(studies, max_days=max_days):
        if problem and problem not in said:
            said.add(problem)
            print(f"planarmpi: {problem}", file=sys.stderr)
            on_problem(1)
        yield study


def _wall_motion_command(args: argparse.Namespace) -> int:
    """``planarmpi normals wall-motion``: measure each normal study's segment motion, write
    the normals file, print its table."""
    from planarmpi.analysis.motion_normals import (
        OUTLIER_Z,
        build_wall_motion_normals,
        motion_outliers,
        write_wall_motion_normals,
    )
    from planarmpi.analysis.pipeline import normal_wall_motion

    out: Path = args.out
    method = MotionMethod(args.method)
    if out.exists() and not args.force:
        raise InvalidInputError(f"{out} exists; give --force to replace it")
    if args.min_studies < 2:
        raise InvalidInputError(f"--min-studies must be at least 2, got {args.min_studies}")
    problems = 0

    def count(n: int) -> None:
        nonlocal problems
        problems += n

    z = OUTLIER_Z if args.outlier_z is None else args.outlier_z
    if not z > 0:
        raise InvalidInputError(f"--outlier-z must be positive, got {args.outlier_z}")
    measured: dict[str, dict[str, tuple[float, float | None]]] = {}
    for study in _studies(args.folder, count):
        label = f"study {study.study_instance_uid}"
        try:
            measured[label] = normal_wall_motion(study, method)
        except InvalidInputError as exc:
            print(f"planarmpi: note: skipped {label}: {exc}", file=sys.stderr)
    if not measured:
        raise InvalidInputError(f"{', '.join(str(f) for f in args.folder)}: no study with "
                                f"{method.value} wall motion was found")
    for label, reason in motion_outliers(measured, z).items():
        print(f"planarmpi: note: left out {label}: {reason}", file=sys.stderr)
        del measured[label]
    samples = list(measured.values())
    normals = build_wall_motion_normals(
        samples, method, name=args.name or out.stem,
        source=f"planarmpi normals wall-motion --method {method.value} "
               f"{' '.join(str(f) for f in args.folder)} ({len(samples)} studies)",
        min_studies=args.min_studies)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_wall_motion_normals(normals, out)
    print(f"{out}: {method.value} wall-motion normals {normals.name!r} from {len(samples)} "
          f"studies")
    print(f"  {'segment':8s} {'n':>3s} {'mean %':>7s} {'SD %':>6s} {'noise %':>8s}")
    for key, s in normals.segments.items():
        noise = "—" if s.measurement_sd_percent is None else f"{s.measurement_sd_percent:.2f}"
        print(f"  {key:8s} {s.n:3d} {s.mean_percent:7.2f} {s.sd_percent:6.2f} {noise:>8s}")
    return 1 if problems else 0
