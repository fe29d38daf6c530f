"""A study: every planar series of one Study Instance UID, plus what was declined."""

from __future__ import annotations

from dataclasses import dataclass, field

from planarmpi.model.findings import Finding
from planarmpi.model.patient import Patient, StudyHeader
from planarmpi.model.series import Acquisition, DynamicSeries, GatedSeries, StaticImage

__all__ = ["DeclinedObject", "Series", "Study"]

Series = StaticImage | GatedSeries | DynamicSeries


@dataclass(frozen=True, slots=True)
class DeclinedObject:
    """A DICOM object of the study that planar analysis does not use, and why."""

    source_file: str
    sop_instance_uid: str
    reason: str
    modality: str = ""
    kind: str = ""

    def to_dict(self) -> dict[str, str]:
        """JSON-ready mapping."""
        return {
            "sop_instance_uid": self.sop_instance_uid,
            "modality": self.modality,
            "kind": self.kind,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Study:
    """All planar series of one study, in a stable order.

    Parameters
    ----------
    header : StudyHeader
    patient : Patient
    series : tuple of StaticImage, GatedSeries or DynamicSeries
        One entry per detector × energy window (× R-R interval) image.
    declined : tuple of DeclinedObject
        Objects of the study that were recognised and set aside (SPECT, other modalities).
    findings : tuple of Finding
        What the reader noticed (view guessed from a description, NM stored as Secondary
        Capture, ...).
    """

    header: StudyHeader
    patient: Patient
    series: tuple[Series, ...] = ()
    declined: tuple[DeclinedObject, ...] = ()
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for s in self.series:
            uid = s.acquisition.study_instance_uid
            if uid != self.header.study_instance_uid:
                raise ValueError(
                    f"series {s.acquisition.series_instance_uid} belongs to study {uid}, "
                    f"not {self.header.study_instance_uid}"
                )
        object.__setattr__(self, "series", tuple(self.series))
        object.__setattr__(self, "declined", tuple(self.declined))
        object.__setattr__(self, "findings", tuple(self.findings))

    @property
    def study_instance_uid(self) -> str:
        """Study Instance UID (0020,000D)."""
        return self.header.study_instance_uid

    @property
    def statics(self) -> tuple[StaticImage, ...]:
        """Static views."""
        return tuple(s for s in self.series if isinstance(s, StaticImage))

    @property
    def gated(self) -> tuple[GatedSeries, ...]:
        """Gated views."""
        return tuple(s for s in self.series if isinstance(s, GatedSeries))

    @property
    def dynamics(self) -> tuple[DynamicSeries, ...]:
        """Dynamic acquisitions of a bolus (first pass); framed static views excluded."""
        return tuple(s for s in self.series
                     if isinstance(s, DynamicSeries) and not s.is_framed_static)

    @property
    def framed_statics(self) -> tuple[DynamicSeries, ...]:
        """Static views acquired in time frames (:attr:`DynamicSeries.is_framed_static`)."""
        return tuple(s for s in self.series
                     if isinstance(s, DynamicSeries) and s.is_framed_static)

    @property
    def acquisitions(self) -> tuple[Acquisition, ...]:
        """The acquisition record of every series."""
        return tuple(s.acquisition for s in self.series)
