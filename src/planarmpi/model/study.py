"""A study: every planar series of one Study Instance UID, plus what was declined.

A two-day protocol stores its stress and rest images as two studies of the same patient;
:func:`combine_studies` makes one :class:`Study` of them (the stress study's header, the
other studies' headers in :attr:`Study.combined_with`), so the images are compared as one
episode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from planarmpi.errors import InvalidInputError
from planarmpi.model.enums import Level, State, Tracer
from planarmpi.model.findings import Finding
from planarmpi.model.patient import Patient, StudyHeader
from planarmpi.model.series import Acquisition, DynamicSeries, GatedSeries, StaticImage

__all__ = ["DeclinedObject", "Series", "Study", "combine_studies", "episodes",
           "perfusion_sides", "read_apart"]

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
    combined_with : tuple of StudyHeader
        The other studies of the same patient whose series were combined into this one
        (:func:`combine_studies`: a two-day protocol's rest study); ``header`` is the
        stress study's. Empty for a study read alone.
    """

    header: StudyHeader
    patient: Patient
    series: tuple[Series, ...] = ()
    declined: tuple[DeclinedObject, ...] = ()
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    combined_with: tuple[StudyHeader, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "combined_with", tuple(self.combined_with))
        uids = [self.header.study_instance_uid,
                *(h.study_instance_uid for h in self.combined_with)]
        if len(set(uids)) != len(uids):
            raise ValueError(f"a study cannot be combined with itself: {', '.join(uids)}")
        for s in self.series:
            uid = s.acquisition.study_instance_uid
            if uid not in uids:
                raise ValueError(
                    f"series {s.acquisition.series_instance_uid} belongs to study {uid}, "
                    f"not {' or '.join(uids)}"
                )
        object.__setattr__(self, "series", tuple(self.series))
        object.__setattr__(self, "declined", tuple(self.declined))
        object.__setattr__(self, "findings", tuple(self.findings))

    @property
    def study_instance_uid(self) -> str:
        """Study Instance UID (0020,000D)."""
        return self.header.study_instance_uid

    @property
    def headers(self) -> tuple[StudyHeader, ...]:
        """The header of each study the series come from: this study's first."""
        return (self.header, *self.combined_with)

    def states_of(self, study_instance_uid: str) -> tuple[State, ...]:
        """The states (rest, stress, ...) of the series of one source study, sorted."""
        return tuple(sorted({s.acquisition.state for s in self.series
                             if s.acquisition.study_instance_uid == study_instance_uid}))

    def source_studies(self) -> list[dict[str, Any]]:
        """Each source study (this one first) with its date and states, JSON-ready; one
        entry for a study read alone."""
        return [{"study_instance_uid": h.study_instance_uid,
                 "study_date": h.study_date.isoformat() if h.study_date else None,
                 "study_time": h.study_time.isoformat() if h.study_time else None,
                 "description": h.description,
                 "accession_number": h.accession_number,
                 "states": [st.value for st in self.states_of(h.study_instance_uid)]}
                for h in self.headers]

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


#: The longest interval between the studies :func:`combine_studies` accepts by default, in
#: days. A two-day protocol acquires rest and stress on separate days, usually within a
#: week (docs/perfusion.md §7); this bound only guards against pairing an old study with a
#: new one by mistake and is an option of the command, not a clinical threshold.
COMBINE_MAX_DAYS = 14


def combine_studies(studies: Sequence[Study], *, max_days: int = COMBINE_MAX_DAYS) -> Study:
    """One study of a patient's separate stress and rest studies (a two-day protocol).

    The study holding the stress images gives the header, the patient and the output's
    Study Instance UID; the others are kept in :attr:`Study.combined_with`, and every
    series keeps its own Study Instance UID (derived objects reference them in their own
    studies). A finding ``STUDIES_COMBINED`` says which images came from which study.

    Parameters
    ----------
    studies : sequence of Study
        Two or more studies, each read alone (not combined already).
    max_days : int
        The largest interval between the study dates, in days.

    Raises
    ------
    InvalidInputError
        Studies of different patients (Patient ID missing or different, sex or birth date
        contradicting), the same study twice, a study without perfusion images (a blood
        pool or first pass is not part of a two-day perfusion protocol), no study or
        several studies holding stress images, a state (rest, stress, ...) found in two
        studies, a series whose state is unknown, or dates further apart than
        ``max_days``.
    """
    if len(studies) < 2:
        raise InvalidInputError("combining studies needs at least two")
    if max_days < 0:
        raise InvalidInputError(f"max_days must be ≥ 0, got {max_days}")
    names = ", ".join(s.study_instance_uid for s in studies)
    if any(s.combined_with for s in studies):
        raise InvalidInputError(f"studies {names}: a study was combined already")
    if len({s.study_instance_uid for s in studies}) != len(studies):
        raise InvalidInputError(f"studies {names}: the same study given twice")
    ids = {s.patient.patient_id for s in studies}
    if "" in ids or len(ids) > 1:
        raise InvalidInputError(
            f"studies {names}: not combined, the Patient IDs "
            f"({', '.join(sorted(repr(i) for i in ids))}) must be present and equal")
    for what, values in (("sex", {s.patient.sex.value for s in studies
                                   if s.patient.sex.value in ("M", "F")}),
                         ("birth date", {s.patient.birth_date for s in studies
                                         if s.patient.birth_date is not None})):
        if len(values) > 1:
            raise InvalidInputError(f"studies {names}: not combined, patient {what} differs "
                                    f"between them")
    for study in studies:
        if not any(s.acquisition.tracer.is_perfusion_agent for s in study.series):
            raise InvalidInputError(
                f"study {study.study_instance_uid}: not combined, it holds no perfusion "
                "images (a two-day protocol's studies are myocardial perfusion studies)")
    states: dict[State, str] = {}
    for study in studies:
        uid = study.study_instance_uid
        own = {s.acquisition.state for s in study.series}
        if State.UNKNOWN in own:
            raise InvalidInputError(f"study {uid}: not combined, it holds images of unknown "
                                    "state (rest or stress?)")
        for state in own:
            if state in states:
                raise InvalidInputError(
                    f"studies {states[state]} and {uid}: not combined, both hold "
                    f"{state.value} images (combine one episode's stress and rest studies)")
            states[state] = uid
    stress = [s for s in studies if any(x.acquisition.state.is_stress for x in s.series)]
    if len(stress) != 1:
        raise InvalidInputError(
            f"studies {names}: not combined, "
            f"{'no study holds' if not stress else 'several studies hold'} stress images "
            "(exactly one must)")
    primary = stress[0]
    others = sorted((s for s in studies if s is not primary),
                    key=lambda s: (s.header.study_date or dt.date.min, s.study_instance_uid))
    findings = [f for s in (primary, *others) for f in s.findings]
    parts = []
    for study in (primary, *others):
        h = study.header
        gap = ""
        if study is not primary and h.study_date and primary.header.study_date:
            days = (primary.header.study_date - h.study_date).days
            if abs(days) > max_days:
                raise InvalidInputError(
                    f"studies {primary.study_instance_uid} ({primary.header.study_date}) and "
                    f"{h.study_instance_uid} ({h.study_date}): not combined, {abs(days)} days "
                    f"apart (more than {max_days})")
            gap = (f", {abs(days)} day{'s' * (abs(days) != 1)} "
                   f"{'before' if days > 0 else 'after'} the stress study" if days else
                   ", the same day")
        states_text = "/".join(st.value for st in study.states_of(h.study_instance_uid))
        parts.append(f"{states_text} images from study {h.study_instance_uid} "
                     f"({h.study_date or 'date not recorded'}{gap})")
    undated = [s.study_instance_uid for s in (primary, *others) if s.header.study_date is None]
    findings.append(Finding(
        "STUDIES_COMBINED", Level.WARN if undated else Level.INFO,
        "analysed as one episode (two-day protocol): " + "; ".join(parts)
        + (f"; the interval cannot be checked, study date missing in {', '.join(undated)}"
           if undated else "")))
    return Study(header=primary.header, patient=primary.patient,
                 series=tuple(x for s in (primary, *others) for x in s.series),
                 declined=tuple(d for s in (primary, *others) for d in s.declined),
                 findings=tuple(findings),
                 combined_with=tuple(s.header for s in others))


def episodes(studies: Iterable[Study], *, max_days: int = COMBINE_MAX_DAYS
             ) -> Iterator[tuple[Study, str]]:
    """Each patient's studies combined by :func:`combine_studies`, with why not when not.

    Yields ``(study, problem)``: a patient's single study with ``""``; several studies of
    one patient combined, with ``""``; or, when they cannot be combined (no Patient ID, or
    :func:`combine_studies` refuses), each of them alone with the reason. Every study is
    read before the first is yielded (meant for one patient's or one folder's studies).
    """
    by_patient: dict[str, list[Study]] = {}
    for study in studies:
        by_patient.setdefault(study.patient.patient_id, []).append(study)
    for patient_id, group in by_patient.items():
        if len(group) == 1:
            yield group[0], ""
            continue
        if not patient_id:
            problem = (f"studies {', '.join(s.study_instance_uid for s in group)}: not "
                       "combined, no Patient ID; each analysed alone")
            for study in group:
                yield study, problem
            continue
        try:
            combined = combine_studies(group, max_days=max_days)
        except InvalidInputError as exc:
            for study in group:
                yield study, f"{exc}; each analysed alone"
        else:
            yield combined, ""


def perfusion_sides(images: Iterable[tuple[Tracer, State]]) -> frozenset[str]:
    """``stress`` and/or ``rest`` (any other known state): which sides of a perfusion
    protocol a study's images hold, from each image's tracer and state (images of other
    tracers, or of unknown state, left out). A study with ``{"stress"}`` beside one of the
    same patient with ``{"rest"}`` looks like a two-day protocol read apart."""
    return frozenset("stress" if state.is_stress else "rest" for tracer, state in images
                     if tracer.is_perfusion_agent and state is not State.UNKNOWN)


def read_apart(studies: Iterable[tuple[str, str, frozenset[str]]]
               ) -> dict[str, tuple[list[str], list[str]]]:
    """The patients whose stress and rest perfusion images were read as separate studies.

    ``studies``: ``(patient_id, study_instance_uid, sides)`` of each study read alone,
    ``sides`` from :func:`perfusion_sides`. Returns, per Patient ID (never an empty one)
    holding both, the UIDs of its stress-only and of its rest-only studies — likely a
    two-day protocol that :func:`combine_studies` would read as one episode.
    """
    by_patient: dict[str, tuple[list[str], list[str]]] = {}
    for patient_id, uid, sides in studies:
        if not patient_id:
            continue
        stress, rest = by_patient.setdefault(patient_id, ([], []))
        if sides == {"stress"}:
            stress.append(uid)
        elif sides == {"rest"}:
            rest.append(uid)
    return {pid: pair for pid, pair in by_patient.items() if pair[0] and pair[1]}
