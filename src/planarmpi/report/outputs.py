"""Write a study's report outputs next to its ``result.json``.

``report.txt``, ``report.html``, ``report.pdf``, ``report-pdf.dcm`` (Encapsulated PDF),
``report-sr.dcm`` (Comprehensive SR), ``figure-N.dcm`` (Secondary Capture), and the
``coding`` and ``report`` sections of ``result.json``. A previous report is kept in
``report-history.json`` when a new one replaces it (amendments keep their history).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from planarmpi.analysis.result import StudyResult
from planarmpi.coding import code_encounter, encounter_from_result
from planarmpi.errors import InvalidInputError, PlanarMPIError
from planarmpi.io.outputs import write_atomic, write_json
from planarmpi.model import Study
from planarmpi.model.clinical import (
    ClinicalContext,
    duke_treadmill_score,
    percent_mphr,
)
from planarmpi.report.model import Figure, Report, build_report

__all__ = ["FIGURES", "clinical_values", "render_report_outputs", "write_study_outputs"]

#: Figure files analyze may write, with their captions (in report order).
FIGURES = (
    ("perfusion.png", "Perfusion: each view with the LV contour and its segments coloured by "
                      "score; circumferential profiles against the normal limits"),
    ("function.png", "Function: LV time–activity (volume) curves, first-pass curves, and "
                     "for the gated blood pool the ROIs on the ED frame and the phase and "
                     "amplitude images"),
)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: not found (is this a folder written by "
                                "'planarmpi analyze'?)") from None
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: cannot be read as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: expected a JSON object")
    return data


def clinical_values(result: dict[str, Any], clinical: ClinicalContext | None
                    ) -> dict[str, float]:
    """Stress-test numbers that go into the SR (peak HR, % MPHR, peak SBP, Duke score)."""
    if clinical is None or clinical.stress is None:
        return {}
    s = clinical.stress
    values = {"peak_hr_bpm": s.peak_hr_bpm, "peak_systolic_mmhg": s.peak_bp.systolic_mmhg}
    age = (result.get("patient") or {}).get("age_years")
    if age is not None:
        values["percent_mphr"] = percent_mphr(s.peak_hr_bpm, age)
    if clinical.exercise is not None and clinical.exercise.is_bruce:
        e = clinical.exercise
        values["duke_score"] = duke_treadmill_score(e.duration_min, e.st_deviation_mm, e.angina)
    return values


def render_report_outputs(folder: str | os.PathLike[str], *,
                          clinical: ClinicalContext | None, clock: dt.datetime,
                          impression: tuple[str, ...] | None = None, signed_by: str = "",
                          dicom: bool = True) -> Report:
    """(Re-)render every report output of one analysed study folder.

    Parameters
    ----------
    folder : path
        Holds ``result.json`` and ``study.json`` (written by ``planarmpi analyze``).
    clinical : ClinicalContext or None
    clock : datetime
        Generation (and, when signing, signature) time.
    impression : tuple of str, optional
        The physician's own impression, replacing the drafted one (first line = bottom
        line statement).
    signed_by : str
        Sign the report as final in this name.
    dicom : bool
        Also write the DICOM objects.

    Raises
    ------
    InvalidInputError
        When the folder does not hold a readable result.
    """
    folder = Path(folder)
    result = _read_json(folder / "result.json")
    header = _read_json(folder / "study.json") if (folder / "study.json").is_file() else {
        "study_instance_uid": result.get("study_instance_uid")}
    enc, notes = encounter_from_result(result, clinical)
    try:
        coding = code_encounter(enc).to_dict()
        coding["notes"] = list(coding["notes"]) + notes
    except PlanarMPIError as exc:
        coding = {"cpt": [], "hcpcs": [], "rationale": f"not coded: {exc}",
                  "problems": [str(exc)], "notes": notes}
    figures = tuple(Figure(name, caption) for name, caption in FIGURES
                    if (folder / name).is_file())
    report = build_report(result, header=header, clinical=clinical, coding=coding,
                          clock=clock, figures=figures, signed_by=signed_by,
                          signed_at=clock if signed_by else None)
    if impression:
        from dataclasses import replace

        report = replace(report, impression=tuple(impression))
    from planarmpi.report.pdf import render_pdf
    from planarmpi.report.render import render_html, render_text

    previous = result.get("report")
    if previous and previous.get("generated_at") != report.generated_at.isoformat():
        history_path = folder / "report-history.json"
        history = (json.loads(history_path.read_text(encoding="utf-8"))
                   if history_path.is_file() else [])
        history.append(previous)
        write_json(history_path, history)
    pdf = render_pdf(report, folder)
    write_atomic(folder / "report.txt", render_text(report))
    write_atomic(folder / "report.html", render_html(report))
    write_atomic(folder / "report.pdf", pdf)
    if dicom and header.get("instances"):
        from planarmpi.report.dicom import write_dicom_outputs

        write_dicom_outputs(folder, report=report, pdf=pdf, result=result, header=header,
                            coding=coding, clinical_values=clinical_values(result, clinical))
    result["coding"] = coding
    result["report"] = report.to_dict()
    write_json(folder / "result.json", result)
    return report


def write_study_outputs(study: Study, result: StudyResult, out: str | os.PathLike[str], *,
                        clinical: ClinicalContext | None, clock: dt.datetime,
                        report: bool = True,
                        manual_rois: dict[str, Any] | None = None
                        ) -> tuple[Path, Report | None]:
    """Every output of one analysed study under ``out/<StudyInstanceUID>/``.

    ``result.json``, ``study.json``, the figures and — with ``report`` — the report, its
    DICOM objects and the coding. What ``planarmpi analyze`` and ``planarmpi batch`` write
    for a study is this function's output, so the two agree file for file.

    Returns
    -------
    path : Path
        The ``result.json`` written.
    report : Report or None
    """
    from planarmpi.io.outputs import study_header, write_result_json
    from planarmpi.report.function_figure import write_function_figure

    path = write_result_json(result, out)
    write_json(path.parent / "study.json", study_header(study))
    if result.perfusion is not None:
        from planarmpi.report.perfusion_figure import write_perfusion_figure

        write_perfusion_figure(study, result.perfusion, path.parent / "perfusion.png")
    write_function_figure(result.to_dict(), path.parent / "function.png", study, manual_rois)
    drafted = (render_report_outputs(path.parent, clinical=clinical, clock=clock)
               if report else None)
    return path, drafted
