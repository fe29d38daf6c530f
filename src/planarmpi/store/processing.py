"""Analyse a study held in the archive and record the outcome (node, web app, CLI)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planarmpi.store.archive import Archive

if TYPE_CHECKING:
    from planarmpi.analysis.pipeline import AnalysisOptions

__all__ = ["Processed", "combined_with", "process_study"]

log = logging.getLogger("planarmpi.processing")


@dataclass(frozen=True, slots=True)
class Processed:
    """The outcome: ``analysed`` with the version and output folder, or ``failed``."""

    status: str
    version: int | None = None
    folder: Path | None = None
    reason: str = ""


def process_study(archive: Archive, study_instance_uid: str, *, created_by: str = "system",
                  manual_rois: dict[str, Any] | None = None,
                  clock: dt.datetime | None = None,
                  options: AnalysisOptions | None = None,
                  combine_with: Sequence[str] | None = None) -> Processed:
    """Read a study from the archive, analyse it, write its outputs, record a new version.

    ``manual_rois`` (an ROI document as ``analyze --rois`` reads, keyed by Series Instance
    UID) replaces the automatic ROIs of the series it names and is kept with the version.
    ``options`` are the site's analysis settings (normal limits, perfusion settings; the
    built-in ones without); the manual ROIs are added to them. ``combine_with``: other
    studies of the same patient in the archive analysed with this one as one episode (a
    two-day protocol, :func:`planarmpi.model.study.combine_studies`; this study must hold
    the stress images), recorded as this study's version; ``None`` (the default) combines
    the studies its latest analysis combined — an ROI edit or a new object does not undo
    the episode — and ``()`` analyses it alone. Failures are recorded on the study (status
    ``failed`` with the reason) and returned, never raised — a combination that cannot be
    made too (its partner gone from the archive, or refused by :func:`combine_studies`);
    the earlier analysis versions stay.
    """
    from dataclasses import replace

    from planarmpi import __version__
    from planarmpi.analysis.pipeline import AnalysisOptions, analyze_study
    from planarmpi.io.reader import read_studies
    from planarmpi.io.rois import rois_for_study
    from planarmpi.report.outputs import write_study_outputs
    from planarmpi.store.records import record_analysis

    if combine_with is None:
        combine_with = combined_with(archive, study_instance_uid)
    outcome = read_studies(archive.study_files(study_instance_uid))
    studies = [s for s in outcome.studies if s.study_instance_uid == study_instance_uid]
    if studies and combine_with:
        # A combination that cannot be made fails the analysis with the reason (the
        # earlier analyses stay); "analyse alone" (combine_with=()) is the way out.
        from planarmpi.errors import InvalidInputError
        from planarmpi.model.study import combine_studies

        parts, problem = [studies[0]], ""
        for other in combine_with:
            found = [s for s in read_studies(archive.study_files(other)).studies
                     if s.study_instance_uid == other]
            if not found:
                problem = (f"study {other}, analysed with this one as one episode, has no "
                           "readable planar NM image in the archive")
                break
            parts.append(found[0])
        if not problem:
            try:
                combined = combine_studies(parts)
            except InvalidInputError as exc:
                problem = str(exc)
            else:
                if combined.study_instance_uid != study_instance_uid:
                    problem = (f"study {study_instance_uid} holds no stress images: the "
                               f"episode belongs to study {combined.study_instance_uid}")
                studies = [combined]
        if problem:
            reason = f"not combined: {problem}"
            archive.set_status(study_instance_uid, "failed", reason[:2000],
                               audit=(created_by, "combine-refused", reason[:2000]))
            return Processed("failed", reason=reason)
    archive.set_status(study_instance_uid, "analysing")
    if not studies:
        reason = "; ".join(str(p) for p in outcome.problems) or "no planar NM image"
        archive.set_status(study_instance_uid, "failed", reason[:2000],
                           audit=(created_by, "analysis-failed", reason[:2000]))
        return Processed("failed", reason=reason)
    study = studies[0]
    try:
        options = replace(options or AnalysisOptions(),
                          manual_rois=rois_for_study(manual_rois or {}, study, "user ROIs"))
        result = analyze_study(study, options=options)
        # Each analysis writes into a folder of its own: the outputs (and the report PDF a
        # physician signed) of an earlier version are never overwritten by a later one.
        import tempfile

        from planarmpi.io.outputs import study_output_dir

        parent = study_output_dir(archive.results, study_instance_uid)
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=dt.datetime.now().strftime("%Y%m%dT%H%M%S-"),
                                       dir=parent))
        path, _ = write_study_outputs(study, result, folder, clinical=None,
                                      clock=clock or dt.datetime.now().replace(microsecond=0),
                                      manual_rois=options.manual_rois)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        archive.set_status(study_instance_uid, "failed", reason[:2000],
                           audit=(created_by, "analysis-failed", reason[:2000]))
        log.exception("analysis of a stored study failed")
        return Processed("failed", reason=reason)
    version = record_analysis(archive, study_instance_uid, path.parent, __version__,
                              created_by=created_by, rois=manual_rois)
    # The status and its audit event in one transaction: a reader (the web app, a test
    # polling the database) never sees "analysed" before the event that says so.
    archive.set_status(study_instance_uid, "analysed", f"analysis version {version}",
                       audit=(created_by, "analysed", f"version {version}"
                              + (" with user ROIs" if manual_rois else "")
                              + (f" combined with {', '.join(combine_with)}"
                                 if combine_with else "")))
    return Processed("analysed", version, path.parent)


def combined_with(archive: Archive, study_instance_uid: str) -> list[str]:
    """The other studies the study's latest analysis combined with it (two-day protocol)."""
    from sqlalchemy import select

    from planarmpi.store.models import Analysis, Study

    with archive.session() as s:
        result = s.scalar(select(Analysis.result).join(Study)
                          .where(Study.study_instance_uid == study_instance_uid)
                          .order_by(Analysis.version.desc()).limit(1))
    return [str(c["study_instance_uid"]) for c in (result or {}).get("combined_studies", [])[1:]]
