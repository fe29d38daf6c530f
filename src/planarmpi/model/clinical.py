"""Clinical context of a study: indication, stress test, injections, roles, prior studies.

What the DICOM images cannot tell and the report and the procedure coding need. Built from
a user's YAML/JSON file by :func:`planarmpi.io.clinical.read_clinical` (which names the
field when a value is wrong) or directly through this API; every class validates itself.

The derived stress-test values (% of age-predicted maximal heart rate, rate–pressure
product, Duke treadmill score, blood-pressure response) are pure functions here.

References
----------
.. [1] ASNC imaging guidelines for SPECT nuclear cardiology procedures: stress protocols
   and tracers (Henzlova et al., J Nucl Cardiol 2016;23:606).
.. [2] Mark DB et al. Prognostic value of a treadmill exercise score in outpatients with
   suspected coronary artery disease. N Engl J Med 1991;325:849 (Duke treadmill score).
.. [3] Fletcher GF et al. Exercise standards for testing and training: a scientific
   statement from the AHA. Circulation 2013;128:873 (blood-pressure response).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from planarmpi.model.enums import State, Tracer

__all__ = [
    "MBQ_PER_MCI",
    "Angina",
    "BPResponse",
    "BloodPressure",
    "ClinicalContext",
    "DukeRisk",
    "ExerciseStress",
    "ImagingSession",
    "Indication",
    "Injection",
    "PharmacologicAgent",
    "PharmacologicStress",
    "PlaceOfService",
    "PriorStudy",
    "StressParams",
    "StressRoles",
    "StressType",
    "blood_pressure_response",
    "duke_risk",
    "duke_treadmill_score",
    "percent_mphr",
    "rate_pressure_product",
]

#: 1 mCi = 37 MBq exactly (definition of the curie).
MBQ_PER_MCI = 37.0


class StressType(StrEnum):
    """How the heart was stressed."""

    EXERCISE = "exercise"
    PHARMACOLOGIC = "pharmacologic"
    NONE = "none"


class Angina(StrEnum):
    """Angina during exercise, with the Duke angina index (0, 1, 2) as ``duke_index``."""

    NONE = "none"
    NON_LIMITING = "non-limiting"
    LIMITING = "limiting"

    @property
    def duke_index(self) -> int:
        """Duke angina index: 0 none, 1 non-limiting, 2 exercise-limiting."""
        return {"none": 0, "non-limiting": 1, "limiting": 2}[self.value]


class PharmacologicAgent(StrEnum):
    """Pharmacologic stress agents (procedure.md)."""

    REGADENOSON = "regadenoson"
    ADENOSINE = "adenosine"
    DIPYRIDAMOLE = "dipyridamole"
    DOBUTAMINE = "dobutamine"


class PlaceOfService(StrEnum):
    """Where the study was done, which decides the professional/technical split.

    ``office`` (CMS place of service 11): one entity owns the camera and interprets; global
    codes. ``hospital-outpatient`` (22) and ``hospital-inpatient`` (21): the physician bills
    the professional component (−26), the hospital the technical one (−TC).
    """

    OFFICE = "office"
    HOSPITAL_OUTPATIENT = "hospital-outpatient"
    HOSPITAL_INPATIENT = "hospital-inpatient"

    @property
    def is_facility(self) -> bool:
        """True where a facility bills the technical component."""
        return self is not PlaceOfService.OFFICE


class DukeRisk(StrEnum):
    """Duke treadmill score risk class (Mark 1991 [2]_)."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class BPResponse(StrEnum):
    """Systolic blood-pressure response to stress."""

    NORMAL = "normal rise"
    FLAT = "flat"
    HYPOTENSIVE = "hypotensive"
    HYPERTENSIVE = "hypertensive"


@dataclass(frozen=True, slots=True)
class StressParams:
    """Limits used to describe a stress test; change them to follow local practice.

    Parameters
    ----------
    adequate_mphr_percent : float
        Heart rate at or above this % of 220 − age is an adequate exercise (procedure.md,
        report-and-coding.md: ≥ 85%).
    flat_rise_mmhg : float
        A systolic rise smaller than this is a flat response (AHA 2013 exercise standards
        [3]_: normal rise is roughly 10 mmHg per MET; a rise < 20–30 mmHg is blunted).
    hypertensive_systolic_mmhg, hypertensive_diastolic_mmhg : float
        Peak systolic above 250 mmHg or diastolic above 115 mmHg is a hypertensive
        response (AHA 2013 [3]_, relative indications to stop).
    hypotensive_drop_mmhg : float
        Peak systolic below rest by at least this much is exertional hypotension (AHA 2013
        [3]_: a drop > 10 mmHg from baseline).
    """

    adequate_mphr_percent: float = 85.0
    flat_rise_mmhg: float = 20.0
    hypertensive_systolic_mmhg: float = 250.0
    hypertensive_diastolic_mmhg: float = 115.0
    hypotensive_drop_mmhg: float = 10.0


def percent_mphr(peak_hr_bpm: float, age_years: float) -> float:
    """Peak heart rate as % of the age-predicted maximum, 220 − age.

    Raises
    ------
    ValueError
        For an age outside 1–120 years.
    """
    if not 1.0 <= age_years <= 120.0:
        raise ValueError(f"age must be within 1–120 years, got {age_years}")
    return 100.0 * peak_hr_bpm / (220.0 - age_years)


def rate_pressure_product(heart_rate_bpm: float, systolic_mmhg: float) -> float:
    """Rate–pressure (double) product, bpm × mmHg."""
    return heart_rate_bpm * systolic_mmhg


def duke_treadmill_score(exercise_min: float, st_deviation_mm: float,
                         angina: Angina | str) -> float:
    """Duke treadmill score: minutes − 5 × ST deviation (mm) − 4 × angina index [2]_.

    ``exercise_min`` is the Bruce-protocol exercise time; the score is defined for Bruce.
    """
    return exercise_min - 5.0 * abs(st_deviation_mm) - 4.0 * Angina(angina).duke_index


def duke_risk(score: float) -> DukeRisk:
    """Risk class: ≥ +5 low, −10 … +4 moderate, ≤ −11 high (report-and-coding.md)."""
    if score >= 5.0:
        return DukeRisk.LOW
    if score <= -11.0:
        return DukeRisk.HIGH
    return DukeRisk.MODERATE


@dataclass(frozen=True, slots=True)
class BloodPressure:
    """Systolic/diastolic blood pressure, mmHg."""

    systolic_mmhg: float
    diastolic_mmhg: float

    def __post_init__(self) -> None:
        if not 40.0 <= self.systolic_mmhg <= 300.0:
            raise ValueError(f"systolic pressure must be within 40–300 mmHg, got "
                             f"{self.systolic_mmhg:g}")
        if not 20.0 <= self.diastolic_mmhg <= 200.0:
            raise ValueError(f"diastolic pressure must be within 20–200 mmHg, got "
                             f"{self.diastolic_mmhg:g}")
        if self.diastolic_mmhg >= self.systolic_mmhg:
            raise ValueError(f"diastolic pressure {self.diastolic_mmhg:g} mmHg must be below "
                             f"the systolic {self.systolic_mmhg:g} mmHg")

    def __str__(self) -> str:
        return f"{self.systolic_mmhg:g}/{self.diastolic_mmhg:g} mmHg"


def blood_pressure_response(rest: BloodPressure, peak: BloodPressure,
                            params: StressParams | None = None) -> BPResponse:
    """Classify the blood-pressure response from rest to peak stress [3]_."""
    p = params or StressParams()
    if (peak.systolic_mmhg > p.hypertensive_systolic_mmhg
            or peak.diastolic_mmhg > p.hypertensive_diastolic_mmhg):
        return BPResponse.HYPERTENSIVE
    rise = peak.systolic_mmhg - rest.systolic_mmhg
    if rise <= -p.hypotensive_drop_mmhg:
        return BPResponse.HYPOTENSIVE
    if rise < p.flat_rise_mmhg:
        return BPResponse.FLAT
    return BPResponse.NORMAL


def _check_range(name: str, value: float | None, low: float, high: float, unit: str) -> None:
    if value is not None and not low <= value <= high:
        raise ValueError(f"{name} must be within {low:g}–{high:g} {unit}, got {value:g}")


@dataclass(frozen=True, slots=True)
class StressRoles:
    """Who did each component of the cardiovascular stress test (for coding 9301x).

    Each is the name of the person or entity: the supervising physician, whoever owns the
    equipment and produced the tracing (often ``"facility"``), the interpreting physician.
    """

    supervision: str
    tracing: str
    interpretation: str

    def __post_init__(self) -> None:
        for name in ("supervision", "tracing", "interpretation"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"stress roles: {name} must name who did it")

    @property
    def single_entity(self) -> bool:
        """True when one person or entity did all three components."""
        names = {s.strip().casefold() for s in (self.supervision, self.tracing,
                                                   self.interpretation)}
        return len(names) == 1


@dataclass(frozen=True, slots=True)
class ExerciseStress:
    """An exercise stress test (treadmill or bicycle)."""

    protocol: str
    duration_min: float
    rest_hr_bpm: float
    peak_hr_bpm: float
    rest_bp: BloodPressure
    peak_bp: BloodPressure
    termination_reason: str
    st_deviation_mm: float = 0.0
    angina: Angina = Angina.NONE
    mets: float | None = None
    stages_completed: int | None = None
    symptoms: str = "none"
    arrhythmias: str = "none"
    ecg_findings: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "angina", Angina(self.angina))
        _check_range("exercise duration_min", self.duration_min, 0.0, 60.0, "min")
        _check_range("rest_hr_bpm", self.rest_hr_bpm, 20.0, 250.0, "bpm")
        _check_range("peak_hr_bpm", self.peak_hr_bpm, 20.0, 250.0, "bpm")
        _check_range("st_deviation_mm", self.st_deviation_mm, -10.0, 10.0, "mm")
        _check_range("mets", self.mets, 0.5, 30.0, "METs")
        if self.stages_completed is not None and not 0 <= self.stages_completed <= 12:
            raise ValueError(f"stages_completed must be within 0–12, got "
                             f"{self.stages_completed}")
        if not self.protocol.strip():
            raise ValueError("exercise protocol must be named (e.g. Bruce)")
        if not self.termination_reason.strip():
            raise ValueError("termination_reason must say why the exercise stopped")

    @property
    def is_bruce(self) -> bool:
        """True for the (standard or modified) Bruce protocol."""
        return "bruce" in self.protocol.casefold()


@dataclass(frozen=True, slots=True)
class PharmacologicStress:
    """A pharmacologic stress test.

    ``dose`` is in ``dose_unit``: ``mg`` for a bolus (regadenoson 0.4 mg), ``mg/kg``
    (dipyridamole 0.56 mg/kg), ``ug/kg/min`` for an infusion (adenosine 140 µg/kg/min,
    dobutamine up to 40 µg/kg/min).
    """

    agent: PharmacologicAgent
    dose: float
    dose_unit: str
    rest_hr_bpm: float
    peak_hr_bpm: float
    rest_bp: BloodPressure
    peak_bp: BloodPressure
    infusion_min: float | None = None
    total_dose_mg: float | None = None
    side_effects: str = "none"
    symptoms: str = "none"
    st_deviation_mm: float = 0.0
    arrhythmias: str = "none"
    ecg_findings: str = ""
    reversal: str = ""
    low_level_exercise: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "agent", PharmacologicAgent(self.agent))
        if self.dose_unit not in ("mg", "mg/kg", "ug/kg/min"):
            raise ValueError(f"dose_unit must be mg, mg/kg or ug/kg/min, got "
                             f"{self.dose_unit!r}")
        _check_range("dose", self.dose, 1e-6, 1000.0, self.dose_unit)
        _check_range("rest_hr_bpm", self.rest_hr_bpm, 20.0, 250.0, "bpm")
        _check_range("peak_hr_bpm", self.peak_hr_bpm, 20.0, 250.0, "bpm")
        _check_range("infusion_min", self.infusion_min, 0.0, 60.0, "min")
        _check_range("total_dose_mg", self.total_dose_mg, 0.0, 5000.0, "mg")
        _check_range("st_deviation_mm", self.st_deviation_mm, -10.0, 10.0, "mm")

    def administered_mg(self, weight_kg: float | None) -> float | None:
        """Total amount given, mg: stated, or from a bolus dose, or dose × weight (× time).

        None when it cannot be known without guessing (no weight for a per-kg dose).
        """
        if self.total_dose_mg is not None:
            return self.total_dose_mg
        if self.dose_unit == "mg":
            return self.dose
        if weight_kg is None:
            return None
        if self.dose_unit == "mg/kg":
            return self.dose * weight_kg
        if self.infusion_min is None:
            return None
        return self.dose * weight_kg * self.infusion_min / 1000.0


#: The injected doses an :class:`Injection` accepts (MBq).
INJECTION_DOSE_RANGE_MBQ = (1.0, 3000.0)


@dataclass(frozen=True, slots=True)
class Injection:
    """One tracer injection."""

    state: State
    tracer: Tracer
    dose_mbq: float
    time: dt.datetime | None = None
    site: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", State(self.state))
        object.__setattr__(self, "tracer", Tracer(self.tracer))
        _check_range("injection dose_mbq", self.dose_mbq, *INJECTION_DOSE_RANGE_MBQ, "MBq")

    @property
    def dose_mci(self) -> float:
        """Dose in mCi."""
        return self.dose_mbq / MBQ_PER_MCI


@dataclass(frozen=True, slots=True)
class Indication:
    """Why the study was done."""

    text: str
    icd10: str

    def __post_init__(self) -> None:
        import re

        if not self.text.strip():
            raise ValueError("indication text must not be empty")
        if not re.fullmatch(r"[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?", self.icd10):
            raise ValueError(f"indication icd10 {self.icd10!r} is not an ICD-10 code "
                             "(e.g. R07.9, I25.10)")


@dataclass(frozen=True, slots=True)
class PriorStudy:
    """A previous study to compare with."""

    date: dt.date
    description: str
    lvef_percent: float | None = None
    lvef_method: str = ""
    perfusion: str = ""

    def __post_init__(self) -> None:
        _check_range("prior lvef_percent", self.lvef_percent, 0.0, 100.0, "%")


@dataclass(frozen=True, slots=True)
class ImagingSession:
    """One day of imaging in the episode, with the states imaged (for coding across days)."""

    date: dt.date
    states: tuple[State, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", tuple(State(s) for s in self.states))
        if not self.states:
            raise ValueError(f"imaging session {self.date}: states must not be empty")


@dataclass(frozen=True, slots=True)
class ClinicalContext:
    """Everything about a study that the images do not hold.

    Parameters
    ----------
    indication : Indication
    stress_type : StressType
    exercise, pharmacologic : ExerciseStress or PharmacologicStress or None
        The one matching ``stress_type``.
    stress_roles : StressRoles or None
        Who supervised, traced and interpreted the stress test; required with a stress test.
    place_of_service : PlaceOfService
    injections : tuple of Injection
        Empty: taken from the DICOM radiopharmaceutical information.
    sessions : tuple of ImagingSession
        Imaging days of the episode; empty: the states found in the DICOM images.
    interpreting_physician, referring_physician : str
    history, medications : tuple of str
    height_cm, weight_kg : float or None
        Override the DICOM Patient Size/Weight when given.
    priors : tuple of PriorStudy
    additional_procedures : tuple of str
        Other procedures of the same encounter that change the coding (``spect-mpi``).
    """

    indication: Indication
    stress_type: StressType = StressType.NONE
    exercise: ExerciseStress | None = None
    pharmacologic: PharmacologicStress | None = None
    stress_roles: StressRoles | None = None
    place_of_service: PlaceOfService = PlaceOfService.OFFICE
    injections: tuple[Injection, ...] = ()
    sessions: tuple[ImagingSession, ...] = ()
    interpreting_physician: str = ""
    referring_physician: str = ""
    history: tuple[str, ...] = ()
    medications: tuple[str, ...] = ()
    height_cm: float | None = None
    weight_kg: float | None = None
    priors: tuple[PriorStudy, ...] = ()
    additional_procedures: tuple[str, ...] = ()
    notes: str = ""
    params: StressParams = field(default_factory=StressParams)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stress_type", StressType(self.stress_type))
        object.__setattr__(self, "place_of_service", PlaceOfService(self.place_of_service))
        if self.stress_type is StressType.EXERCISE and self.exercise is None:
            raise ValueError("stress type exercise needs the exercise test details")
        if self.stress_type is StressType.PHARMACOLOGIC and self.pharmacologic is None:
            raise ValueError("stress type pharmacologic needs the agent details")
        if self.stress_type is not StressType.NONE and self.stress_roles is None:
            raise ValueError("a stress test needs stress roles (who supervised, who made "
                             "the tracing, who interpreted)")
        _check_range("height_cm", self.height_cm, 40.0, 250.0, "cm")
        _check_range("weight_kg", self.weight_kg, 2.0, 400.0, "kg")
        known = {"spect-mpi"}
        for proc in self.additional_procedures:
            if proc not in known:
                raise ValueError(f"additional procedure {proc!r} is not one of "
                                 f"{sorted(known)}")

    @property
    def stress(self) -> ExerciseStress | PharmacologicStress | None:
        """The stress test, whichever kind."""
        return self.exercise or self.pharmacologic
