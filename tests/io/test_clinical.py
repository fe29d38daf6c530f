"""The clinical-context file: examples load, derived values, and field-named errors."""

from __future__ import annotations

import copy

import pytest
import yaml

from planarmpi.errors import InvalidInputError
from planarmpi.io.clinical import clinical_from_mapping, clinical_to_mapping, read_clinical
from planarmpi.model.clinical import (
    Angina,
    BloodPressure,
    BPResponse,
    DukeRisk,
    PharmacologicAgent,
    StressType,
    blood_pressure_response,
    duke_risk,
    duke_treadmill_score,
    percent_mphr,
    rate_pressure_product,
)
from testenv import EXAMPLES


@pytest.mark.parametrize("name", ["clinical-exercise.yaml", "clinical-pharmacologic.yaml",
                                  "clinical-muga.yaml"])
def test_examples_load_and_round_trip(name):
    c = read_clinical(EXAMPLES / name)
    again = clinical_from_mapping(clinical_to_mapping(c))
    assert again == c


def test_exercise_example_values():
    c = read_clinical(EXAMPLES / "clinical-exercise.yaml")
    assert c.stress_type is StressType.EXERCISE
    assert c.exercise is not None
    assert c.exercise.peak_bp == BloodPressure(178, 86)
    assert c.stress_roles is not None
    assert c.stress_roles.single_entity
    assert c.injections == ()  # doses and times then come from the DICOM headers
    with_injections = clinical_from_mapping(_exercise_doc())
    assert [round(i.dose_mbq) for i in with_injections.injections] == [1110, 370]


def test_pharmacologic_example_amount():
    c = read_clinical(EXAMPLES / "clinical-pharmacologic.yaml")
    assert c.pharmacologic is not None
    assert c.pharmacologic.agent is PharmacologicAgent.REGADENOSON
    assert c.pharmacologic.administered_mg(None) == pytest.approx(0.4)


def test_infusion_amount_needs_weight():
    c = read_clinical(EXAMPLES / "clinical-pharmacologic.yaml")
    doc = clinical_to_mapping(c)
    doc["stress"].update(agent="adenosine", dose=140, dose_unit="ug/kg/min", infusion_min=6)
    p = clinical_from_mapping(doc).pharmacologic
    assert p is not None
    assert p.administered_mg(80.0) == pytest.approx(140 * 80 * 6 / 1000)  # 67.2 mg
    assert p.administered_mg(None) is None


def test_derived_stress_values():
    # 220 − 60 = 160 bpm predicted maximum; 136 bpm is 85%.
    assert percent_mphr(136, 60) == pytest.approx(85.0)
    assert rate_pressure_product(150, 180) == 27000
    # Duke: 9 min − 5 × 1 mm − 4 × 1 (non-limiting angina) = 0 → moderate risk (Mark 1991).
    assert duke_treadmill_score(9.0, 1.0, Angina.NON_LIMITING) == pytest.approx(0.0)
    assert duke_risk(5.0) is DukeRisk.LOW
    assert duke_risk(4.9) is DukeRisk.MODERATE
    assert duke_risk(-10.0) is DukeRisk.MODERATE
    assert duke_risk(-11.0) is DukeRisk.HIGH
    assert duke_treadmill_score(3.0, 2.0, "limiting") == pytest.approx(-15.0)


@pytest.mark.parametrize(("rest", "peak", "expected"), [
    ((130, 80), (180, 85), BPResponse.NORMAL),
    ((130, 80), (140, 80), BPResponse.FLAT),
    ((130, 80), (115, 70), BPResponse.HYPOTENSIVE),
    ((150, 90), (260, 100), BPResponse.HYPERTENSIVE),
    ((150, 90), (200, 120), BPResponse.HYPERTENSIVE),
])
def test_bp_response(rest, peak, expected):
    assert blood_pressure_response(BloodPressure(*rest), BloodPressure(*peak)) is expected


def _exercise_doc():
    doc = yaml.safe_load((EXAMPLES / "clinical-exercise.yaml").read_text())
    doc["injections"] = [
        {"state": "stress-exercise", "tracer": "Tc-99m sestamibi", "dose_mci": 30},
        {"state": "rest", "tracer": "Tc-99m sestamibi", "dose_mci": 10}]
    return doc


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["stress"].update(peak_hr_bpm=400), r"stress\.peak_hr_bpm: 400 bpm is impossible"),
    (lambda d: d["stress"].update(peak_hr_bpm="fast"), r"stress\.peak_hr_bpm: must be a number"),
    (lambda d: d["stress"].pop("duration_min"), r"stress\.duration_min: is required"),
    (lambda d: d["stress"].pop("roles"), r"stress\.roles: is required"),
    (lambda d: d["stress"]["roles"].update(tracing=""), r"stress\.roles: .*tracing"),
    (lambda d: d["stress"].update(rest_bp_mmhg="80/130"), r"stress\.rest_bp_mmhg: .*below"),
    (lambda d: d["stress"].update(rest_bp_mmhg="high"), r"stress\.rest_bp_mmhg: 'high' must be"),
    (lambda d: d["stress"].update(angina="severe"), r"stress\.angina: 'severe' is not allowed"),
    (lambda d: d["stress"].update(type="swimming"), r"stress\.type: 'swimming' is not allowed"),
    (lambda d: d["stress"].update(agent="regadenoson"), r"stress\.agent: unknown field"),
    (lambda d: d["indication"].update(icd10="chest pain"), r"indication: .*not an ICD-10 code"),
    (lambda d: d.pop("indication"), r"indication: is required"),
    (lambda d: d.update(place_of_service="car park"), r"place_of_service: 'car park'"),
    (lambda d: d["injections"][0].update(dose_mci=500), r"injections\[0\]\.dose_mci: 500"),
    (lambda d: d["injections"][0].update(dose_mbq=1110),
     r"injections\[0\]\.dose_mci: give exactly one"),
    (lambda d: d["injections"][1].update(state="asleep"), r"injections\[1\]\.state: 'asleep'"),
    (lambda d: d.update(weight_kg=-3), r"weight_kg: -3 kg is impossible"),
    (lambda d: d.update(priors=[{"date": "yesterday", "description": "x"}]),
     r"priors\[0\]\.date: 'yesterday' is not a date"),
    (lambda d: d.update(favourite_colour="blue"), r"favourite_colour: unknown field"),
    (lambda d: d.update(schema="planarmpi/clinical@9"), r"schema: .* not supported"),
])
def test_bad_clinical_input_names_the_field(change, message):
    doc = copy.deepcopy(_exercise_doc())
    change(doc)
    with pytest.raises(InvalidInputError, match=message):
        clinical_from_mapping(doc, "visit.yaml")


def test_pharmacologic_infusion_without_duration():
    doc = yaml.safe_load((EXAMPLES / "clinical-pharmacologic.yaml").read_text())
    doc["stress"].update(agent="adenosine", dose=140, dose_unit="ug/kg/min")
    with pytest.raises(InvalidInputError, match=r"stress\.infusion_min: is required"):
        clinical_from_mapping(doc, "x.yaml")


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "clin.yaml"
    bad.write_text("indication: [unclosed")
    with pytest.raises(InvalidInputError, match=r"clin\.yaml: not valid YAML"):
        read_clinical(bad)
    bad.write_text("- a list\n")
    with pytest.raises(InvalidInputError, match=r"clin\.yaml: expected a mapping"):
        read_clinical(bad)
