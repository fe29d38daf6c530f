"""What was done, from a result (the DICOM series) and the clinical context."""

from __future__ import annotations

import datetime as dt
from typing import Any

from planarmpi.coding.engine import Encounter
from planarmpi.errors import InvalidInputError
from planarmpi.model import State, Tracer
from planarmpi.model.clinical import (
    INJECTION_DOSE_RANGE_MBQ,
    ClinicalContext,
    Injection,
    StressType,
)

__all__ = ["date_of_service", "encounter_from_result"]

_PERFUSION = {Tracer.TC99M_SESTAMIBI, Tracer.TC99M_TETROFOSMIN, Tracer.TC99M_PERFUSION,
              Tracer.TL201}


def _key(state: State) -> str:
    return "stress" if state.is_stress else state.value


def date_of_service(result: dict[str, Any]) -> dt.date:
    """The study date of a result, else the earliest injection date of its series.

    Raises
    ------
    InvalidInputError
        When the result holds neither.
    """
    study_date = (result.get("study") or {}).get("study_date")
    if study_date:
        return dt.date.fromisoformat(study_date)
    times = sorted(s["injection_datetime"] for s in result.get("series", ())
                   if s.get("injection_datetime"))
    if times:
        return dt.datetime.fromisoformat(times[0]).date()
    raise InvalidInputError(f"study {result.get('study_instance_uid')}: no study date and no "
                            "injection time: the date of service (and the rules year) is "
                            "unknown")


def _injections_from_series(series: list[dict[str, Any]],
                            notes: list[str] | None = None) -> tuple[Injection, ...]:
    seen: dict[tuple[str, str], Injection] = {}
    for s in series:
        state = State(s.get("state", "unknown"))
        if state is State.REDISTRIBUTION or s.get("dose_mbq") is None:
            continue
        low, high = INJECTION_DOSE_RANGE_MBQ  # cameras often record 0: not entered
        if not low <= float(s["dose_mbq"]) <= high:
            if notes is not None:
                notes.append(f"series {s.get('series_number')}: the DICOM records an injected "
                             f"dose of {float(s['dose_mbq']):g} MBq, not a plausible dose "
                             f"({low:g}–{high:g} MBq; 0 usually means not entered): not "
                             "used")
            continue
        tracer = Tracer(s.get("tracer", "unknown"))
        key = (tracer.value, s.get("injection_datetime") or state.value)
        if key not in seen:
            when = s.get("injection_datetime")
            seen[key] = Injection(state, tracer, float(s["dose_mbq"]),
                                  dt.datetime.fromisoformat(when) if when else None)
    return tuple(seen.values())


def encounter_from_result(result: dict[str, Any],
                          clinical: ClinicalContext | None = None) -> tuple[Encounter, list[str]]:
    """The encounter to code, and what could not be known from the data.

    Imaged states come from the series (static and gated images of a perfusion tracer are
    perfusion studies, and so are static views acquired in time frames; gated images of
    labelled red cells are blood-pool studies; other dynamic series are first-pass
    studies). Imaging sessions in the clinical file add the states of other days of the
    same episode (a two-day protocol is one 78454).
    """
    notes: list[str] = []
    mpi: list[State] = []
    pool: list[State] = []
    first: list[State] = []
    for s in result.get("series", ()):
        state = State(s.get("state", "unknown"))
        tracer = Tracer(s.get("tracer", "unknown"))
        kind = s.get("kind")
        if kind == "DYNAMIC" and not s.get("framed_static"):
            first.append(state)
        elif tracer in _PERFUSION:
            mpi.append(state)
        elif tracer is Tracer.TC99M_RED_CELLS and kind == "GATED":
            pool.append(state)
        elif tracer is Tracer.TC99M:
            notes.append(f"series {s.get('series_number')}: Tc-99m agent not named, so "
                         "perfusion vs blood pool is not known; not coded")
    spect = [State.UNKNOWN for d in result.get("declined", ())
             if "TOMO" in str(d.get("kind", "")).upper()]
    dates: list[dt.date] = []
    injections: tuple[Injection, ...] = _injections_from_series(list(result.get("series", ())),
                                                                notes)
    kwargs: dict[str, Any] = {}
    if clinical is not None:
        for session in clinical.sessions:
            dates.append(session.date)
            if mpi or not (pool or first):
                mpi.extend(session.states)
        if clinical.injections:
            imaged = {_key(i.state) for i in injections}
            listed = {_key(i.state) for i in clinical.injections}
            if injections and imaged != listed:
                notes.append(f"the clinical file lists injections at {', '.join(sorted(listed))}"
                             f" but the images come from {', '.join(sorted(imaged))}: the "
                             "clinical file's injections are coded")
            injections = clinical.injections
        if "spect-mpi" in clinical.additional_procedures and not spect:
            spect = [State.UNKNOWN]
        kwargs.update(stress_type=clinical.stress_type, stress_roles=clinical.stress_roles,
                      place_of_service=clinical.place_of_service)
        if clinical.stress_type is StressType.PHARMACOLOGIC and clinical.pharmacologic:
            weight = clinical.weight_kg or (result.get("patient") or {}).get("weight_kg")
            kwargs.update(agent=clinical.pharmacologic.agent,
                          agent_mg=clinical.pharmacologic.administered_mg(weight))
    else:
        notes.append("no clinical file: the stress test, its roles and the place of service "
                     "are unknown; only the imaging and supplies are coded (office setting)")
    if spect:
        spect_states = tuple(mpi) or (State.UNKNOWN,)
        notes.append("a SPECT perfusion study belongs to this encounter")
    else:
        spect_states = ()
    enc = Encounter(
        date_of_service=date_of_service(result),
        mpi_states=tuple(mpi), blood_pool_states=tuple(pool), first_pass_states=tuple(first),
        spect_mpi_states=spect_states,
        first_pass_rvef=any(e.get("chamber") == "RV" and e.get("method") == "first-pass"
                            for e in result.get("ejection_fractions", ())),
        injections=injections, session_dates=tuple(dates), **kwargs)
    # One entry per image (a detector of a multi-detector series): each note once.
    return enc, list(dict.fromkeys(notes))
