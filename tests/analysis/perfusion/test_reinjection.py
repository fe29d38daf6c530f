"""Tl-201 reinjection: a defect fixed on redistribution that fills in is viable (issue #5, 6).

The phantom has no incomplete redistribution, so each study is composed of two simulations
of the same patient (same anatomy, other noise): stress and redistribution with a fixed
LAD defect, and reinjection images with the defect gone (viable) or still there (scar),
written into the first study's files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from planarmpi import read_studies
from planarmpi.analysis.perfusion.study import analyze_perfusion
from planarmpi.model import State, Study
from planarmpi.report.model import build_report
from planarmpi.report.render import render_text
from planarmpi.simulate import simulate_study
from planarmpi.simulate.phantom import Defect
from planarmpi.simulate.presets import preset

SCAR = Defect("LAD", 0.5, 1.0, reversible=False)


def _with_reinjection(root: Path, fills_in: bool) -> Study:
    base = replace(preset("thallium-normal"), defects=(SCAR,))
    simulate_study(base, root / "study", seed=5)
    simulate_study(replace(base, states=(State.REINJECTION,),
                           defects=() if fills_in else (SCAR,)), root / "reinjection", seed=6)
    first = pydicom.dcmread(next((root / "study").glob("*.dcm")))
    for path in sorted((root / "reinjection").glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID, ds.PatientID = first.StudyInstanceUID, first.PatientID
        ds.PatientName = first.PatientName
        ds.save_as(root / "study" / f"reinjection-{path.name}")
    (study,) = read_studies(root / "study").studies
    return study


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, dict]:
    out = {}
    for fills_in in (True, False):
        study = _with_reinjection(tmp_path_factory.mktemp(f"reinjection-{fills_in}"), fills_in)
        assert {s.acquisition.state for s in study.statics} == {
            State.STRESS_EXERCISE, State.REDISTRIBUTION, State.REINJECTION}
        result = analyze_perfusion(study)
        assert result is not None
        out[fills_in] = {"section": result.section, "codes": [f.code for f in result.findings]}
    return out


def test_a_scar_on_redistribution_that_fills_in_on_reinjection_is_ischaemia(outcomes) -> None:
    section = outcomes[True]["section"]
    rev = section["reversibility"]
    assert section["verdict"] == "abnormal"
    assert section["territories"] == ["LAD"]
    assert rev["reinjection"]["overall_redistribution"] == "scar"
    assert rev["overall"] == "ischemia"
    assert rev["territories"] == {"LAD": "ischemia"}
    changed = rev["reinjection"]["reclassified_segments"]
    assert changed
    by_key = {g["segment"]: g for g in rev["segments"]}
    for key in changed:
        g = by_key[key]
        assert g["redistribution_classification"] in ("scar", "mixed")
        assert g["reinjection_improvement_percent"] - g["improvement_percent"] >= 10.0
        assert g["reinjection_score"] < g["stress_score"] or g["reinjection_score"] == 0
    assert "REINJECTION_COMPARED" in outcomes[True]["codes"]


def test_a_scar_that_stays_on_reinjection_stays_a_scar(outcomes) -> None:
    rev = outcomes[False]["section"]["reversibility"]
    assert rev["reinjection"]["reclassified_segments"] == []
    assert rev["overall"] == rev["reinjection"]["overall_redistribution"] == "scar"
    assert all("redistribution_classification" not in g for g in rev["segments"])


def test_the_report_says_what_reinjection_showed(outcomes) -> None:
    result = {"study_instance_uid": "1.2.3", "perfusion": outcomes[True]["section"],
              "qc": {"status": "pass", "findings": []}}
    report = build_report(result, clock=dt.datetime(2026, 6, 1, 9, 30))
    text = render_text(report)
    assert "Reinjection" in text
    assert "viable" in text
    table = next(s.table for s in report.sections if s.key == "perfusion")
    changed = outcomes[True]["section"]["reversibility"]["reinjection"]["reclassified_segments"]
    assert table[0][3] == "Redistribution score"  # the state the stress was compared with
    rows = {row[0].split()[0]: row[-1] for row in table[1:]}
    assert all(rows[k].endswith("on redistribution)") for k in changed)
    # The Tl-201 washout is read per view, not printed as a mapping.
    washout = next(i.value for s in report.sections for i in s.items
                   if i.label == "Tl-201 washout")
    assert "{" not in washout
    assert washout.startswith("ANT ")
    assert "3.4 h, decay-corrected" in washout
