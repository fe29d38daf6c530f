"""The web app through HTTP (FastAPI TestClient): roles, CSRF, reports, ROIs, upload."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from planarmpi.web.app import create_app
from webfixtures import CLOCK, PASSWORDS

pytestmark = pytest.mark.slow


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _client(archive, who: str | None = None) -> TestClient:
    client = TestClient(create_app(archive, clock=lambda: CLOCK))
    if who:
        page = client.get("/login")
        reply = client.post("/login", data={"username": who, "password": PASSWORDS[who],
                                             "csrf": _csrf(page.text)})
        assert reply.status_code == 200, reply.text
        assert "Worklist" in reply.text
    return client


def _study_uid(archive) -> str:
    from sqlalchemy import select

    from planarmpi.store.models import Study

    with archive.sessions() as s:
        return s.scalar(select(Study.study_instance_uid))


def test_login_required_and_wrong_password(archive):
    client = _client(archive)
    assert client.get("/worklist", follow_redirects=False).headers["location"] == "/login"
    page = client.get("/login")
    reply = client.post("/login", data={"username": "doc", "password": "nope",
                                        "csrf": _csrf(page.text)})
    assert reply.status_code == 401
    assert "Wrong user name or password" in reply.text
    assert client.get("/api/studies/x/rois").status_code == 401


def test_post_without_csrf_refused(archive):
    client = _client(archive, "doc")
    reply = client.post(f"/studies/{_study_uid(archive)}/report/sign", data={})
    assert reply.status_code == 403
    assert "did not come from this site" in reply.text
    assert "Traceback" not in reply.text


def test_worklist_and_study_page(archive):
    client = _client(archive, "tech")
    page = client.get("/worklist")
    assert "analysed" in page.text
    assert re.search(r"<td>\d\d%</td>", page.text)  # the LVEF column
    uid = _study_uid(archive)
    study = client.get(f"/studies/{uid}")
    assert study.status_code == 200
    assert 'class="cine"' in study.text
    assert "Only a physician can sign." in study.text
    png = client.get(re.search(r'src="(/studies/[^"]+/0\.png)"', study.text).group(1))
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")


def test_technologist_cannot_sign_physician_signs_then_only_amends(archive):
    uid = _study_uid(archive)
    tech = _client(archive, "tech")
    page = tech.get(f"/studies/{uid}")
    reply = tech.post(f"/studies/{uid}/report/sign", data={"csrf": _csrf(page.text)})
    assert reply.status_code == 403
    assert "only a physician can sign" in reply.text

    doc = _client(archive, "doc")
    page = doc.get(f"/studies/{uid}")
    clinical = ("indication: {text: Trastuzumab surveillance, icd10: Z51.11}\n"
                "priors:\n  - {date: 2025-12-01, description: MUGA, lvef_percent: 75}\n")
    reply = doc.post(f"/studies/{uid}/report", data={"csrf": _csrf(page.text),
                                                     "clinical": clinical, "impression": ""})
    assert reply.status_code == 200
    assert "Draft saved" in reply.text
    assert "Trastuzumab surveillance" in reply.text  # the clinical form is kept
    assert "Significant decrease of LVEF" in reply.text  # prior 75% → ~60%
    token = _csrf(reply.text)
    # An analysis newer than the draft (an ROI edit, say) must be reviewed before signing.
    from planarmpi.store.processing import process_study

    process_study(archive, uid, created_by="tech", clock=CLOCK)
    reply = doc.post(f"/studies/{uid}/report/sign", data={"csrf": token})
    assert reply.status_code == 400
    assert "analysis changed" in reply.text
    reply = doc.post(f"/studies/{uid}/report", data={"csrf": token, "clinical": clinical,
                                                     "impression": ""})
    reply = doc.post(f"/studies/{uid}/report/sign", data={"csrf": _csrf(reply.text)})
    assert "Report signed." in reply.text
    assert 'id="report-status">signed' in reply.text

    # A signed report cannot be edited, only amended with a reason.
    reply = doc.post(f"/studies/{uid}/report", data={"csrf": _csrf(reply.text),
                                                     "clinical": "", "impression": "x"})
    assert reply.status_code == 403
    assert "amend it" in reply.text
    page = doc.get(f"/studies/{uid}")
    reply = doc.post(f"/studies/{uid}/report/amend", data={"csrf": _csrf(page.text),
                                                           "reason": ""})
    assert reply.status_code == 400
    reply = doc.post(f"/studies/{uid}/report/amend",
                     data={"csrf": _csrf(page.text), "reason": "prior LVEF was 62%, not 75%"})
    assert "Amendment started" in reply.text
    assert "prior LVEF was 62%, not 75%" in reply.text
    pdf = doc.get(f"/studies/{uid}/report.pdf")
    assert pdf.content.startswith(b"%PDF")
    # The signed PDF survives: saving the amendment's draft re-renders the working copy,
    # while the signed version's PDF stays an object of its own.
    from sqlalchemy import select as _select

    from planarmpi.store.models import Report as _Report

    with archive.sessions() as s:
        signed = s.scalar(_select(_Report).where(_Report.status == "amended"))
        kept = archive.object_path(signed.content["pdf_sha256"], ".pdf")
    assert kept.read_bytes().startswith(b"%PDF")
    actions = [e["action"] for e in archive.audit_events()]
    for action in ("sign-refused", "report-draft", "report-signed", "report-amend",
                   "export-pdf"):
        assert action in actions


def test_clinical_form_fields(archive):
    uid = _study_uid(archive)
    doc = _client(archive, "doc")
    page = doc.get(f"/studies/{uid}")
    fields = {"indication_text": "Chest pain", "indication_icd10": "R07.9",
              "stress_type": "exercise", "protocol": "Bruce", "duration_min": "9",
              "rest_hr_bpm": "70", "peak_hr_bpm": "150", "rest_bp_mmhg": "130/80",
              "peak_bp_mmhg": "170/85", "termination_reason": "fatigue", "angina": "none",
              "supervision": "Dr A", "tracing": "Dr A", "interpretation": "Dr A",
              "agent": "adenosine",  # a pharmacologic field left over: ignored for exercise
              "clinical": "", "impression": "", "csrf": _csrf(page.text)}
    reply = doc.post(f"/studies/{uid}/report", data=fields)
    assert reply.status_code == 200, re.findall(r'role="alert">([^<]*)', reply.text)
    assert "Draft saved" in reply.text
    assert 'name="protocol" type="text"  value="Bruce"' in reply.text
    from sqlalchemy import select

    from planarmpi.store.models import Report

    with archive.sessions() as s:
        report = s.scalar(select(Report).order_by(Report.version.desc()))
        assert report.clinical["stress"]["protocol"] == "Bruce"
        assert "agent" not in report.clinical["stress"]
        stress = next(x for x in report.content["sections"] if x["key"] == "stress")
        duke = next(i["value"] for i in stress["items"] if i["label"] == "Duke treadmill score")
        assert duke == "+9.0 (low risk)"  # 9 min − 0 − 0 (Mark 1991)
    bad = dict(fields, peak_hr_bpm="fast", csrf=_csrf(reply.text))
    reply = doc.post(f"/studies/{uid}/report", data=bad)
    assert reply.status_code == 400
    assert "stress.peak_hr_bpm: must be a number" in reply.text


def test_bad_clinical_form_is_a_message(archive):
    uid = _study_uid(archive)
    doc = _client(archive, "doc")
    page = doc.get(f"/studies/{uid}")
    reply = doc.post(f"/studies/{uid}/report", data={
        "csrf": _csrf(page.text), "clinical": "indication: {text: x, icd10: R07.9}\n"
        "stress: {type: exercise, peak_hr_bpm: 400}\n", "impression": ""})
    assert reply.status_code == 400
    assert "stress.protocol: is required" in reply.text or "peak_hr_bpm" in reply.text
    assert "Traceback" not in reply.text


def test_roi_edit_recomputes_ef_as_a_new_version(archive):
    uid = _study_uid(archive)
    client = _client(archive, "tech")
    token = _csrf(client.get(f"/studies/{uid}").text)
    rois = client.get(f"/api/studies/{uid}/rois").json()
    ((series_uid, auto),) = rois.items()
    assert auto["source"] == "automatic"

    def post(lv_ed, lv_es, background=None):
        reply = client.post(f"/api/studies/{uid}/rois", headers={"X-CSRF-Token": token},
                            json={"series_instance_uid": series_uid, "lv_ed": lv_ed,
                                  "lv_es": lv_es, "background": background})
        assert reply.status_code == 200, reply.text
        return reply.json()

    unchanged = post(auto["lv_ed"], auto["lv_es"])
    assert unchanged["version"] == 2
    # A background too small to analyse is refused with the reason (not a stuck page).
    tiny = [[9.6, 9.6], [9.6, 11.4], [10.4, 11.4], [10.4, 9.6]]  # two pixels
    reply = client.post(f"/api/studies/{uid}/rois", headers={"X-CSRF-Token": token},
                        json={"series_instance_uid": series_uid, "lv_ed": auto["lv_ed"],
                              "lv_es": auto["lv_es"], "background": tiny})
    assert reply.status_code == 400
    assert "cannot be analysed" in reply.json()["error"]
    assert "background" in reply.json()["error"]
    assert unchanged["rois"]["source"] == "manual"
    # Shrink the ED contour towards its centre: fewer ED counts → a lower EF.
    ed = auto["lv_ed"]
    cr = sum(p[0] for p in ed) / len(ed)
    cc = sum(p[1] for p in ed) / len(ed)
    smaller = [[cr + 0.6 * (r - cr), cc + 0.6 * (c - cc)] for r, c in ed]
    edited = post(smaller, auto["lv_es"])
    assert edited["version"] == 3
    assert edited["rois"]["lvef_percent"] < unchanged["rois"]["lvef_percent"] - 5
    # Moving the background region onto the blood pool raises the background: EF changes.
    assert len(auto["background"]) >= 3
    moved = post(auto["lv_ed"], auto["lv_es"], background=auto["lv_ed"])
    assert moved["version"] == 4
    assert abs(moved["rois"]["lvef_percent"] - unchanged["rois"]["lvef_percent"]) > 5
    from sqlalchemy import select

    from planarmpi.store.models import Analysis

    with archive.sessions() as s:
        latest = s.scalar(select(Analysis).order_by(Analysis.version.desc()))
        assert latest.rois[series_uid]["who"] == "tech"  # who edited, kept with the version
        assert latest.created_by == "tech"
    reply = client.post(f"/api/studies/{uid}/rois", headers={"X-CSRF-Token": token},
                        json={"series_instance_uid": series_uid, "lv_ed": [[1, 1]],
                              "lv_es": auto["lv_es"]})
    assert reply.status_code == 400
    assert "at least 3" in reply.json()["error"]


def test_upload_hostile_and_good_files(archive, muga_files):
    client = _client(archive, "tech")
    token = _csrf(client.get("/worklist").text)
    files = [("files", ("evil.dcm", b"MZ\x90\x00 not dicom", "application/octet-stream")),
             ("files", ("../../etc/passwd", b"root:x:0:0", "text/plain")),
             ("files", (muga_files[0].name, muga_files[0].read_bytes(), "application/dicom"))]
    reply = client.post("/upload", data={"csrf": token}, files=files)
    assert reply.status_code == 200, re.findall(r'role="alert">([^<]*)', reply.text)
    assert "evil.dcm: not a readable DICOM object" in reply.text
    assert "passwd: not a readable DICOM object" in reply.text
    assert archive.counts()["instances"] == len(muga_files)  # the good one was known already


@pytest.mark.parametrize(("verdict", "shown"), [("normal", "normal</td>"),
                                                ("abnormal", "abnormal (LAD)</td>")])
def test_study_page_names_perfusion_territories_only_for_a_defect(archive, verdict, shown):
    """A normal perfusion verdict may keep the territories of segments it explained
    (result.json); the page, like the CLI's summary and the report, names none for it."""
    from sqlalchemy import select

    from planarmpi.store.models import Analysis

    with archive.session() as s:
        analysis = s.scalars(select(Analysis)).one()
        analysis.result = {**(analysis.result or {}),
                           "perfusion": {"verdict": verdict, "territories": ["LAD"],
                                         "limits": {"name": "our Tc-99m women"}}}
    page = _client(archive, "tech").get(f"/studies/{_study_uid(archive)}")
    assert page.status_code == 200
    assert f"<tr><th>Perfusion</th><td>{shown}</tr>" in page.text
    # The limits the verdict was read against are named, as in the report.
    assert ('<tr><th>Perfusion limits</th><td class="perfusion-limits">our Tc-99m women</td>'
            in page.text)


def test_study_page_lists_the_reductions_no_named_territory_holds(archive):
    """The segments scored at stress outside every named territory's
    (``perfusion.unattributed_segments``) are on the page, as in the report."""
    from sqlalchemy import select

    from planarmpi.store.models import Analysis

    with archive.session() as s:
        analysis = s.scalars(select(Analysis)).one()
        analysis.result = {**(analysis.result or {}), "perfusion": {
            "verdict": "abnormal", "territories": ["RCA"],
            "unattributed_segments": [{"segment": "ANT-1", "name": "basal anterolateral",
                                       "territory": "LAD", "score": 3}]}}
    page = _client(archive, "tech").get(f"/studies/{_study_uid(archive)}")
    assert page.status_code == 200
    assert ('<td class="perfusion-unattributed">basal anterolateral (ANT-1, score 3; '
            'usually LAD)</td>') in page.text


def test_study_page_shows_the_limit_a_gated_perfusion_segment_was_graded_against(archive):
    """The limit is per study (widened for a noisy segment): the page shows it next to the
    shortening; a blood-pool segment (regional EF, no such limit) shows its grade alone."""
    from sqlalchemy import select

    from planarmpi.store.models import Analysis

    with archive.session() as s:
        analysis = s.scalars(select(Analysis)).one()
        analysis.result = {**(analysis.result or {}), "wall_motion": [
            {"segment": "LAO-1", "name": "basal septal", "territory": "LAD",
             "grade": "hypokinetic", "regional_shortening_percent": 9.6,
             "normal_limit_percent": 13.04, "method": "gated-perfusion"},
            {"segment": "LAO-2", "name": "mid septal", "territory": "LAD", "grade": "normal",
             "regional_ef_percent": 55.0}]}
    page = _client(archive, "tech").get(f"/studies/{_study_uid(archive)}")
    assert page.status_code == 200
    assert ("<tr><th>LAO-1 basal septal</th><td>hypokinetic (shortening 10%, normal ≥ 13%)"
            "</td></tr>") in page.text
    assert "<tr><th>LAO-2 mid septal</th><td>normal</td></tr>" in page.text


def test_study_page_names_the_wall_motion_normals(archive):
    """The archive's MUGA was graded against the built-in blood-pool normals, and the page
    says so; a result.json from before the normals were recorded shows no such row."""
    from sqlalchemy import select

    from planarmpi.analysis.motion_normals import MotionMethod, builtin_wall_motion_normals
    from planarmpi.store.models import Analysis

    page = _client(archive, "tech").get(f"/studies/{_study_uid(archive)}")
    name = builtin_wall_motion_normals(MotionMethod.GATED_BLOOD_POOL).name
    assert (f'<tr><th>Wall-motion normals</th><td class="wm-normals">{name}</td></tr>'
            in page.text)
    with archive.session() as s:
        analysis = s.scalars(select(Analysis)).one()
        analysis.result = {**analysis.result, "function": [
            {k: v for k, v in f.items() if k != "wall_motion_normals"}
            for f in analysis.result["function"]]}
    page = _client(archive, "tech").get(f"/studies/{_study_uid(archive)}")
    assert page.status_code == 200
    assert "Wall-motion normals" not in page.text
