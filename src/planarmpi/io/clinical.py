"""Reading the clinical-context file (``analyze --clinical FILE``, ``report --clinical``).

The format (YAML or JSON, schema ``planarmpi/clinical@1``) is documented in
``docs/clinical.md`` with complete examples in ``examples/``. Every problem raises
:class:`~planarmpi.errors.InvalidInputError` naming the file and the field
(``stress.peak_hr_bpm``), the value and what was expected.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any, TypeVar

from planarmpi.errors import InvalidInputError
from planarmpi.io.documents import load_mapping
from planarmpi.model.clinical import (
    MBQ_PER_MCI,
    BloodPressure,
    ClinicalContext,
    ExerciseStress,
    ImagingSession,
    Indication,
    Injection,
    PharmacologicStress,
    PriorStudy,
    StressParams,
    StressRoles,
    StressType,
)

__all__ = ["CLINICAL_SCHEMA", "clinical_from_mapping", "clinical_to_mapping", "read_clinical"]

CLINICAL_SCHEMA = "planarmpi/clinical@1"
T = TypeVar("T")


class _Fields:
    """A mapping read field by field; every error names ``file: path.to.field``."""

    def __init__(self, data: dict[str, Any], where: str, path: str = "") -> None:
        self.data = data
        self.where = where
        self.path = path
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> InvalidInputError:
        return InvalidInputError(f"{self.where}: {self.name(key)}: {problem}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, required: bool) -> Any:
        self.used.add(key)
        value = self.data.get(key)
        if value is None and required:
            raise self.fail(key, "is required")
        return value

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.raw(key, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(key, f"must be text, got {type(value).__name__}")
        return str(value).strip()

    def number(self, key: str, *, required: bool = False, low: float | None = None,
               high: float | None = None, unit: str = "") -> float | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number{' in ' + unit if unit else ''}, got "
                                 f"{value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(key, f"{value:g} {unit} is impossible (expected "
                                 f"{low:g}–{high:g} {unit})".replace("  ", " "))
        return float(value)

    def req_number(self, key: str, low: float, high: float, unit: str) -> float:
        value = self.number(key, required=True, low=low, high=high, unit=unit)
        assert value is not None
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.raw(key, False)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value.strip(),)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of text")
        return tuple(v.strip() for v in value)

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(key, f"{value!r} is not a date (YYYY-MM-DD)") from None

    def datetime(self, key: str) -> dt.datetime | None:
        value = self.raw(key, False)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise self.fail(key, f"{value!r} is not a date and time "
                                 "(YYYY-MM-DDTHH:MM)") from None

    def child(self, key: str, *, required: bool = False) -> _Fields | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        return _Fields(value, self.where, self.name(key))

    def children(self, key: str) -> list[_Fields]:
        value = self.raw(key, False)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be a list of mappings")
        return [_Fields(v, self.where, f"{self.name(key)}[{i}]") for i, v in enumerate(value)]

    def choice(self, key: str, make: Callable[[Any], T], *, required: bool = False,
               default: T | None = None) -> T:
        value = self.raw(key, required)
        if value is None:
            if default is None:
                raise self.fail(key, "is required")
            return default
        try:
            return make(value)
        except ValueError:
            options = getattr(make, "__members__", None)
            hint = (f"; expected one of {', '.join(m.value for m in options.values())}"
                    if options else "")
            raise self.fail(key, f"{value!r} is not allowed{hint}") from None

    def build(self, key: str, make: Callable[[], T]) -> T:
        """Run a dataclass constructor; its ValueError is reported at ``key``."""
        try:
            return make()
        except ValueError as exc:
            raise InvalidInputError(f"{self.where}: {self.name(key) if key else self.path}: "
                                    f"{exc}") from None

    def check_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise InvalidInputError(f"{self.where}: {self.name(unknown[0])}: unknown field "
                                    f"(allowed: {', '.join(sorted(self.used))})")


def _bp(f: _Fields, key: str) -> BloodPressure:
    value = f.raw(key, True)
    if isinstance(value, str) and "/" in value:
        parts = value.split("/")
    elif isinstance(value, list):
        parts = value
    else:
        raise f.fail(key, f"{value!r} must be 'systolic/diastolic' in mmHg (e.g. 130/80)")
    try:
        sys_, dia = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise f.fail(key, f"{value!r} must be 'systolic/diastolic' in mmHg") from None
    return f.build(key, lambda: BloodPressure(sys_, dia))


def _dose_mbq(f: _Fields) -> float:
    mbq = f.number("dose_mbq", low=1.0, high=3000.0, unit="MBq")
    mci = f.number("dose_mci", low=0.03, high=80.0, unit="mCi")
    if (mbq is None) == (mci is None):
        raise f.fail("dose_mci", "give exactly one of dose_mci or dose_mbq")
    return mbq if mbq is not None else float(mci) * MBQ_PER_MCI  # type: ignore[arg-type]


def _exercise(f: _Fields) -> ExerciseStress:
    from planarmpi.model.clinical import Angina

    values: dict[str, Any] = {
        "protocol": f.text("protocol", required=True),
        "duration_min": f.req_number("duration_min", 0.0, 60.0, "min"),
        "rest_hr_bpm": f.req_number("rest_hr_bpm", 20.0, 250.0, "bpm"),
        "peak_hr_bpm": f.req_number("peak_hr_bpm", 20.0, 250.0, "bpm"),
        "rest_bp": _bp(f, "rest_bp_mmhg"),
        "peak_bp": _bp(f, "peak_bp_mmhg"),
        "termination_reason": f.text("termination_reason", required=True),
        "st_deviation_mm": f.number("st_deviation_mm", low=-10.0, high=10.0, unit="mm")
        or 0.0,
        "angina": f.choice("angina", Angina, default=Angina.NONE),
        "mets": f.number("mets", low=0.5, high=30.0, unit="METs"),
        "symptoms": f.text("symptoms", default="none"),
        "arrhythmias": f.text("arrhythmias", default="none"),
        "ecg_findings": f.text("ecg_findings"),
    }
    stages = f.number("stages_completed", low=0, high=12, unit="stages")
    return f.build("", lambda: ExerciseStress(
        **values, stages_completed=None if stages is None else int(stages)))


def _pharmacologic(f: _Fields) -> PharmacologicStress:
    from planarmpi.model.clinical import PharmacologicAgent

    agent = f.choice("agent", PharmacologicAgent, required=True)
    unit = f.text("dose_unit", required=True)
    if unit not in ("mg", "mg/kg", "ug/kg/min"):
        raise f.fail("dose_unit", f"{unit!r} is not allowed; expected mg, mg/kg or ug/kg/min")
    values: dict[str, Any] = {
        "agent": agent,
        "dose": f.req_number("dose", 1e-6, 1000.0, unit),
        "dose_unit": unit,
        "rest_hr_bpm": f.req_number("rest_hr_bpm", 20.0, 250.0, "bpm"),
        "peak_hr_bpm": f.req_number("peak_hr_bpm", 20.0, 250.0, "bpm"),
        "rest_bp": _bp(f, "rest_bp_mmhg"),
        "peak_bp": _bp(f, "peak_bp_mmhg"),
        "infusion_min": f.number("infusion_min", low=0.0, high=60.0, unit="min"),
        "total_dose_mg": f.number("total_dose_mg", low=0.0, high=5000.0, unit="mg"),
        "side_effects": f.text("side_effects", default="none"),
        "symptoms": f.text("symptoms", default="none"),
        "st_deviation_mm": f.number("st_deviation_mm", low=-10.0, high=10.0, unit="mm")
        or 0.0,
        "arrhythmias": f.text("arrhythmias", default="none"),
        "ecg_findings": f.text("ecg_findings"),
        "reversal": f.text("reversal"),
        "low_level_exercise": bool(f.raw("low_level_exercise", False) or False),
    }
    if unit == "ug/kg/min" and values["infusion_min"] is None:
        raise f.fail("infusion_min", f"is required for an infusion of {agent.value}")
    return f.build("", lambda: PharmacologicStress(**values))


def clinical_from_mapping(data: dict[str, Any], where: str = "clinical") -> ClinicalContext:
    """Build a :class:`ClinicalContext` from a parsed document.

    Raises
    ------
    InvalidInputError
        ``where: field: problem`` for the first wrong, missing or unknown field.
    """
    from planarmpi.model import State, Tracer
    from planarmpi.model.clinical import PlaceOfService

    f = _Fields(data, where)
    schema = f.text("schema", default=CLINICAL_SCHEMA)
    if schema != CLINICAL_SCHEMA:
        raise f.fail("schema", f"{schema!r} is not supported (expected {CLINICAL_SCHEMA})")
    ind = f.child("indication", required=True)
    assert ind is not None
    indication = ind.build("", lambda: Indication(ind.text("text", required=True),
                                                  ind.text("icd10", required=True)))
    ind.check_unknown()

    stress_type = StressType.NONE
    exercise = pharmacologic = None
    roles = None
    stress = f.child("stress")
    if stress is not None:
        stress_type = stress.choice("type", StressType, required=True)
        if stress_type is StressType.EXERCISE:
            exercise = _exercise(stress)
        elif stress_type is StressType.PHARMACOLOGIC:
            pharmacologic = _pharmacologic(stress)
        if stress_type is not StressType.NONE:
            r = stress.child("roles", required=True)
            assert r is not None
            roles = r.build("", lambda: StressRoles(
                r.text("supervision", required=True), r.text("tracing", required=True),
                r.text("interpretation", required=True)))
            r.check_unknown()
        stress.check_unknown()

    injections = []
    for inj in f.children("injections"):
        state = inj.choice("state", State, required=True)
        tracer = inj.choice("tracer", Tracer, required=True)
        dose = _dose_mbq(inj)
        when, site = inj.datetime("time"), inj.text("site")
        injections.append(inj.build("", lambda s=state, t=tracer, d=dose, w=when, x=site:  # type: ignore[misc]
                                    Injection(s, t, d, w, x)))
        inj.check_unknown()

    sessions = []
    for ses in f.children("sessions"):
        day = ses.date("date", required=True)
        raw_states = ses.raw("states", True)
        if not isinstance(raw_states, list):
            raise ses.fail("states", "must be a list of states (stress, rest, ...)")
        try:
            states = tuple(State(s) for s in raw_states)
        except ValueError:
            raise ses.fail("states", f"{raw_states!r}: each must be one of "
                                     f"{', '.join(s.value for s in State)}") from None
        sessions.append(ses.build("", lambda d=day, s=states: ImagingSession(d, s)))  # type: ignore[misc]
        ses.check_unknown()

    priors = []
    for pr in f.children("priors"):
        day = pr.date("date", required=True)
        values = (pr.text("description", required=True),
                  pr.number("lvef_percent", low=0.0, high=100.0, unit="%"),
                  pr.text("lvef_method"), pr.text("perfusion"))
        priors.append(pr.build("", lambda d=day, v=values: PriorStudy(d, *v)))  # type: ignore[misc]
        pr.check_unknown()

    params = StressParams()
    lim = f.child("limits")
    if lim is not None:
        params = StressParams(**{
            k: lim.req_number(k, 0.0, 1000.0, "") for k in lim.data
            if k in StressParams.__dataclass_fields__})
        lim.check_unknown()

    context = f.build("", lambda: ClinicalContext(
        indication=indication,
        stress_type=stress_type,
        exercise=exercise,
        pharmacologic=pharmacologic,
        stress_roles=roles,
        place_of_service=f.choice("place_of_service", PlaceOfService,
                                  default=PlaceOfService.OFFICE),
        injections=tuple(injections),
        sessions=tuple(sessions),
        interpreting_physician=f.text("interpreting_physician"),
        referring_physician=f.text("referring_physician"),
        history=f.texts("history"),
        medications=f.texts("medications"),
        height_cm=f.number("height_cm", low=40.0, high=250.0, unit="cm"),
        weight_kg=f.number("weight_kg", low=2.0, high=400.0, unit="kg"),
        priors=tuple(priors),
        additional_procedures=f.texts("additional_procedures"),
        notes=f.text("notes"),
        params=params,
    ))
    f.check_unknown()
    return context


def read_clinical(path: str | os.PathLike[str]) -> ClinicalContext:
    """Read and validate a clinical-context file.

    Raises
    ------
    InvalidInputError
        Naming the file and the field.
    """
    return clinical_from_mapping(load_mapping(path, "clinical fields"), str(path))


def _bp_text(bp: BloodPressure) -> str:
    return f"{bp.systolic_mmhg:g}/{bp.diastolic_mmhg:g}"


def clinical_to_mapping(c: ClinicalContext) -> dict[str, Any]:
    """The document form of a context (round-trips through :func:`clinical_from_mapping`)."""
    doc: dict[str, Any] = {
        "schema": CLINICAL_SCHEMA,
        "indication": {"text": c.indication.text, "icd10": c.indication.icd10},
        "place_of_service": c.place_of_service.value,
    }
    if c.stress_type is not StressType.NONE:
        s: dict[str, Any] = {"type": c.stress_type.value}
        if c.exercise is not None:
            e = c.exercise
            s.update(protocol=e.protocol, duration_min=e.duration_min,
                     rest_hr_bpm=e.rest_hr_bpm, peak_hr_bpm=e.peak_hr_bpm,
                     rest_bp_mmhg=_bp_text(e.rest_bp), peak_bp_mmhg=_bp_text(e.peak_bp),
                     termination_reason=e.termination_reason,
                     st_deviation_mm=e.st_deviation_mm, angina=e.angina.value,
                     mets=e.mets, stages_completed=e.stages_completed, symptoms=e.symptoms,
                     arrhythmias=e.arrhythmias, ecg_findings=e.ecg_findings)
        if c.pharmacologic is not None:
            p = c.pharmacologic
            s.update(agent=p.agent.value, dose=p.dose, dose_unit=p.dose_unit,
                     rest_hr_bpm=p.rest_hr_bpm, peak_hr_bpm=p.peak_hr_bpm,
                     rest_bp_mmhg=_bp_text(p.rest_bp), peak_bp_mmhg=_bp_text(p.peak_bp),
                     infusion_min=p.infusion_min, total_dose_mg=p.total_dose_mg,
                     side_effects=p.side_effects, symptoms=p.symptoms,
                     st_deviation_mm=p.st_deviation_mm, arrhythmias=p.arrhythmias,
                     ecg_findings=p.ecg_findings, reversal=p.reversal,
                     low_level_exercise=p.low_level_exercise)
        if c.stress_roles is not None:
            r = c.stress_roles
            s["roles"] = {"supervision": r.supervision, "tracing": r.tracing,
                          "interpretation": r.interpretation}
        doc["stress"] = {k: v for k, v in s.items() if v is not None}
    if c.injections:
        doc["injections"] = [
            {"state": i.state.value, "tracer": i.tracer.value, "dose_mbq": i.dose_mbq,
             **({"time": i.time.isoformat()} if i.time else {}),
             **({"site": i.site} if i.site else {})} for i in c.injections]
    if c.sessions:
        doc["sessions"] = [{"date": s.date.isoformat(), "states": [x.value for x in s.states]}
                           for s in c.sessions]
    if c.priors:
        doc["priors"] = [
            {k: v for k, v in {"date": p.date.isoformat(), "description": p.description,
                               "lvef_percent": p.lvef_percent, "lvef_method": p.lvef_method,
                               "perfusion": p.perfusion}.items() if v not in (None, "")}
            for p in c.priors]
    for key in ("interpreting_physician", "referring_physician", "notes"):
        if getattr(c, key):
            doc[key] = getattr(c, key)
    for key in ("history", "medications", "additional_procedures"):
        if getattr(c, key):
            doc[key] = list(getattr(c, key))
    for key in ("height_cm", "weight_kg"):
        if getattr(c, key) is not None:
            doc[key] = getattr(c, key)
    if c.params != StressParams():
        doc["limits"] = {k: getattr(c.params, k) for k in StressParams.__dataclass_fields__}
    return doc
