"""Run every analysis that exists on a study."""

from __future__ import annotations

from planarmpi.analysis.result import StudyResult
from planarmpi.analysis.summary import summarize_series
from planarmpi.model import Study
from planarmpi.qc.checks import check_study
from planarmpi.qc.limits import QCLimits

__all__ = ["analyze_study"]


def analyze_study(study: Study, *, limits: QCLimits | None = None) -> StudyResult:
    """Analyse one study: for now, quality control of every series.

    Parameters
    ----------
    study : Study
    limits : QCLimits, optional

    Returns
    -------
    StudyResult
    """
    summaries = tuple(summarize_series(s) for s in study.series)
    findings = tuple(check_study(study, summaries, limits))
    return StudyResult(
        study_instance_uid=study.study_instance_uid,
        patient=study.patient,
        series=summaries,
        findings=findings,
        declined=study.declined,
    )
