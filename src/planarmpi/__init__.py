"""planarmpi: planar nuclear cardiology — read DICOM NM, check quality, analyse, report.

The curated public API::

    import planarmpi
    outcome = planarmpi.read_studies("study-folder/")
    for study in outcome.studies:
        result = planarmpi.analyze_study(study)
        print(result.qc_status)
"""

from planarmpi._version import __version__
from planarmpi.analysis.pipeline import analyze_study
from planarmpi.analysis.result import SCHEMA, StudyResult
from planarmpi.errors import (
    DeclinedInputError,
    InvalidDicomError,
    InvalidInputError,
    NotDicomError,
    PlanarMPIError,
    WriterError,
)
from planarmpi.io.reader import Problem, ReadOutcome, iter_studies, read_file, read_studies
from planarmpi.io.writer import nm_dataset, write_nm
from planarmpi.model import (
    DynamicSeries,
    GatedSeries,
    Patient,
    SeriesKind,
    Sex,
    State,
    StaticImage,
    Study,
    Tracer,
    View,
)

__all__ = [
    "SCHEMA",
    "DeclinedInputError",
    "DynamicSeries",
    "GatedSeries",
    "InvalidDicomError",
    "InvalidInputError",
    "NotDicomError",
    "Patient",
    "PlanarMPIError",
    "Problem",
    "ReadOutcome",
    "SeriesKind",
    "Sex",
    "State",
    "StaticImage",
    "Study",
    "StudyResult",
    "Tracer",
    "View",
    "WriterError",
    "__version__",
    "analyze_study",
    "iter_studies",
    "nm_dataset",
    "read_file",
    "read_studies",
    "write_nm",
]
