"""``planarmpi batch``: re-analyse an archive on a Dask cluster."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from planarmpi.model.study import COMBINE_MAX_DAYS

__all__ = ["add_arguments", "batch_command"]


def add_arguments(p: argparse.ArgumentParser, iso_datetime: type | object) -> None:
    """The options of ``planarmpi batch``."""
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="archive folders (each entry under one is a study folder), study "
                        "folders, @LIST (a text file naming one study folder per line), or "
                        "dicomweb:URL[?QIDO filters] (every study the search finds)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="output folder: one folder per study, batch-summary.csv/.parquet")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing Dask scheduler (tcp://host:8786); default: a local "
                        "cluster on 127.0.0.1")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local cluster workers (default: one per CPU)")
    p.add_argument("--memory-per-worker", default="2GiB", metavar="SIZE",
                   help="local cluster memory limit per worker (default 2GiB)")
    p.add_argument("--force", action="store_true",
                   help="redo studies already done (default: a re-run resumes)")
    p.add_argument("--clinical", type=Path, metavar="FILE",
                   help="a clinical-context file applied to every study")
    p.add_argument("--normals", type=Path, action="append", default=[], metavar="FILE",
                   help="site normals (repeatable): perfusion limits or wall-motion "
                        "normals, as for 'planarmpi analyze'")
    p.add_argument("--perfusion-settings", type=Path, metavar="FILE",
                   help="a site's perfusion thresholds (YAML/JSON, see docs/perfusion.md "
                        "'Settings')")
    p.add_argument("--qc-settings", type=Path, metavar="FILE",
                   help="a site's QC limits (YAML/JSON, see docs/qc.md 'Settings')")
    p.add_argument("--no-report", action="store_true",
                   help="write result.json and figures only")
    p.add_argument("--combine-studies", action="store_true",
                   help="analyse a two-day protocol's separate stress and rest studies as "
                        "one episode, as 'planarmpi analyze --combine-studies': a patient's "
                        "studies within a unit (one folder per patient), and units holding "
                        "the same patient's stress-only and rest-only studies (one folder "
                        "per study; the local units are read first to pair them)")
    p.add_argument("--combine-max-days", type=int, default=COMBINE_MAX_DAYS, metavar="DAYS",
                   help="with --combine-studies: the longest interval between the studies' "
                        f"dates (default {COMBINE_MAX_DAYS})")
    p.add_argument("--generated-at", type=iso_datetime, metavar="ISO",  # type: ignore[arg-type]
                   help="report generation time for the whole batch (default: now)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def batch_command(args: argparse.Namespace) -> int:
    """Run the batch; print what was done; exit 1 when a unit failed."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from planarmpi.batch import BatchOptions, run_batch
    from planarmpi.errors import InvalidInputError
    from planarmpi.io.clinical import read_clinical

    if args.workers is not None and args.workers < 1:
        raise InvalidInputError(f"--workers must be at least 1, got {args.workers}")
    if args.combine_max_days < 0:
        raise InvalidInputError(f"--combine-max-days must be 0 or more, got "
                                f"{args.combine_max_days}")
    if args.clinical is not None:
        read_clinical(args.clinical)  # fail now, not in every task
    for item in args.inputs:
        if item.startswith("dicomweb:"):
            from planarmpi.net.dicomweb import parse_source

            parse_source(item)
            continue
        target = Path(item[1:] if item.startswith("@") else item)
        if not target.exists():
            raise InvalidInputError(f"{target}: no such file or folder")
    from planarmpi.analysis.pipeline import site_options

    # Fail on a bad normals or settings file before any work starts, not in every task.
    site_options(args.normals, args.perfusion_settings, args.qc_settings)
    options = BatchOptions(
        clinical=str(args.clinical) if args.clinical else None,
        normals=tuple(str(p) for p in args.normals),
        perfusion_settings=str(args.perfusion_settings) if args.perfusion_settings else None,
        qc_settings=str(args.qc_settings) if args.qc_settings else None,
        report=not args.no_report,
        clock=args.generated_at or dt.datetime.now().replace(microsecond=0),
        combine_studies=args.combine_studies, combine_max_days=args.combine_max_days)
    progress = Progress(TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("studies {task.fields[studies]}"),
                        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                        TimeRemainingColumn(), disable=args.no_progress, transient=False,
                        console=None)
    start = dt.datetime.now()
    with progress:
        task = progress.add_task("batch", total=None, studies=0, rate="")

        def update(done: int, total: int | None, studies: int) -> None:
            minutes = max((dt.datetime.now() - start).total_seconds() / 60.0, 1e-6)
            progress.update(task, completed=done, total=total, studies=studies,
                            rate=f"{studies / minutes:.1f} studies/min")

        summary = run_batch([str(i) for i in args.inputs], args.out, options=options,
                            scheduler=args.scheduler, workers=args.workers,
                            memory_per_worker=args.memory_per_worker, force=args.force,
                            on_progress=update)
    print(f"batch: {summary.units_done} unit(s) analysed, {summary.units_skipped} already "
          f"done, {summary.studies_ok} studies ok, {summary.studies_partial} partial, "
          f"{summary.units_failed} failed, on {summary.workers} worker(s)")
    for error in summary.errors[:20]:
        print(f"planarmpi: {error}", file=sys.stderr)
    if len(summary.errors) > 20:
        print(f"planarmpi: … {len(summary.errors) - 20} more in {summary.summary_csv}",
              file=sys.stderr)
    print(f"summary: {summary.summary_csv}  {summary.summary_parquet}")
    if summary.interrupted:
        print("planarmpi: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
    return 1 if summary.errors else 0
