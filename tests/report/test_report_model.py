"""The report model on hand-made results: wording rules, determinism, bottom line."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from planarmpi.model.clinical import PriorStudy
from planarmpi.report.model import ReportParams, build_report
from planarmpi.report.render import render_html, render_text

CLOCK = dt.datetime(2026, 2, 1, 10, 0)


def _result(ef: float | None = 60.0, verdict: str | None = None) -> dict:
    result = {
        "study_instance_uid": "1.2.3",
        "patient": {"patient_id": "P1", "sex": "F", "age_years": 55.0},
        "series": [{"kind": "GATED", "view": "LAO", "view_angle_deg": 45.0, "state": "rest",
                    "tracer": "Tc-99m red blood cells", "dose_mbq": 740.0, "rows": 64,
                    "columns": 64, "manufacturer": "ACME"}],
        "ejection_fractions": [] if ef is None else [
            {"chamber": "LV", "method": "gated-blood-pool", "value_percent": ef,
             "ci95_percent": [ef - 2, ef + 2], "series_instance_uid": "1.2.3.4"}],
        "qc": {"status": "pass", "findings": []},
        "wall_motion": [], "function": [], "perfusion": None,
    }
    return result


def _clinical(prior_ef: float):
    from planarmpi.model.clinical import ClinicalContext, Indication

    return ClinicalContext(Indication("Trastuzumab surveillance", "Z51.11"),
                           priors=(PriorStudy(dt.date(2025, 12, 1), "MUGA", prior_ef),))


def test_same_input_same_words():
    a = render_text(build_report(_result(), clock=CLOCK))
    b = render_text(build_report(_result(), clock=CLOCK))
    assert a == b
    assert "generated 2026-02-01 10:00" in a


@pytest.mark.parametrize(("prior", "now", "significant"), [
    (62.0, 52.5, False),  # −9.5 points from a normal baseline: below the 10-point limit
    (62.0, 52.0, True),   # −10 points: significant
    (45.0, 40.5, False),  # −4.5 from an abnormal baseline: below 5
    (45.0, 40.0, True),   # −5 from an abnormal baseline: significant
])
def test_serial_change_thresholds(prior, now, significant):
    report = build_report(_result(now), clinical=_clinical(prior), clock=CLOCK)
    text = " ".join(report.impression)
    assert ("Significant decrease" in text) is significant
    comparison = report.section("comparison")
    assert comparison is not None
    assert ("not significant" in comparison.paragraphs[0]) is not significant


def test_bottom_lines():
    assert build_report(_result(62.0), clock=CLOCK).bottom_line == "normal"
    low = build_report(_result(40.0), clock=CLOCK)
    assert low.bottom_line == "abnormal"
    assert "reduced LV systolic function" in low.impression[0]
    poor = _result(62.0)
    poor["qc"]["findings"] = [{"code": "LOW_COUNTS", "level": "fail", "message": "too few"}]
    assert build_report(poor, clock=CLOCK).bottom_line == "non-diagnostic"


def test_prior_after_the_study_is_not_compared():
    header = {"study_date": "2025-11-01"}
    report = build_report(_result(40.0), header=header, clinical=_clinical(62.0), clock=CLOCK)
    comparison = report.section("comparison")
    assert comparison is not None
    assert "so not compared" in comparison.paragraphs[0]
    assert not any("Significant" in line for line in report.impression)


def test_lvef_limit_is_configurable():
    params = ReportParams(lvef_lower_limit_percent=55.0)
    assert build_report(_result(53.0), clock=CLOCK, params=params).bottom_line == "abnormal"
    assert build_report(_result(53.0), clock=CLOCK).bottom_line == "normal"


def test_html_escapes_and_names_the_draft():
    result = _result()
    header = {"patient_name": "O'Brien^<script>", "study_date": "2026-01-31"}
    html = render_html(build_report(result, header=header, clock=CLOCK))
    assert "<script>" not in html
    assert "DRAFT, not signed" in html


def test_patient_name_is_written_as_people_write_it():
    report = build_report(_result(), header={"patient_name": "DOE^JANE^Q^Dr"}, clock=CLOCK)
    assert report.patient_line.startswith("DOE, Dr JANE Q")


GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(("name", "ef", "prior"), [("muga-drop", 45.0, 62.0),
                                                   ("muga-stable", 61.0, 62.0)])
def test_golden_text(name, ef, prior):
    """The exact words of two reports; regenerate with PLANARMPI_UPDATE_GOLDEN=1 after a
    deliberate wording change and review the diff."""
    header = {"patient_name": "DOE^JANE", "study_date": "2026-01-31",
              "accession_number": "ACC1"}
    text = render_text(build_report(_result(ef), header=header, clinical=_clinical(prior),
                                    clock=CLOCK))
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("PLANARMPI_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_a_territory_found_against_rest_is_described_as_such():
    result = _result()
    result["perfusion"] = {
        "verdict": "abnormal", "method": "profiles", "limits": {"name": "built-in"},
        "territories": ["LCX"], "territory_segments": {"LCX": ["LAO-4", "LAO-5"]},
        "extent_percent": 4.0,
        "states": [{"state": "stress-exercise", "summed_score": 1, "reduced_segments": 1,
                    "segments_scored": 15, "extent_percent": 4.0, "verdict": "normal"}],
        "segments": [
            {"segment": "LAO-4", "name": "mid posterolateral", "territory": "LCX", "score": 1},
            {"segment": "LAO-5", "name": "basal posterolateral", "territory": "LCX",
             "score": 0},
        ],
        "reversibility": {"segments": [
            {"segment": "LAO-4", "classification": "ischemia", "stress_induced": True,
             "rest_score": 0, "induced_loss_percent": 14.0},
            {"segment": "LAO-5", "classification": "ischemia", "stress_induced": True,
             "rest_score": 0, "induced_loss_percent": 11.6},
        ]},
    }
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())  # unwrapped
    assert "LCX territory: mild reversible defect" in text
    assert "mid posterolateral (LAO-4, score 1)" in text
    assert "basal posterolateral (LAO-5, within the population's limits but 12% lower" in text


def _lad_perfusion(corroborated: bool | None) -> dict:
    fixed = {"segment": "ANT-1", "classification": "scar", "stress_score": 2, "rest_score": 2}
    if corroborated is not None:
        fixed["corroborated_at_rest"] = corroborated
    return {
        "verdict": "abnormal", "method": "profiles", "limits": {"name": "built-in"},
        "territories": ["LAD"], "territory_segments": {"LAD": ["ANT-1", "LAO-1", "LAO-2"]},
        "extent_percent": 10.0,
        "states": [{"state": "stress-exercise", "summed_score": 6, "reduced_segments": 3,
                    "segments_scored": 15, "extent_percent": 10.0, "verdict": "abnormal"}],
        "segments": [
            {"segment": "ANT-1", "name": "anterolateral", "territory": "LAD", "score": 2},
            {"segment": "LAO-1", "name": "basal septal", "territory": "LAD", "score": 2},
            {"segment": "LAO-2", "name": "mid septal", "territory": "LAD", "score": 2},
        ],
        "reversibility": {"overall": "ischemia", "segments": [
            fixed,
            {"segment": "LAO-1", "classification": "ischemia", "stress_score": 2,
             "rest_score": 0},
            {"segment": "LAO-2", "classification": "ischemia", "stress_score": 2,
             "rest_score": 0},
        ]},
    }


@pytest.mark.parametrize(("corroborated", "kind"), [(False, "reversible"),
                                                    (True, "partially reversible"),
                                                    (None, "partially reversible")])
def test_a_fixed_reduction_seen_at_rest_in_one_view_does_not_decide_the_kind(corroborated,
                                                                              kind):
    result = _result()
    result["perfusion"] = _lad_perfusion(corroborated)
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert f"LAD territory: moderate {kind} defect" in text
    one_view = "The rest images show the reduction of ANT-1 in that view only"
    assert (one_view in text) is (corroborated is False)


def test_a_territory_reduced_on_the_rest_images_only_is_not_dropped():
    result = _result()
    perf = _lad_perfusion(True)
    perf["territories"].append("RCA")
    perf["territory_segments"]["RCA"] = ["ANT-5", "LAO-3"]
    perf["territory_sources"] = {"LAD": "stress", "RCA": "rest"}
    result["perfusion"] = perf
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert "RCA territory: reduced on the rest images only (ANT-5, LAO-3), not at stress." \
        in text
    # The same territory named by the stress fit without a counted segment stays silent.
    perf["territory_sources"]["RCA"] = "stress"
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert "RCA territory" not in text


@pytest.mark.parametrize(("tid", "expected"), [
    ({"ratio": 1.25, "upper_limit": 1.12, "abnormal": True},
     "Transient ischemic dilation (ratio 1.25 > 1.12)"),
    ({"ratio": 1.03, "upper_limit": 1.12, "abnormal": False}, "1.03 (upper limit 1.12)"),
    # Just above the limit: as many decimals as it takes not to read "1.12 > 1.12".
    ({"ratio": 1.1204, "upper_limit": 1.12, "abnormal": True},
     "Transient ischemic dilation (ratio 1.1204 > 1.12)"),
    ({"ratio": 1.1196, "upper_limit": 1.12, "abnormal": False}, "1.1196 (upper limit 1.12)"),
    ({"ratio": None, "upper_limit": 1.12, "abnormal": None,
      "problem": "TID not measured: the wall is seen in both images along 8 of 60 rays only"},
     "TID not measured: the wall is seen in both images along 8 of 60 rays only"),
])
def test_planar_tid_is_reported_or_why_not(tid, expected):
    result = _result()
    perf = _lad_perfusion(True)
    perf["reversibility"]["tid"] = tid
    result["perfusion"] = perf
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert expected in text
    assert ("Transient ischemic dilation" in text) is bool(tid["abnormal"])


def test_wall_motion_is_reported_by_the_territory_that_explains_it():
    # An LAD akinesis that also lowers the inferoapical segment (mapped to the RCA): the
    # analysis attributes all three segments to the LAD (wall_motion_territories).
    result = _result(38.0)
    result["wall_motion"] = [
        {"segment": "LAO-1", "name": "basal septal", "territory": "LAD", "grade": "akinetic",
         "regional_ef_percent": 2.0},
        {"segment": "LAO-2", "name": "mid septal", "territory": "LAD", "grade": "hypokinetic",
         "regional_ef_percent": 20.0},
        {"segment": "LAO-3", "name": "inferoapical", "territory": "RCA",
         "grade": "hypokinetic", "regional_ef_percent": 50.0},
        {"segment": "LAO-4", "name": "mid posterolateral", "territory": "LCX",
         "grade": "normal", "regional_ef_percent": 75.0},
    ]
    result["wall_motion_territories"] = [
        {"territory": "LAD", "grade": "akinetic", "coefficient": 1.0,
         "segments": ["LAO-1", "LAO-2", "LAO-3"]},
        {"territory": "LCX", "grade": "normal", "coefficient": 0.0, "segments": []},
        {"territory": "RCA", "grade": "normal", "coefficient": 0.05, "segments": []},
    ]
    report = build_report(result, clock=CLOCK)
    statement = next(s for s in report.impression if "wall motion abnormality" in s)
    assert "akinetic LAD territory (basal septal, mid septal, inferoapical)" in statement
    assert "RCA" not in statement
    # Without territory grades (an older result.json) the segments are listed as before.
    del result["wall_motion_territories"]
    older = build_report(result, clock=CLOCK)
    statement = next(s for s in older.impression if "wall motion abnormality" in s)
    assert "hypokinetic inferoapical" in statement


def test_gated_perfusion_wall_motion_shows_the_limit_each_segment_was_graded_against():
    # The limit is per study (widened for a noisy segment), so the table shows it; an
    # older result.json without it shows the values alone.
    result = _result(55.0)
    result["wall_motion"] = [
        {"segment": "LAO-1", "name": "basal septal", "territory": "LAD", "grade": "normal",
         "regional_shortening_percent": 12.4, "thickening_percent": 15.0,
         "normal_limit_percent": 9.8, "method": "gated-perfusion"},
        {"segment": "LAO-4", "name": "mid posterolateral", "territory": "LCX",
         "grade": "hypokinetic", "regional_shortening_percent": 11.0,
         "thickening_percent": 9.0, "normal_limit_percent": 20.6, "method": "gated-perfusion"},
    ]
    table = next(s.table for s in build_report(result, clock=CLOCK).sections
                 if s.key == "function")
    assert table[1][2] == "12% (normal ≥ 10%) / 15%"
    assert table[2][2:] == ("11% (normal ≥ 21%) / 9%", "hypokinetic")
    for w in result["wall_motion"]:
        del w["normal_limit_percent"]
    table = next(s.table for s in build_report(result, clock=CLOCK).sections
                 if s.key == "function")
    assert table[1][2] == "12% / 15%"


def test_the_territorys_kind_is_the_analysis_class_when_result_json_has_it():
    """Three reversible segments and one fixed: the analysis' share rule calls the LAD
    ischaemic; the report says "reversible", not its own all-or-any "partially"."""
    result = _result()
    perf = _lad_perfusion(True)
    perf["territory_segments"]["LAD"].append("LAO-3")
    perf["segments"].append({"segment": "LAO-3", "name": "apical", "territory": "LAD",
                             "score": 2})
    perf["reversibility"]["segments"].append(
        {"segment": "LAO-3", "classification": "ischemia", "stress_score": 2, "rest_score": 0})
    result["perfusion"] = perf
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert "LAD territory: moderate partially reversible defect" in text  # older files
    perf["reversibility"]["territories"] = {"LAD": "ischemia"}
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert "LAD territory: moderate reversible defect" in text
    assert "consistent with ischemia" in text
    perf["reversibility"]["territories"] = {"LAD": "mixed"}
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert "LAD territory: moderate partially reversible defect" in text


def test_a_normal_verdict_names_its_reduced_segments_but_no_defect():
    """The analysis read the study normal (here: an attenuation pattern with normal wall
    motion) although LAD segments are reduced: the report says where, codes no defect and
    does not call the uptake homogeneous."""
    result = _result()
    perf = _lad_perfusion(True)
    perf["verdict"] = "normal"
    perf["verdict_reasons"] = ["the only reductions have the pattern of breast attenuation "
                               "and wall motion there is normal on the gated images"]
    result["perfusion"] = perf
    report = build_report(result, clock=CLOCK)
    text = " ".join(render_text(report).split())
    assert report.defects == ()
    assert "LAD territory: anterolateral (ANT-1, score 2), basal septal (LAO-1, score 2), " \
           "mid septal (LAO-2, score 2) reduced, not read as a perfusion defect" in text
    assert "perfusion defect of" not in text
    assert "Homogeneous tracer uptake" not in text
    assert "Verdict: normal — the only reductions have the pattern of breast attenuation" in text
    perf["verdict"] = "abnormal"
    assert build_report(result, clock=CLOCK).defects  # the same territory, a defect


def _fixed_septal_shadow() -> dict:
    """A woman's fixed LAO septal/inferoapical reduction that the analysis took for the
    breast's shadow (no gated images): the study reads equivocal."""
    perf = _lad_perfusion(True)
    perf["verdict"] = "equivocal"
    perf["territory_segments"] = {"LAD": ["LAO-1", "LAO-2", "LAO-3"]}
    perf["segments"] = [
        {"segment": "LAO-1", "name": "basal septal", "territory": "LAD", "score": 4},
        {"segment": "LAO-2", "name": "mid septal", "territory": "LAD", "score": 3},
        {"segment": "LAO-3", "name": "inferoapical", "territory": "RCA", "score": 3},
    ]
    perf["reversibility"] = {"overall": "scar", "territories": {"LAD": "scar"}, "segments": [
        {"segment": k, "classification": "scar", "stress_score": 3, "rest_score": 3}
        for k in ("LAO-1", "LAO-2", "LAO-3")]}
    perf["artefacts"] = [{"artefact": "breast attenuation",
                          "segments": ["LAO-1", "LAO-2", "LAO-3"], "fixed_at_rest": True,
                          "wall_motion_normal": None, "message": "the breast's shadow"}]
    perf["verdict_reasons"] = ["summed stress score 10 over 3 reduced segment(s)",
                               "the only reductions have the pattern of breast attenuation"]
    return perf


def test_an_attenuation_pattern_in_an_equivocal_study_is_named_not_called_a_defect():
    """The verdict is equivocal because the only reductions have the breast's pattern: the
    report names the artefact, says what it cannot exclude, and codes no defect — not
    "fixed defect ... consistent with infarction" under an equivocal bottom line."""
    result = _result()
    result["perfusion"] = perf = _fixed_septal_shadow()
    report = build_report(result, clock=CLOCK)
    text = " ".join(render_text(report).split())
    assert report.defects == ()
    assert "EQUIVOCAL study" in report.impression[0]
    assert ("Severe fixed reduction in the LAD territory (basal septal, mid septal, "
            "inferoapical) with the pattern of breast attenuation: infarction (scar) cannot "
            "be excluded; gated images would show whether wall motion there is normal."
            ) in report.impression
    assert ("LAD territory: basal septal (LAO-1, score 4), mid septal (LAO-2, score 3), "
            "inferoapical (LAO-3, score 3) — a severe fixed reduction with the pattern of "
            "breast attenuation (no gated wall motion to tell attenuation from a defect); "
            "not coded as a perfusion defect") in text
    assert "consistent with" not in text
    assert "perfusion defect of" not in text
    # A segment of the territory outside the pattern: a defect, as before.
    perf["artefacts"][0]["segments"] = ["LAO-1", "LAO-2"]
    report = build_report(result, clock=CLOCK)
    assert [d["territory"] for d in report.defects] == ["LAD"]
    assert any("consistent with infarction" in s for s in report.impression)
    # A pattern a confirmed fixed defect set aside does not count.
    perf["artefacts"][0]["segments"] = ["LAO-1", "LAO-2", "LAO-3"]
    perf["artefacts"][0]["set_aside"] = "the rest images' reductions go beyond the pattern"
    assert [d["territory"] for d in build_report(result, clock=CLOCK).defects] == ["LAD"]
    # An abnormal verdict keeps its defect whatever the artefacts.
    del perf["artefacts"][0]["set_aside"]
    perf["verdict"] = "abnormal"
    assert [d["territory"] for d in build_report(result, clock=CLOCK).defects] == ["LAD"]


def _with_unattributed(verdict: str, score: int) -> dict:
    """An RCA defect named, and a basal anterolateral reduction no named territory takes
    (``perfusion.unattributed_segments``)."""
    perf = {
        "verdict": verdict, "method": "profiles", "limits": {"name": "built-in"},
        "params": {"abnormal_summed_score": 3, "equivocal_summed_score": 2},
        "territories": ["RCA"], "territory_segments": {"RCA": ["ANT-4", "ANT-5"]},
        "extent_percent": 12.0,
        "states": [{"state": "stress-exercise", "summed_score": 3 + score,
                    "reduced_segments": 3, "segments_scored": 15, "extent_percent": 12.0,
                    "verdict": "abnormal"}],
        "segments": [
            {"segment": "ANT-1", "name": "basal anterolateral", "territory": "LAD",
             "score": score},
            {"segment": "ANT-4", "name": "mid inferior", "territory": "RCA", "score": 1},
            {"segment": "ANT-5", "name": "basal inferior", "territory": "RCA", "score": 2},
        ],
        "unattributed_segments": [
            {"segment": "ANT-1", "name": "basal anterolateral", "territory": "LAD",
             "score": score, "rest_score": 2, "classification": "scar",
             "stress_induced": False}],
    }
    return perf


def test_a_reduction_no_named_territory_takes_is_not_left_out():
    """A severe reduction the territory fit attributes to no named territory is described,
    and, as it alone reaches the abnormal summed score, it is in the impression."""
    result = _result()
    result["perfusion"] = _with_unattributed("abnormal", 3)
    report = build_report(result, clock=CLOCK)
    text = " ".join(render_text(report).split())
    assert ("Also reduced, outside the segments attributed to the territories named (seen "
            "in 1 view): basal anterolateral (ANT-1, score 3, rest score 2, scar; usually "
            "LAD).") in text
    assert ("Also a severe fixed reduction outside the territories' segments — basal "
            "anterolateral (ANT-1), usually the LAD territory (summed score 3); review the "
            "images.") in text
    assert [d["territory"] for d in report.defects] == ["RCA"]  # not coded as a territory
    # Below the abnormal summed score: described, not in the impression.
    result["perfusion"] = _with_unattributed("abnormal", 2)
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert "(ANT-1, score 2, rest score 2, scar; usually LAD)." in text
    assert "outside the territories' segments —" not in text
    # No territory named at all: the same segments, worded without "also".
    result["perfusion"] = _with_unattributed("abnormal", 3)
    result["perfusion"]["territories"] = []
    result["perfusion"]["territory_segments"] = {}
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert ("Reduced, with no coronary territory named by the territory fit (seen in 1 "
            "view): basal anterolateral (ANT-1, score 3") in text
    assert "A severe fixed reduction in no named territory — basal anterolateral" in text
    # A normal verdict: said where, not read as a defect, never in the impression.
    result["perfusion"] = _with_unattributed("normal", 3)
    text = " ".join(render_text(build_report(result, clock=CLOCK)).split())
    assert ("Also reduced, outside the territories named: basal anterolateral (ANT-1, "
            "score 3, rest score 2, scar; usually LAD) — not read as a perfusion defect") in text
    assert "review the images" not in text


def test_a_normal_study_does_not_list_ischaemic_segments_as_findings():
    """A normal verdict whose rest comparison classed segments (a stress − rest difference
    in one view, not counted by the verdict): the table keeps the class in parentheses and
    says why, beside "no evidence of ischemia"."""
    result = _result()
    perf = _lad_perfusion(True)
    perf["verdict"] = "normal"
    perf["territories"] = []
    for g in perf["segments"]:
        g["score"] = 0
    result["perfusion"] = perf
    report = build_report(result, clock=CLOCK)
    table = next(s.table for s in report.sections if s.key == "perfusion")
    classes = {row[0].split()[0]: row[4] for row in table[1:]}
    assert classes == {"ANT-1": "(scar)", "LAO-1": "(ischemia)", "LAO-2": "(ischemia)"}
    text = " ".join(render_text(report).split())
    assert "Segment classes in parentheses are the stress–rest comparison's, not read as a " \
           "defect" in text
    assert report.impression[0].startswith("NORMAL myocardial perfusion study")
    perf["verdict"] = "abnormal"
    table = next(s.table for s in build_report(result, clock=CLOCK).sections
                 if s.key == "perfusion")
    assert table[2][4] == "ischemia"


def test_a_defect_of_a_one_state_study_is_worded_without_a_reversibility():
    result = _result()
    perf = _lad_perfusion(None)
    del perf["reversibility"]  # stress images only
    result["perfusion"] = perf
    report = build_report(result, clock=CLOCK)
    text = " ".join(render_text(report).split())
    assert ("LAD territory: moderate defect of medium extent (one state imaged: "
            "reversibility not assessable) —") in text
    assert ("Moderate perfusion defect of medium extent in the LAD territory (one state "
            "imaged: reversibility not assessable).") in text
    assert "not assessable for reversibility (one state) perfusion defect" not in text


def test_gated_ejection_fractions_after_stress_and_at_rest_are_named_by_state():
    result = _result(ef=None)
    gated = {"kind": "GATED", "view": "LAO", "view_angle_deg": 45.0,
             "tracer": "Tc-99m sestamibi", "rows": 64, "columns": 64, "manufacturer": "ACME"}
    result["series"] = [{**gated, "state": "stress-exercise", "series_instance_uid": "1.1"},
                        {**gated, "state": "rest", "series_instance_uid": "1.2"}]
    result["ejection_fractions"] = [
        {"chamber": "LV", "method": "gated-perfusion", "value_percent": 36.4,
         "ci95_percent": [29.0, 44.0], "series_instance_uid": "1.1"},
        {"chamber": "LV", "method": "gated-perfusion", "value_percent": 52.6,
         "ci95_percent": [45.0, 60.0], "series_instance_uid": "1.2"}]
    report = build_report(result, clock=CLOCK)
    text = " ".join(render_text(report).split())
    assert "LVEF (gated perfusion, post-stress) 36%" in text
    assert "LVEF (gated perfusion, rest) 53%" in text
    # The study's LV function is the resting one; the post-stress value is said beside it.
    assert ("Normal left ventricular systolic function, LVEF 53% at rest and 36% "
            "post-stress (gated perfusion).") in text
    # A prior is compared with the resting LVEF.
    compared = " ".join(render_text(build_report(result, clinical=_clinical(50.0),
                                                 clock=CLOCK)).split())
    assert "LVEF 50% → now 53%" in compared


@pytest.mark.parametrize(("qp_qs", "codes", "expected", "in_impression"), [
    (2.1, ["LEFT_TO_RIGHT_SHUNT"], "Qp:Qs 2.10; left-to-right shunt suggested", True),
    (1.05, [], "Qp:Qs 1.05; no left-to-right shunt", False),
    (None, ["QP_QS_NOT_MEASURED"], "Qp:Qs not measured (the pulmonary curve never falls",
     False),
])
def test_the_first_pass_qp_qs_is_reported_or_why_not(qp_qs, codes, expected, in_impression):
    result = _result(ef=None)
    result["function"] = [{"method": "first-pass", "series_instance_uid": "9.9",
                           "pulmonary_transit_s": 6.0, "qp_qs": qp_qs}]
    result["qc"]["findings"] = [
        {"code": code, "level": "info", "series_instance_uid": "9.9",
         "message": "series 1: Qp:Qs not measured: the pulmonary curve never falls below 70% "
                    "of its peak before recirculation" if code == "QP_QS_NOT_MEASURED"
         else "series 1: Qp:Qs 2.10 (≥ 1.2): left-to-right shunt suggested"}
        for code in codes]
    report = build_report(result, clock=CLOCK)
    text = " ".join(render_text(report).split())
    assert expected in text
    assert ("left-to-right shunt suggested (first pass)" in text) is in_impression


def test_a_normal_lvef_with_a_regional_abnormality_is_not_called_a_normal_study():
    result = _result(ef=63.0)
    result["wall_motion"] = [
        {"segment": "LAO-1", "name": "basal septal", "territory": "LAD", "grade": "hypokinetic",
         "regional_ef_percent": 36.0, "series_instance_uid": "1.2.3.4"},
        {"segment": "LAO-2", "name": "mid septal", "territory": "LAD", "grade": "normal",
         "regional_ef_percent": 58.0, "series_instance_uid": "1.2.3.4"}]
    report = build_report(result, clock=CLOCK)
    text = " ".join(render_text(report).split())
    assert ("NORMAL global left ventricular systolic function; regional wall motion "
            "abnormality (below).") in text
    assert "NORMAL ventricular function study" not in text
    assert "Regional wall motion abnormality: hypokinetic basal septal." in text
    assert report.bottom_line == "normal"  # the global function decides the bottom line
    result["wall_motion"][0]["grade"] = "normal"
    assert "NORMAL ventricular function study." in render_text(build_report(result,
                                                                            clock=CLOCK))
