"""Report files and DICOM objects of the analysed pictures: valid, readable, referenced."""

from __future__ import annotations

import json
import shutil
import subprocess

import pydicom
import pytest

from dicom_tools import errors_of, tool
from planarmpi.cli.main import main
from testenv import EXAMPLES

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["lad-ischemia", "muga-follow-up", "scar-reduced-ef"])
def test_dicom_outputs_pass_dciodvfy(pictures, name):
    folder = pictures[name].folder
    files = sorted(folder.glob("*.dcm"))
    assert {f.name for f in files} >= {"report-pdf.dcm", "report-sr.dcm", "figure-1.dcm"}
    for f in files:
        assert errors_of(f) == [], f.name


@pytest.mark.parametrize("name", ["lad-ischemia", "muga-follow-up"])
def test_dicom_outputs_are_in_the_source_study_and_reference_it(pictures, name):
    p = pictures[name]
    header = json.loads((p.folder / "study.json").read_text())
    sources = {i["sop_instance_uid"] for i in header["instances"]}
    for f in p.folder.glob("*.dcm"):
        ds = pydicom.dcmread(f)
        assert ds.StudyInstanceUID == p.result["study_instance_uid"]
        assert ds.PatientID == header["patient_id"]
        assert ds.SoftwareVersions
        if ds.Modality == "SR":
            evidence = ds.CurrentRequestedProcedureEvidenceSequence[0]
            refs = {r.ReferencedSOPInstanceUID for s in evidence.ReferencedSeriesSequence
                    for r in s.ReferencedSOPSequence}
        elif ds.Modality == "DOC":
            refs = {r.ReferencedSOPInstanceUID for r in ds.SourceInstanceSequence}
        else:
            refs = {r.ReferencedSOPInstanceUID for r in ds.SourceImageSequence}
        assert refs == sources, f.name


def test_encapsulated_pdf_holds_the_pdf(pictures):
    p = pictures["lad-ischemia"]
    ds = pydicom.dcmread(p.folder / "report-pdf.dcm")
    pdf = (p.folder / "report.pdf").read_bytes()
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert bytes(ds.EncapsulatedDocument)[: len(pdf)] == pdf
    assert ds.EncapsulatedDocumentLength == len(pdf)


def test_sr_readable_by_dcmtk_and_holds_the_measurements(pictures, tmp_path):
    p = pictures["muga-follow-up"]
    sr = p.folder / "report-sr.dcm"
    dump = subprocess.run([tool("dcmdump"), str(sr)], capture_output=True, check=True,
                          encoding="utf-8", errors="replace").stdout
    assert "ComprehensiveSRStorage" in dump or "1.2.840.10008.5.1.4.1.1.88.33" in dump
    html = subprocess.run([tool("dsr2html"), str(sr)], capture_output=True, check=True,
                          encoding="utf-8", errors="replace").stdout
    (lvef,) = [e for e in p.result["ejection_fractions"] if e["chamber"] == "LV"]
    ds = pydicom.dcmread(sr)
    values = []

    def walk(items):
        for item in items:
            if item.ValueType == "NUM":
                mv = item.MeasuredValueSequence[0]
                values.append((item.ConceptNameCodeSequence[0].CodeValue,
                               float(mv.NumericValue),
                               mv.MeasurementUnitsCodeSequence[0].CodeValue))
            walk(item.get("ContentSequence", []))

    walk(ds.ContentSequence)
    # SNOMED CT 70822001 "Cardiac ejection fraction", UCUM "%".
    assert ("70822001", pytest.approx(lvef["value_percent"], abs=1e-3), "%") in values
    assert "Significant decrease of LVEF" in html
    assert "Cardiac blood pool imaging, gated equilibrium" in html  # CPT 78472 (C4)


def test_secondary_capture_is_the_figure(pictures):
    import matplotlib.image as mpimg

    p = pictures["lad-ischemia"]
    ds = pydicom.dcmread(p.folder / "figure-1.dcm")
    png = mpimg.imread(p.folder / "perfusion.png")
    assert ds.Rows == png.shape[0]
    assert ds.Columns == png.shape[1]
    assert ds.PhotometricInterpretation == "RGB"
    assert ds.pixel_array.std() > 10  # a picture, not a blank page


def test_perfusion_figure_has_a_paired_difference_row(pictures):
    import matplotlib.image as mpimg

    p = pictures["lad-ischemia"]
    result = json.loads((p.folder / "result.json").read_text())
    assert result["perfusion"]["reversibility"]["paired_difference"]
    png = mpimg.imread(p.folder / "perfusion.png")
    # Rows of 3.3 in at 110 dpi: stress and rest, and 0.7 of a row for stress − rest.
    assert png.shape[0] == pytest.approx(2.7 * 3.3 * 110, abs=3)


def test_pdf_pages_render(pictures, tmp_path):
    import matplotlib.image as mpimg

    p = pictures["lad-ischemia"]
    subprocess.run([tool("pdftoppm"), "-r", "40", "-png", str(p.folder / "report.pdf"),
                    str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 2
    for page in pages:
        ink = (mpimg.imread(page)[:, :, :3] < 0.5).mean()
        assert ink > 0.005, f"{page.name} is blank"


def test_report_command_re_renders_signs_and_keeps_history(pictures, tmp_path):
    src = pictures["lad-ischemia"].folder
    folder = tmp_path / "study"
    shutil.copytree(src, folder)
    impression = tmp_path / "impression.txt"
    impression.write_text("ABNORMAL: reversible anteroseptal defect (LAD), moderate.\n"
                          "Recommend coronary angiography.\n")
    code = main(["report", str(folder), "--clinical",
                 str(EXAMPLES / "clinical-exercise.yaml"), "--impression",
                 str(impression), "--sign", "Dr. N. Reader", "--generated-at",
                 "2026-01-16T09:30"])
    assert code == 0
    result = json.loads((folder / "result.json").read_text())
    assert result["report"]["status"] == "final"
    assert result["report"]["impression"][1] == "Recommend coronary angiography."
    assert result["report"]["signed_at"] == "2026-01-16T09:30:00"
    text = (folder / "report.txt").read_text()
    assert "Electronically signed by Dr. N. Reader on 2026-01-16 09:30." in text
    history = json.loads((folder / "report-history.json").read_text())
    assert history[-1]["status"] == "draft"
    assert history[-1]["generated_at"] == "2026-01-15T14:00:00"
    sr = pydicom.dcmread(folder / "report-sr.dcm")
    assert sr.VerificationFlag == "VERIFIED"
    old = pydicom.dcmread(src / "report-sr.dcm")
    assert sr.SOPInstanceUID != old.SOPInstanceUID
    for f in folder.glob("*.dcm"):
        assert errors_of(f) == [], f.name


def test_sr_codes_the_defect_with_its_territory(pictures):
    """LAD ischemia picture: SNOMED 251055003 (reversible defect) at the LAD (59438005)."""
    p = pictures["lad-ischemia"]
    assert [(d["territory"], d["kind"]) for d in p.report["defects"]] == \
        [("LAD", "reversible")]
    ds = pydicom.dcmread(p.folder / "report-sr.dcm")
    coded = []

    def walk(items, parent=None):
        for item in items:
            if item.ValueType == "CODE":
                coded.append((parent, item.ConceptCodeSequence[0].CodeValue))
            walk(item.get("ContentSequence", []),
                 item.ConceptCodeSequence[0].CodeValue if item.ValueType == "CODE" else parent)

    walk(ds.ContentSequence)
    assert (None, "251055003") in coded
    assert ("251055003", "59438005") in coded


def test_sr_states_a_one_state_defect_at_its_territory(tmp_path):
    """A stress-only LAD ischaemia: no reversibility code applies, so the SR holds the
    defect as a Perfusion finding (SNOMED 371863001) in words at the LAD (59438005), and
    stays valid (dciodvfy)."""
    from dataclasses import replace

    from planarmpi.model import State
    from planarmpi.simulate import simulate_study
    from planarmpi.simulate.presets import preset

    simulate_study(replace(preset("lad-ischemia"), states=(State.STRESS_EXERCISE,),
                           gated_view=None), tmp_path / "in", seed=36)
    assert main(["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--generated-at", "2026-01-15T14:00"]) == 0
    (sr_path,) = (tmp_path / "out").glob("*/report-sr.dcm")
    ds = pydicom.dcmread(sr_path)
    found = []

    def walk(items):
        for item in items:
            if item.ValueType == "TEXT" and \
                    item.ConceptNameCodeSequence[0].CodeValue == "371863001":
                sites = [c.ConceptCodeSequence[0].CodeValue for c in item.ContentSequence]
                found.append((item.TextValue, sites))
            walk(item.get("ContentSequence", []))

    walk(ds.ContentSequence)
    assert len(found) == 1
    text, sites = found[0]
    assert "perfusion defect" in text
    assert "one state" in text
    assert sites == ["59438005"]
    assert errors_of(sr_path) == []
