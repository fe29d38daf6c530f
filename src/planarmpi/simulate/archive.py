"""Many studies from few: copies of a simulated study with their own identities.

Simulation is the slow part of building a test or benchmark archive; analysis costs the
same for a copy as for the original. A copy gets its own Patient ID and Study, Series and
SOP Instance UIDs (derived from ``index``, so the same index always gives the same UIDs).
"""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

__all__ = ["clone_study"]


def clone_study(source: str | os.PathLike[str], target: str | os.PathLike[str],
                index: int) -> Path:
    """Copy every ``*.dcm`` of ``source`` into ``target`` as study number ``index``."""
    src, dst = Path(source), Path(target)
    dst.mkdir(parents=True, exist_ok=False)
    study_uid = generate_uid(entropy_srcs=[str(index), "study", str(src)])
    for f in sorted(src.glob("*.dcm")):
        ds = pydicom.dcmread(f)
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=[str(index), ds.SeriesInstanceUID])
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[str(index), ds.SOPInstanceUID])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PatientID = f"CLONE-{index:06d}"
        ds.save_as(dst / f.name, enforce_file_format=True)
    return dst
