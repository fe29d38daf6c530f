"""Coding scenarios: each states what was done and the exact lines expected.

Expected codes follow the CPT/HCPCS rules summarised in the domain notes
(report-and-coding.md): 78453 single / 78454 multiple planar MPI (once across days), EF
included (no 78472/78473/78481/78483 with MPI), planar vs SPECT exclusive, 93015 vs
93016/93017/93018 by who did what and never with -26/-TC, -26/-TC by place of service,
A9500/A9502 per study dose, A9505 per mCi, J2785 per 0.1 mg.
"""

from __future__ import annotations

import datetime as dt

import pytest

from planarmpi.coding import Encounter, code_encounter, load_rules
from planarmpi.errors import InvalidInputError
from planarmpi.model import State, Tracer
from planarmpi.model.clinical import MBQ_PER_MCI, Injection, StressRoles

DAY = dt.date(2026, 3, 10)
DOC = StressRoles("Dr Reader", "Dr Reader", "Dr Reader")
SPLIT = StressRoles("Dr Reader", "facility", "Dr Reader")
S, R = State.STRESS_EXERCISE, State.REST
MIBI, TETRO, TL, RBC = (Tracer.TC99M_SESTAMIBI, Tracer.TC99M_TETROFOSMIN, Tracer.TL201,
                        Tracer.TC99M_RED_CELLS)


def inj(state: State, tracer: Tracer, mci: float) -> Injection:
    return Injection(state, tracer, mci * MBQ_PER_MCI)


def ex(**kw) -> Encounter:  # exercise stress, one physician did everything
    return Encounter(DAY, stress_type="exercise", stress_roles=DOC, **kw)


SCENARIOS = {
    "rest only planar, office": (
        Encounter(DAY, mpi_states=(R,), injections=(inj(R, MIBI, 10),)),
        [("78453", (), 1), ("A9500", (), 1)]),
    "stress only, exercise, office, one physician": (
        ex(mpi_states=(S,), injections=(inj(S, MIBI, 30),)),
        [("78453", (), 1), ("93015", (), 1), ("A9500", (), 1)]),
    "stress + rest same day sestamibi": (
        ex(mpi_states=(S, R), injections=(inj(S, MIBI, 30), inj(R, MIBI, 10))),
        [("78454", (), 1), ("93015", (), 1), ("A9500", (), 2)]),
    "stress + rest two days is one 78454": (
        ex(mpi_states=(S, R), session_dates=(DAY, DAY + dt.timedelta(days=1)),
           injections=(inj(S, TETRO, 30), inj(R, TETRO, 30))),
        [("78454", (), 1), ("93015", (), 1), ("A9502", (), 2)]),
    "thallium stress + redistribution": (
        ex(mpi_states=(S, State.REDISTRIBUTION), injections=(inj(S, TL, 3.5),)),
        [("78454", (), 1), ("93015", (), 1), ("A9505", (), 4)]),
    "thallium stress + reinjection": (
        ex(mpi_states=(S, State.REDISTRIBUTION, State.REINJECTION),
           injections=(inj(S, TL, 3.0), inj(State.REINJECTION, TL, 1.0))),
        [("78454", (), 1), ("93015", (), 1), ("A9505", (), 4)]),
    "thallium exact 4.0 mCi stays 4 units": (
        Encounter(DAY, mpi_states=(R,), injections=(inj(R, TL, 4.0),)),
        [("78453", (), 1), ("A9505", (), 4)]),
    "hospital outpatient: -26/-TC, 93016+93018 physician, 93017 facility": (
        Encounter(DAY, mpi_states=(S, R), stress_type="exercise", stress_roles=SPLIT,
                  place_of_service="hospital-outpatient",
                  injections=(inj(S, MIBI, 30), inj(R, MIBI, 10))),
        [("78454", ("26",), 1), ("78454", ("TC",), 1), ("93016", (), 1), ("93017", (), 1),
         ("93018", (), 1), ("A9500", (), 2)]),
    "hospital inpatient single rest": (
        Encounter(DAY, mpi_states=(R,), place_of_service="hospital-inpatient"),
        [("78453", ("26",), 1), ("78453", ("TC",), 1)]),
    "office, three different people for the stress components": (
        Encounter(DAY, mpi_states=(S,), stress_type="exercise",
                  stress_roles=StressRoles("Dr A", "Clinic B", "Dr C")),
        [("78453", (), 1), ("93016", (), 1), ("93017", (), 1), ("93018", (), 1)]),
    "regadenoson 0.4 mg = 4 units J2785": (
        Encounter(DAY, mpi_states=(State.STRESS_PHARMACOLOGIC, R), stress_type="pharmacologic",
                  stress_roles=DOC, agent="regadenoson", agent_mg=0.4,
                  injections=(inj(State.STRESS_PHARMACOLOGIC, MIBI, 30), inj(R, MIBI, 10))),
        [("78454", (), 1), ("93015", (), 1), ("A9500", (), 2), ("J2785", (), 4)]),
    "adenosine 67.2 mg rounds up to 68 units J0153": (
        Encounter(DAY, mpi_states=(State.STRESS_PHARMACOLOGIC,), stress_type="pharmacologic",
                  stress_roles=DOC, agent="adenosine", agent_mg=67.2),
        [("78453", (), 1), ("93015", (), 1), ("J0153", (), 68)]),
    "dipyridamole 45 mg = 5 units J1245": (
        Encounter(DAY, mpi_states=(State.STRESS_PHARMACOLOGIC,), stress_type="pharmacologic",
                  stress_roles=DOC, agent="dipyridamole", agent_mg=45.0),
        [("78453", (), 1), ("93015", (), 1), ("J1245", (), 5)]),
    "dobutamine 300 mg = 2 units J1250": (
        Encounter(DAY, mpi_states=(State.STRESS_PHARMACOLOGIC,), stress_type="pharmacologic",
                  stress_roles=DOC, agent="dobutamine", agent_mg=300.0),
        [("78453", (), 1), ("93015", (), 1), ("J1250", (), 2)]),
    "regadenoson in hospital: agent and tracer packaged": (
        Encounter(DAY, mpi_states=(State.STRESS_PHARMACOLOGIC,), stress_type="pharmacologic",
                  stress_roles=SPLIT, agent="regadenoson", agent_mg=0.4,
                  place_of_service="hospital-outpatient",
                  injections=(inj(State.STRESS_PHARMACOLOGIC, TETRO, 30),)),
        [("78453", ("26",), 1), ("78453", ("TC",), 1), ("93016", (), 1), ("93017", (), 1),
         ("93018", (), 1), ("A9502", (), 1), ("J2785", (), 4)]),
    "gated perfusion EF adds no MUGA code (first pass in the MPI)": (
        ex(mpi_states=(S, R), first_pass_states=(R,), first_pass_rvef=True),
        [("78454", (), 1), ("93015", (), 1)]),
    "blood pool alone at rest": (
        Encounter(DAY, blood_pool_states=(R,), injections=(inj(R, RBC, 25),)),
        [("78472", (), 1), ("A9560", (), 1)]),
    "blood pool rest and exercise": (
        ex(blood_pool_states=(R, S)),
        [("78473", (), 1), ("93015", (), 1)]),
    "blood pool + first-pass RVEF = 78472 + 78496": (
        Encounter(DAY, blood_pool_states=(R,), first_pass_states=(R,), first_pass_rvef=True),
        [("78472", (), 1), ("78496", (), 1)]),
    "blood pool in hospital with RVEF add-on split": (
        Encounter(DAY, blood_pool_states=(R,), first_pass_states=(R,), first_pass_rvef=True,
                  place_of_service="hospital-outpatient"),
        [("78472", ("26",), 1), ("78472", ("TC",), 1), ("78496", ("26",), 1),
         ("78496", ("TC",), 1)]),
    "multiple blood pool + RVEF: no 78496": (
        ex(blood_pool_states=(R, S), first_pass_states=(R,), first_pass_rvef=True),
        [("78473", (), 1), ("93015", (), 1)]),
    "first pass alone, single": (
        Encounter(DAY, first_pass_states=(R,), first_pass_rvef=True),
        [("78481", (), 1)]),
    "first pass alone, rest and stress": (
        ex(first_pass_states=(R, S)),
        [("78483", (), 1), ("93015", (), 1)]),
    "SPECT mixed in: planar not reported": (
        ex(mpi_states=(S, R), spect_mpi_states=(S, R)),
        [("78452", (), 1), ("93015", (), 1)]),
    "SPECT single with planar rest": (
        Encounter(DAY, mpi_states=(R,), spect_mpi_states=(R,)),
        [("78451", (), 1)]),
    "stress variants count once: exercise + unspecified stress": (
        Encounter(DAY, mpi_states=(S, State.STRESS)),
        [("78453", (), 1)]),
    "nothing imaged, nothing coded": (Encounter(DAY), []),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name):
    enc, expected = SCENARIOS[name]
    got = [(ln.code, ln.modifiers, ln.units) for ln in code_encounter(enc).lines]
    assert got == expected


def test_at_least_25_scenarios():
    assert len(SCENARIOS) >= 25


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_stress_codes_never_take_modifiers_and_every_line_has_a_rationale(name):
    for ln in code_encounter(SCENARIOS[name][0]).lines:
        if ln.code.startswith("9301"):
            assert ln.modifiers == ()
        assert ln.rationale
        assert ln.rule
        assert ln.descriptor


def test_ef_of_mpi_is_listed_as_not_reported_with_rule():
    result = code_encounter(SCENARIOS[
        "gated perfusion EF adds no MUGA code (first pass in the MPI)"][0])
    assert [n["rule"] for n in result.not_reported] == ["EF-INCLUDED-IN-MPI"]
    assert "78481/78483" in result.not_reported[0]["what"]


def test_two_day_rationale_names_both_days():
    result = code_encounter(SCENARIOS["stress + rest two days is one 78454"][0])
    assert "2026-03-10" in result.lines[0].rationale
    assert "2026-03-11" in result.lines[0].rationale


def test_packaged_supplies_in_hospital():
    result = code_encounter(SCENARIOS["regadenoson in hospital: agent and tracer packaged"][0])
    assert {ln.code: ln.payment for ln in result.lines}["J2785"] == "packaged"
    assert {ln.code: ln.reported_by for ln in result.lines}["A9502"] == "facility"


def test_thallium_units_say_how_they_were_rounded():
    result = code_encounter(SCENARIOS["thallium stress + redistribution"][0])
    line = next(ln for ln in result.lines if ln.code == "A9505")
    assert "3.50 mCi" in line.rationale
    assert "rounded up" in line.rationale


def test_unknown_agent_amount_is_a_problem_not_a_guess():
    enc = Encounter(DAY, mpi_states=(State.STRESS_PHARMACOLOGIC,),
                    stress_type="pharmacologic", stress_roles=DOC, agent="adenosine",
                    agent_mg=None)
    result = code_encounter(enc)
    assert "J0153" not in result.codes
    assert any("adenosine" in p for p in result.problems)


def test_unknown_tracer_is_a_problem():
    enc = Encounter(DAY, mpi_states=(R,), injections=(inj(R, Tracer.TC99M, 10),))
    result = code_encounter(enc)
    assert result.codes == ("78453",)
    assert any("no HCPCS code" in p for p in result.problems)


def test_unknown_state_is_flagged():
    result = code_encounter(Encounter(DAY, mpi_states=(State.UNKNOWN,)))
    assert any("unknown" in p for p in result.problems)


def test_rules_by_year():
    assert load_rules(2026)["year"] == 2026
    later = code_encounter(Encounter(dt.date(2031, 1, 5), mpi_states=(R,)))
    assert later.rules_year == 2026
    assert any("rules of 2026" in n for n in later.notes)
    with pytest.raises(InvalidInputError, match="no coding rules for services in 2019"):
        code_encounter(Encounter(dt.date(2019, 1, 5), mpi_states=(R,)))


def test_stress_without_roles_is_refused():
    with pytest.raises(ValueError, match="roles"):
        Encounter(DAY, mpi_states=(S,), stress_type="exercise")


def test_rules_file_is_consistent():
    rules = load_rules(2026)
    codes = rules["codes"]
    for proc in rules["procedures"].values():
        assert proc["single"] in codes
        assert proc["multiple"] in codes
    for entry in (*rules["radiopharmaceuticals"].values(), *rules["agents"].values()):
        assert entry["code"] in codes
    for key in ("global", "supervision", "tracing", "interpretation"):
        assert codes[rules["stress_test"][key]]["split"] is False
    for tracer in rules["radiopharmaceuticals"]:
        Tracer(tracer)
