"""The result of analysing one study: the ``result.json`` contract.

``result.json`` is public (``docs/result-schema.md``): fields are added, never renamed or
removed without a new schema version and a migration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planarmpi._version import __version__
from planarmpi.analysis.summary import SeriesSummary
from planarmpi.model import (
    Chamber,
    DeclinedObject,
    Finding,
    Patient,
    StudyHeader,
    overall_status,
)

__all__ = ["SCHEMA", "Coding", "EjectionFraction", "StudyResult"]

#: Schema identifier written into every result.json.
SCHEMA = "planarmpi/result@1"


@dataclass(frozen=True, slots=True)
class EjectionFraction:
    """An ejection fraction with its method and 95% interval (percent)."""

    chamber: Chamber
    method: str  # first-pass | gated-perfusion | gated-blood-pool
    value_percent: float
    ci95_percent: tuple[float, float] | None
    series_instance_uid: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "chamber", Chamber(self.chamber))
        if self.method not in ("first-pass", "gated-perfusion", "gated-blood-pool"):
            raise ValueError(f"unknown EF method {self.method!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {
            "chamber": self.chamber.value,
            "method": self.method,
            "value_percent": self.value_percent,
            "ci95_percent": list(self.ci95_percent) if self.ci95_percent else None,
            "series_instance_uid": self.series_instance_uid,
        }


@dataclass(frozen=True, slots=True)
class Coding:
    """Procedure codes for the study (filled by the coding engine)."""

    cpt: tuple[dict[str, Any], ...] = ()
    rationale: str = "procedure coding is not computed by this version"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {"cpt": [dict(c) for c in self.cpt], "rationale": self.rationale}


def _study_dict(header: StudyHeader | None) -> dict[str, Any] | None:
    if header is None:
        return None
    return {
        "study_date": header.study_date.isoformat() if header.study_date else None,
        "study_time": header.study_time.isoformat() if header.study_time else None,
        "description": header.description,
        "accession_number": header.accession_number,
    }


@dataclass(frozen=True, slots=True)
class StudyResult:
    """Everything planarmpi concluded about one study."""

    study_instance_uid: str
    patient: Patient
    series: tuple[SeriesSummary, ...]
    findings: tuple[Finding, ...]
    declined: tuple[DeclinedObject, ...] = ()
    ejection_fractions: tuple[EjectionFraction, ...] = ()
    wall_motion: tuple[dict[str, Any], ...] = ()
    wall_motion_territories: tuple[dict[str, Any], ...] = ()
    phase: dict[str, Any] | None = None
    perfusion: dict[str, Any] | None = None
    lung_heart_ratio: float | None = None
    coding: Coding = field(default_factory=Coding)
    analyses_run: tuple[str, ...] = ("qc",)
    function: tuple[dict[str, Any], ...] = ()
    header: StudyHeader | None = None
    #: Each source study of a combined episode (two-day protocol), the stress study first:
    #: UID, date, description and states; empty for a study read alone.
    combined_studies: tuple[dict[str, Any], ...] = ()
    #: A one-day Tc-99m protocol's first-injection share of the second images
    #: (:class:`planarmpi.qc.protocol.ResidualEstimate`); None for any other study.
    one_day_protocol: dict[str, Any] | None = None
    #: The QC limits the findings were judged against, by name
    #: (:func:`planarmpi.qc.settings.qc_limits_to_mapping`); None when not recorded.
    qc_limits: dict[str, float] | None = None

    @property
    def qc_status(self) -> str:
        """``pass``, ``warn`` or ``fail``."""
        return overall_status(self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The ``planarmpi/result@1`` document."""
        return {
            "schema": SCHEMA,
            "study_instance_uid": self.study_instance_uid,
            "patient": self.patient.to_dict(),
            "study": _study_dict(self.header),
            "combined_studies": [dict(c) for c in self.combined_studies],
            "ejection_fractions": [ef.to_dict() for ef in self.ejection_fractions],
            "wall_motion": [dict(w) for w in self.wall_motion],
            "wall_motion_territories": [dict(t) for t in self.wall_motion_territories],
            "phase": self.phase,
            "perfusion": self.perfusion,
            "lung_heart_ratio": self.lung_heart_ratio,
            "one_day_protocol": self.one_day_protocol,
            "qc": {
                "status": self.qc_status,
                "findings": [f.to_dict() for f in self.findings],
                **({"limits": dict(self.qc_limits)} if self.qc_limits is not None else {}),
            },
            "coding": self.coding.to_dict(),
            "series": [s.to_dict() for s in self.series],
            "declined": [d.to_dict() for d in self.declined],
            "function": [dict(f) for f in self.function],
            "analyses_run": list(self.analyses_run),
            "software": {"name": "planarmpi", "version": __version__},
        }
