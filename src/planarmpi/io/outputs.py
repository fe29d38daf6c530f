"""Writing analysis outputs to disk: one folder per study, atomic replacement."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from planarmpi.analysis.result import StudyResult
from planarmpi.io.paths import safe_dirname
from planarmpi.model import Study

__all__ = ["study_header", "study_output_dir", "write_atomic", "write_figure", "write_json",
           "write_result_json"]


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write a file through a temporary name and a rename: never a half-written file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix,
                               dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_figure(path: str | os.PathLike[str], figure: Any, *, dpi: int) -> Path:
    """Save a Matplotlib figure as PNG atomically (readers never see a half-written image).

    Two writers of one study folder (a study split between batch units) must not leave a
    reader with a truncated PNG; the figure is rendered in memory, then renamed into place.
    """
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return write_atomic(path, buffer.getvalue())


def write_json(path: str | os.PathLike[str], document: Any) -> Path:
    """Write a JSON document atomically (UTF-8, indented, no NaN)."""
    return write_atomic(path, json.dumps(document, indent=2, ensure_ascii=False,
                                         allow_nan=False) + "\n")


def study_header(study: Study) -> dict[str, Any]:
    """The ``study.json`` document: what reports and DICOM outputs need of the source.

    Holds the patient's name (protected health information), which ``result.json`` leaves
    out, and every source instance (for the references of derived DICOM objects).
    """
    h, p = study.header, study.patient
    return {
        "schema": "planarmpi/study-header@1",
        "study_instance_uid": study.study_instance_uid,
        "patient_name": p.name,
        "patient_id": p.patient_id,
        "patient_birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "patient_sex": p.sex.value,
        "study_date": h.study_date.isoformat() if h.study_date else None,
        "study_time": h.study_time.isoformat() if h.study_time else None,
        "study_description": h.description,
        "accession_number": h.accession_number,
        "study_id": h.study_id,
        "referring_physician": h.referring_physician,
        # Each source study of a combined episode (two-day protocol), this one first.
        "combined_studies": study.source_studies() if study.combined_with else [],
        "instances": list({
            a.sop_instance_uid: {"study_instance_uid": a.study_instance_uid,
                                 "series_instance_uid": a.series_instance_uid,
                                 "sop_instance_uid": a.sop_instance_uid,
                                 "sop_class_uid": a.sop_class_uid,
                                 "series_description": a.series_description,
                                 "modality": "NM"}
            for a in study.acquisitions}.values()),
    }


def study_output_dir(out: str | os.PathLike[str], study_instance_uid: str) -> Path:
    """``out/<StudyInstanceUID>``, with a hostile UID replaced (see :func:`safe_dirname`)."""
    return Path(out) / safe_dirname(study_instance_uid)


def write_result_json(result: StudyResult, out: str | os.PathLike[str]) -> Path:
    """Write ``result.json`` for one study and return its path.

    The file is written to a temporary name and renamed, so a crash never leaves a
    half-written result in place of a good one.
    """
    folder = study_output_dir(out, result.study_instance_uid)
    return write_json(folder / "result.json", result.to_dict())
