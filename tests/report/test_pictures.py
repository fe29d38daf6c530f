"""Golden clinical pictures: each report's elements and bottom line against the phantom truth.

Every picture is simulated (known truth), analysed by ``planarmpi analyze --clinical`` and
its report read back: the bottom line, the territory and kind of defect, the EF and its
method, the comparison with a prior, the stress-test values derived from the clinical file
and the procedure codes (the simulator's ``expected_cpt``) must all match.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow


def _impression(p) -> str:
    return " ".join(p.report["impression"])


def test_normal_exercise(pictures):
    p = pictures["normal-exercise"]
    assert p.truth["perfusion"]["abnormal"] is False
    assert p.report["bottom_line"] == "normal"
    assert p.report["impression"][0].startswith("NORMAL myocardial perfusion study")
    assert "ischemia or infarction" in p.report["impression"][0]
    # Clinical file: 150 bpm at 62 years = 150 / 158 = 95% of the age-predicted maximum;
    # Duke 9 − 0 − 0 = +9, low risk; RPP 150 × 178 = 26,700.
    assert "95% of age-predicted maximum 158 bpm; adequate" in p.text
    assert "+9.0 (low risk)" in p.text
    assert "26,700 bpm·mmHg" in p.text
    codes = [c["code"] for c in p.result["coding"]["cpt"]]
    assert codes[0] in p.truth["expected_cpt"]
    assert "93015" in codes
    # The gated LAO perfusion view gives the EF (geometric method), part of the MPI code.
    (lvef,) = [e for e in p.result["ejection_fractions"] if e["method"] == "gated-perfusion"]
    assert lvef["value_percent"] == pytest.approx(p.truth["lv"]["voxelised_lvef_percent"],
                                                  abs=8)
    assert "LVEF (gated perfusion)" in p.text
    assert re.search(r"Normal left ventricular systolic function, LVEF \d+% \(gated "
                     r"perfusion\)", _impression(p))


def test_lad_ischemia(pictures):
    p = pictures["lad-ischemia"]
    (defect,) = p.truth["defects"]
    assert defect["territory"] == "LAD"
    assert defect["reversible"]
    assert p.report["bottom_line"] == "abnormal"
    assert "myocardial ischemia" in p.report["impression"][0]
    assert re.search(r"reversible perfusion defect of \w+ extent in the LAD territory, "
                     r"consistent with ischemia", _impression(p))
    assert "infarction" not in _impression(p)
    assert next(c["code"] for c in p.result["coding"]["cpt"]) == p.truth["expected_cpt"][0]
    assert p.result["coding"]["hcpcs"][0]["code"] == "A9500"
    assert p.result["coding"]["hcpcs"][0]["units"] == 2


def test_scar_with_reduced_ef(pictures):
    p = pictures["scar-reduced-ef"]
    (defect,) = p.truth["defects"]
    assert defect["territory"] == "LAD"
    assert not defect["reversible"]
    true_ef = p.truth["lv"]["voxelised_lvef_percent"]
    assert true_ef < 50
    assert p.report["bottom_line"] == "abnormal"
    assert "infarction" in p.report["impression"][0]
    assert re.search(r"(fixed|partially reversible) perfusion defect of \w+ extent in the LAD "
                     r"territory", _impression(p))
    (lvef,) = [e for e in p.result["ejection_fractions"]
               if e["chamber"] == "LV" and e["method"] == "first-pass"]
    assert lvef["value_percent"] == pytest.approx(true_ef, abs=10)
    assert "Reduced left ventricular systolic function" in _impression(p)
    assert "reduced LV systolic function" in p.report["impression"][0]
    # The first-pass EF is part of the MPI code: no 78481/78483 (report-and-coding.md).
    codes = [c["code"] for c in p.result["coding"]["cpt"]]
    assert not {"78481", "78483", "78472", "78473"} & set(codes)
    assert any(n["rule"] == "EF-INCLUDED-IN-MPI" for n in p.result["coding"]["not_reported"])


def test_pharmacologic_stress(pictures):
    p = pictures["normal-pharmacologic"]
    assert p.report["bottom_line"] == "normal"
    assert "pharmacologic, regadenoson 0.4 mg" in p.text
    assert "Duke" not in p.text  # the treadmill score is for exercise only
    # Hospital outpatient: professional/technical split, 9301x by role, agent in units.
    codes = {"-".join([c["code"], *c["modifiers"]]) for c in p.result["coding"]["cpt"]}
    assert {"78454-26", "78454-TC", "93016", "93017", "93018"} <= codes
    agents = {c["code"]: c for c in p.result["coding"]["hcpcs"]}
    assert agents["J2785"]["units"] == 4
    assert agents["J2785"]["payment"] == "packaged"
    assert agents["A9502"]["units"] == 2


def test_muga_follow_up_significant_drop(pictures):
    p = pictures["muga-follow-up"]
    true_ef = p.truth["lv"]["voxelised_lvef_percent"]
    (lvef,) = [e for e in p.result["ejection_fractions"] if e["chamber"] == "LV"]
    assert lvef["method"] == "gated-blood-pool"
    assert lvef["value_percent"] == pytest.approx(true_ef, abs=6)
    # Prior 62% → ~45%: a fall of ≥ 10 points from a normal baseline is significant.
    assert p.report["bottom_line"] == "abnormal"
    assert re.search(r"Significant decrease of LVEF by \d+ points since 2025-09-02 "
                     r"\(62% → \d+%\), now below 50%", _impression(p))
    assert [c["code"] for c in p.result["coding"]["cpt"]] == ["78472", "78472"]
    assert [c["modifiers"] for c in p.result["coding"]["cpt"]] == [["26"], ["TC"]]


@pytest.mark.parametrize("name", ["normal-exercise", "lad-ischemia", "muga-follow-up"])
def test_every_asnc_element_is_present(pictures, name):
    p = pictures[name]
    keys = [s["key"] for s in p.report["sections"]]
    for key in ("patient", "procedure", "stress", "quality", "function", "comparison",
                "processing"):
        assert key in keys
    assert p.report["software"].startswith("planarmpi ")
    assert p.report["status"] == "draft"
    assert "Interpreting physician: Dr. N. Reader" in p.text
    assert p.report["generated_at"] == "2026-01-15T14:00:00"
