"""Patient and study header."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from planarmpi.model.enums import Sex

__all__ = ["Patient", "StudyHeader"]


@dataclass(frozen=True, slots=True)
class Patient:
    """The patient as the DICOM Patient and Patient Study modules describe them.

    Parameters
    ----------
    patient_id : str
        Patient ID (0010,0020); may be empty.
    name : str
        Patient's Name (0010,0010) in DICOM PN form. Protected health information: never
        logged.
    sex : Sex
    birth_date : datetime.date or None
    age_years : float or None
        From Patient's Age (0010,1010), else from birth and study dates.
    weight_kg, height_m : float or None
        Patient's Weight (0010,1030) and Size (0010,1020).
    """

    patient_id: str = ""
    name: str = ""
    sex: Sex = Sex.UNKNOWN
    birth_date: dt.date | None = None
    age_years: float | None = None
    weight_kg: float | None = None
    height_m: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sex", Sex(self.sex))
        for name, value, upper in (
            ("age_years", self.age_years, 150.0),
            ("weight_kg", self.weight_kg, 700.0),
            ("height_m", self.height_m, 3.0),
        ):
            if value is not None and not 0.0 <= value <= upper:
                raise ValueError(f"Patient {name} must be within 0–{upper}, got {value}")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping without the name (PHI stays out of machine outputs)."""
        return {
            "patient_id": self.patient_id,
            "sex": self.sex.value,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "age_years": self.age_years,
            "weight_kg": self.weight_kg,
            "height_m": self.height_m,
        }


@dataclass(frozen=True, slots=True)
class StudyHeader:
    """Study-level identification (General Study module, PS3.3 C.7.2.1)."""

    study_instance_uid: str
    study_date: dt.date | None = None
    study_time: dt.time | None = None
    description: str = ""
    accession_number: str = ""
    study_id: str = ""
    referring_physician: str = ""

    def __post_init__(self) -> None:
        if not self.study_instance_uid:
            raise ValueError("StudyHeader needs a study_instance_uid")
