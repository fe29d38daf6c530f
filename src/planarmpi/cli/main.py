"""``planarmpi`` command-line entry point.

Every command is a thin shell: it parses arguments, calls the library, prints, and turns
planarmpi errors into one line on stderr and an exit code — never a traceback.

Exit codes: 0 success; 1 some input was unusable (the rest was still processed);
2 usage error or nothing usable at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from planarmpi._version import __version__
from planarmpi.errors import PlanarMPIError
from planarmpi.model.study import COMBINE_MAX_DAYS

__all__ = ["main", "run"]

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2


def _iso_datetime(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time "
                                         "(YYYY-MM-DDTHH:MM)") from None


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planarmpi",
        description="Planar nuclear cardiology: read DICOM NM, check quality, measure "
        "function and perfusion, report.",
    )
    parser.add_argument("--version", action="version", version=f"planarmpi {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="describe the NM studies found in files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH", help="DICOM files or folders")
    p.add_argument("--json", action="store_true", help="print JSON for machines")

    p = sub.add_parser("analyze", help="analyse every study found; write result.json files")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="DICOM files or folders")
    p.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="output folder; one sub-folder per Study Instance UID")
    p.add_argument("--clinical", type=Path, metavar="FILE",
                   help="clinical context (YAML or JSON, docs/clinical.md): indication, "
                        "stress test, injections, roles, priors; used by the report and "
                        "the coding")
    p.add_argument("--no-report", action="store_true",
                   help="write result.json only (no report, DICOM outputs or coding)")
    p.add_argument("--generated-at", type=_iso_datetime, metavar="ISO",
                   help="report generation time (default: now); for reproducible reports")
    p.add_argument("--rois", type=Path, metavar="FILE",
                   help="user-drawn ROIs (JSON, see docs/function.md) replacing the "
                        "automatic ones for the series they name")
    p.add_argument("--normals", type=Path, action="append", default=[], metavar="FILE",
                   help="a site's normals (repeatable): perfusion limits built with "
                        "'planarmpi normals build', used before the built-in limits for "
                        "their tracer and sex, and wall-motion normals built with "
                        "'planarmpi normals wall-motion', replacing the built-in ones of "
                        "their method")
    p.add_argument("--perfusion-settings", type=Path, metavar="FILE",
                   help="a site's perfusion thresholds (YAML/JSON, see docs/perfusion.md "
                        "'Settings'); default: the built-in ones")
    p.add_argument("--qc-settings", type=Path, metavar="FILE",
                   help="a site's QC limits (YAML/JSON, see docs/qc.md 'Settings'); "
                        "default: the published ones")
    p.add_argument("--combine-studies", action="store_true",
                   help="analyse each patient's studies as one episode: a two-day protocol "
                        "whose stress and rest images are separate studies (same Patient "
                        "ID, one study with the stress images, no state in two studies); "
                        "written under the stress study's UID")
    p.add_argument("--combine-max-days", type=_non_negative_int, default=COMBINE_MAX_DAYS,
                   metavar="DAYS",
                   help="with --combine-studies: the longest interval between the studies' "
                        f"dates (default {COMBINE_MAX_DAYS})")

    p = sub.add_parser("report", help="re-render reports of analysed studies, e.g. after "
                                      "editing the clinical file; sign them")
    p.add_argument("folders", nargs="+", type=Path, metavar="RESULT_DIR",
                   help="a study folder written by analyze (holding result.json), or the "
                        "--out folder of analyze (every study in it)")
    p.add_argument("--clinical", type=Path, metavar="FILE", help="clinical context file")
    p.add_argument("--impression", type=Path, metavar="FILE",
                   help="the physician's impression (text, one statement per line) "
                        "replacing the drafted one")
    p.add_argument("--sign", default="", metavar="NAME",
                   help="sign the report as final in this name")
    p.add_argument("--generated-at", type=_iso_datetime, metavar="ISO",
                   help="generation/signature time (default: now)")
    p.add_argument("--no-dicom", action="store_true", help="skip the DICOM objects")

    p = sub.add_parser("batch", help="re-analyse an archive on a Dask cluster; resumable")
    from planarmpi.cli.batch_cmd import add_arguments as add_batch

    add_batch(p, _iso_datetime)

    p = sub.add_parser("serve", help="run the archive's DICOM node (receive, analyse, send "
                                     "reports)")
    from planarmpi.cli.serve_cmd import add_arguments as add_serve

    add_serve(p)

    p = sub.add_parser("user", help="manage web workstation users")
    from planarmpi.cli.serve_cmd import add_user_arguments

    add_user_arguments(p)

    p = sub.add_parser("simulate", help="simulate a planar cardiac study with known truth")
    from planarmpi.cli.simulate_cmd import add_arguments

    add_arguments(p)

    p = sub.add_parser("normals", help="a site's own normals: perfusion limits (build) "
                                              "and wall-motion normals (wall-motion)")
    from planarmpi.cli.normals_cmd import add_arguments as add_normals

    add_normals(p)

    p = sub.add_parser("demo", help="simulate the built-in demo study and analyse it")
    p.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR",
                   help="output folder (default: demo-out)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    with warnings.catch_warnings():
        # Value warnings from pydicom are not for end users: the reader reports what
        # matters about a file as a finding or as an error naming it.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\..*)?")
        return _dispatch(argv)


def _dispatch(argv: Sequence[str] | None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help / usage errors
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    try:
        if args.command == "inspect":
            from planarmpi.cli.commands import inspect_command

            return inspect_command(args.paths, as_json=args.json)
        if args.command == "analyze":
            from planarmpi.cli.commands import analyze_command

            return analyze_command(args.inputs, args.out, args.clinical, args.rois,
                                   args.normals, report=not args.no_report,
                                   clock=args.generated_at,
                                   perfusion_settings=args.perfusion_settings,
                                   qc_settings=args.qc_settings,
                                   combine_studies=args.combine_studies,
                                   combine_max_days=args.combine_max_days)
        if args.command == "report":
            from planarmpi.cli.commands import report_command

            return report_command(args.folders, args.clinical, impression=args.impression,
                                  sign=args.sign, clock=args.generated_at,
                                  dicom=not args.no_dicom)
        if args.command == "batch":
            from planarmpi.cli.batch_cmd import batch_command

            return batch_command(args)
        if args.command == "serve":
            from planarmpi.cli.serve_cmd import serve_command

            return serve_command(args)
        if args.command == "user":
            from planarmpi.cli.serve_cmd import user_command

            return user_command(args)
        if args.command == "simulate":
            from planarmpi.cli.simulate_cmd import simulate_command

            return simulate_command(args)
        if args.command == "normals":
            from planarmpi.cli.normals_cmd import normals_command

            return normals_command(args)
        if args.command == "demo":
            from planarmpi.cli.commands import demo_command

            return demo_command(args.out)
    except PlanarMPIError as exc:
        print(f"planarmpi: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("planarmpi: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"planarmpi: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

