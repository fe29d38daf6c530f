"""The web workstation (FastAPI, server-rendered pages, plain JavaScript; no build step).

Technologists and physicians log in; the worklist shows the archive's studies; a study page
shows the views, the gated cine at its real frame rate, curves, QC findings, the LV ROIs
(editable: drag a point, the EF is recomputed as a new analysis version), and the report
editor (clinical context, impression, sign, amend, PDF). Every change and export is
audited; errors are shown as messages, never as stack traces.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from starlette.datastructures import UploadFile
from starlette.middleware.sessions import SessionMiddleware

from planarmpi.errors import InvalidInputError, PlanarMPIError
from planarmpi.model import State, Tracer
from planarmpi.model.study import perfusion_sides, read_apart
from planarmpi.store.archive import Archive
from planarmpi.store.models import Analysis, Patient, Report, Study, utcnow
from planarmpi.web.security import authenticate, csrf_token

if TYPE_CHECKING:
    from planarmpi.analysis.pipeline import AnalysisOptions

__all__ = ["MAX_UPLOAD_BYTES", "create_app"]

log = logging.getLogger("planarmpi.web")
HERE = Path(__file__).parent
#: Largest file accepted by the upload form.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class ForbiddenError(PlanarMPIError):
    """The user's role does not allow this."""


class NotLoggedInError(PlanarMPIError):
    """No session."""


def _secret(archive: Archive) -> str:
    path = archive.data_dir / "web-secret.key"
    if not path.is_file():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _fields_hold(stored: dict[str, Any], fields: dict[str, str]) -> bool:
    """True when the form's fields describe the stored clinical context completely."""
    from planarmpi.io.clinical import clinical_from_mapping
    from planarmpi.web.clinical_form import form_to_mapping

    try:
        again = form_to_mapping(dict(fields))
        return again is not None and clinical_from_mapping(again) == \
            clinical_from_mapping(stored)
    except PlanarMPIError:
        return False


def create_app(archive: Archive, *, clock: Callable[[], dt.datetime] | None = None,
               secure_cookies: bool = False,
               analysis: AnalysisOptions | None = None) -> FastAPI:
    """The web app over ``archive``.

    Parameters
    ----------
    archive : Archive
    clock : callable, optional
        "Now" for report times (tests inject a fixed clock).
    secure_cookies : bool
        Send the session cookie over HTTPS only (set it behind a TLS proxy).
    analysis : AnalysisOptions, optional
        The site's analysis settings (normal limits, perfusion settings) for the analyses
        the app starts (ROI edits, re-analysis); built-in without.
    """
    now = clock or (lambda: dt.datetime.now().replace(microsecond=0))
    app = FastAPI(title="planarmpi", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=_secret(archive), same_site="strict",
                       https_only=secure_cookies, max_age=8 * 3600,
                       session_cookie="planarmpi_session")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")

    # ------------------------------------------------------------------ helpers
    def user(request: Request) -> dict[str, str]:
        if "user" not in request.session:
            raise NotLoggedInError("please log in")
        return {"name": request.session["user"], "role": request.session["role"]}

    def token(request: Request) -> str:
        if "csrf" not in request.session:
            request.session["csrf"] = csrf_token()
        return str(request.session["csrf"])

    async def check_csrf(request: Request) -> Any:
        """The request's form (FormData, empty for JSON) once its CSRF token is checked."""
        form: Any = {}
        if request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
        sent = request.headers.get("x-csrf-token") or form.get("csrf")
        if not sent or not secrets.compare_digest(str(sent), token(request)):
            raise ForbiddenError("the form expired or did not come from this site: reload the page")
        return form

    def page(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("message", request.session.pop("message", ""))
        return templates.TemplateResponse(request, name, {
            "user": request.session.get("user"), "role": request.session.get("role"),
            "csrf": token(request), **context}, status_code=code)

    def study_row(s: Any, uid: str) -> Study:
        study = s.scalar(select(Study).where(Study.study_instance_uid == uid))
        if study is None:
            raise InvalidInputError(f"no study {uid} in the archive")
        return study

    def latest(s: Any, model: Any, study: Study) -> Any:
        return s.scalar(select(model).where(model.study_fk == study.id)
                        .order_by(model.version.desc()).limit(1))

    # ------------------------------------------------------------------ errors
    @app.exception_handler(NotLoggedInError)
    async def _login_first(request: Request, exc: NotLoggedInError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(PlanarMPIError)
    async def _planarmpi_error(request: Request, exc: PlanarMPIError) -> Response:
        status = 403 if isinstance(exc, ForbiddenError) else 400
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=status)
        return page(request, "error.html", code=status, error=str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return page(request, "error.html", code=500,
                    error="An unexpected error happened; it was logged for the administrator.")

    # ------------------------------------------------------------------ session
    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request) -> Response:
        return page(request, "login.html")

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await check_csrf(request)
        who = authenticate(archive, str(form.get("username", "")),
                           str(form.get("password", "")))
        if who is None:
            archive.audit(str(form.get("username", ""))[:64] or "?", "login-failed", "")
            return page(request, "login.html", code=401, error="Wrong user name or password.")
        request.session.clear()
        request.session.update(user=who[0], role=who[1], csrf=csrf_token())
        archive.audit(who[0], "login", "")
        return RedirectResponse("/worklist", status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await check_csrf(request)
        archive.audit(request.session.get("user", "?"), "logout", "")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ worklist
    @app.get("/")
    async def root() -> Response:
        return RedirectResponse("/worklist", status_code=303)

    @app.get("/worklist", response_class=HTMLResponse)
    async def worklist(request: Request, status: str = "", q: str = "") -> Response:
        me = user(request)
        rows = []
        with archive.sessions() as s:
            query = select(Study, Patient).join(Patient).order_by(Study.last_received_at.desc())
            if status:
                query = query.where(Study.status == status)
            if q:
                like = f"%{q}%"
                query = query.where(Patient.patient_id.ilike(like) | Patient.name.ilike(like)
                                    | Study.description.ilike(like))
            for study, patient in s.execute(query.limit(500)):
                analysis = latest(s, Analysis, study)
                report = latest(s, Report, study)
                result = analysis.result if analysis is not None else None
                efs = [e for e in (result or {}).get("ejection_fractions", [])
                       if e["chamber"] == "LV"]
                rows.append({
                    "uid": study.study_instance_uid, "patient": patient.name.replace("^", ", "),
                    "patient_id": patient.patient_id, "date": study.study_date,
                    "description": study.description, "status": study.status,
                    "lvef": f"{efs[0]['value_percent']:.0f}%" if efs else "",
                    "perfusion": ((result or {}).get("perfusion") or {}).get("verdict", ""),
                    # A two-day protocol read as one episode: how many studies it holds.
                    "episode": len((result or {}).get("combined_studies") or []),
                    "perfusion_states": _perfusion_states(result),
                    "partners": [c.get("study_instance_uid")
                                 for c in (result or {}).get("combined_studies") or []],
                    "report": report.status if report is not None else "",
                })
        # A stress-only and a rest-only perfusion study of one patient, each read alone:
        # likely a two-day protocol; the stress study's row says so (the study page offers
        # to combine them).
        in_episode = {uid for r in rows if r["episode"] > 1 for uid in r["partners"]}
        apart = {uid for stress_only, _ in read_apart(
            (r["patient_id"], r["uid"], r["perfusion_states"]) for r in rows
            if r["episode"] <= 1 and r["uid"] not in in_episode).values()
            for uid in stress_only}
        for r in rows:
            r["separate_rest"] = r["uid"] in apart
        archive.audit(me["name"], "view-worklist", "", f"{len(rows)} studies")
        return page(request, "worklist.html", rows=rows, status=status, q=q,
                    statuses=("receiving", "analysing", "analysed", "failed"))

    def _perfusion_states(result: dict[str, Any] | None) -> frozenset[str]:
        """The protocol sides of a result's perfusion series (``perfusion_sides``)."""
        pairs = []
        for x in (result or {}).get("series", []):
            try:
                pairs.append((Tracer(x.get("tracer")), State(x.get("state"))))
            except ValueError:
                continue
        return perfusion_sides(pairs)

    # ------------------------------------------------------------------ study
    def _study_model(uid: str) -> Any:
        files = tuple(archive.study_files(uid))
        return _read_study(uid, files)

    @functools.lru_cache(maxsize=8)
    def _read_study(uid: str, files: tuple[Path, ...]) -> Any:
        # Keyed by the study's files: a new object makes a new entry (objects never change).
        from planarmpi.io.reader import read_studies

        outcome = read_studies(files)
        studies = [x for x in outcome.studies if x.study_instance_uid == uid]
        if not studies:
            raise InvalidInputError(f"study {uid}: no readable planar NM image in the archive")
        return studies[0]

    @app.get("/studies/{uid}", response_class=HTMLResponse)
    async def study_page(request: Request, uid: str) -> Response:
        from planarmpi.web.views import series_views

        me = user(request)
        with archive.sessions() as s:
            study = study_row(s, uid)
            analysis = latest(s, Analysis, study)
            report = latest(s, Report, study)
            reports = s.scalars(select(Report).where(Report.study_fk == study.id)
                                .order_by(Report.version)).all()
            info = {"uid": uid, "patient": study.patient.name.replace("^", ", "),
                    "patient_id": study.patient.patient_id, "date": study.study_date,
                    "description": study.description, "status": study.status,
                    "detail": study.status_detail}
            history = [{"version": r.version, "status": r.status, "by": r.created_by,
                        "signed_by": r.signed_by, "reason": r.reason} for r in reports]
        model = _study_model(uid)
        views = series_views(model)
        result = analysis.result if analysis is not None else {}
        # A two-day protocol analysed as one episode: the other studies' images too.
        episode = (result or {}).get("combined_studies") or []
        for other in episode[1:]:
            # Images gone from the archive are not shown (the other study's page says so).
            with contextlib.suppress(InvalidInputError):
                views += series_views(_study_model(other["study_instance_uid"]),
                                      other["study_instance_uid"])
        candidates = _combinable(uid, info["patient_id"],
                                 {c["study_instance_uid"] for c in episode})
        folder = Path(analysis.output_dir) if analysis is not None else None
        figures = [f for f in ("perfusion.png", "function.png")
                   if folder is not None and (folder / f).is_file()]
        from planarmpi.web.clinical_form import mapping_to_form

        stored = report.clinical if report is not None else None
        fields = mapping_to_form(stored)
        # What the fields cannot hold (injections, several priors...) stays in the YAML box.
        clinical_text = ""
        if stored and not _fields_hold(stored, fields):
            clinical_text = yaml.safe_dump(stored, sort_keys=False, allow_unicode=True)
        archive.audit(me["name"], "view-study", uid)
        return page(request, "study.html", info=info, views=views, result=result or {},
                    analysis_version=analysis.version if analysis else None,
                    figures=figures, report=report.content if report else None,
                    report_status=report.status if report else "",
                    report_version=report.version if report else None,
                    report_stale=(report is not None and analysis is not None
                                  and report.analysis_fk != analysis.id),
                    history=history, clinical_text=clinical_text, fields=fields,
                    own_impression=(report.content["impression"] if report is not None
                                    and report.content.get("impression_by_physician")
                                    else []),
                    can_sign=me["role"] == "physician", episode=episode,
                    candidates=candidates)

    def _combinable(uid: str, patient_id: str, combined: set[str]) -> list[dict[str, Any]]:
        """The patient's other studies in the archive, with the states their latest
        analysis found (to analyse with this one as a two-day protocol)."""
        if not patient_id:
            return []
        with archive.sessions() as s:
            rows = s.scalars(select(Study).join(Study.patient)
                             .where(Patient.patient_id == patient_id,
                                    Study.study_instance_uid != uid)
                             .order_by(Study.study_date)).all()
            out = []
            for other in rows:
                analysis = latest(s, Analysis, other)
                theirs = (analysis.result or {}) if analysis is not None else {}
                states = sorted({str(x.get("state")) for x in theirs.get("series", [])
                                 if x.get("state")})
                # In one episode with this study: from either study's latest analysis.
                partners = {c.get("study_instance_uid")
                            for c in theirs.get("combined_studies") or []}
                out.append({"uid": other.study_instance_uid, "date": other.study_date,
                            "description": other.description, "states": states,
                            "combined": other.study_instance_uid in combined
                            or uid in partners})
        return out

    @app.post("/studies/{uid}/combine")
    async def combine(request: Request, uid: str) -> Response:
        """Analyse the study with another of the same patient as one episode (a two-day
        protocol), or (``other`` empty) alone again. The episode is recorded as a new
        analysis version of the study holding the stress images."""
        from planarmpi.model.study import combine_studies
        from planarmpi.store.processing import process_study

        form = await check_csrf(request)
        me = user(request)
        other = str(form.get("other", "")).strip()
        partner = ""  # the study combined with the stress study (none: analysed alone)
        if not other:
            done = process_study(archive, uid, created_by=me["name"], clock=now(),
                                 options=analysis, combine_with=())
            primary = uid
        else:
            with archive.sessions() as s:
                mine, theirs = study_row(s, uid), study_row(s, other)
                if mine.patient_fk != theirs.patient_fk:
                    raise InvalidInputError(f"studies {uid} and {other} belong to different "
                                            "patients: not combined")
            episode = combine_studies([_study_model(uid), _study_model(other)])
            primary = episode.study_instance_uid
            partner = other if primary == uid else uid
            done = process_study(archive, primary, created_by=me["name"], clock=now(),
                                 options=analysis, combine_with=[partner])
        if done.status != "analysed":
            raise InvalidInputError(f"not analysed: {done.reason}")
        archive.audit(me["name"], "studies-combined" if partner else "analysed-alone", primary,
                      f"version {done.version}" + (f" with {partner}" if partner else ""))
        request.session["message"] = (
            f"Analysed as one episode with study {partner} (version {done.version})."
            if partner else f"Analysed alone (version {done.version}).")
        return RedirectResponse(f"/studies/{primary}", status_code=303)

    @app.get("/studies/{uid}/series/{series_uid}/{frame}.png")
    async def frame(request: Request, uid: str, series_uid: str, frame: int) -> Response:
        from planarmpi.web.views import frame_png

        user(request)
        try:
            data = frame_png(_study_model(uid), series_uid, frame)
        except (StopIteration, IndexError):
            raise InvalidInputError(f"no frame {frame} of series {series_uid}") from None
        return Response(data, media_type="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/studies/{uid}/figures/{name}")
    async def figure(request: Request, uid: str, name: str) -> Response:
        user(request)
        if name not in ("perfusion.png", "function.png"):
            raise InvalidInputError(f"no figure {name!r}")
        with archive.sessions() as s:
            analysis = latest(s, Analysis, study_row(s, uid))
        if analysis is None or not (Path(analysis.output_dir) / name).is_file():
            raise InvalidInputError(f"study {uid} has no {name}")
        return FileResponse(Path(analysis.output_dir) / name, media_type="image/png")

    @app.get("/api/studies/{uid}/rois")
    async def rois(request: Request, uid: str) -> Response:
        from planarmpi.web.views import lv_roi_polygons

        user(request)
        with archive.sessions() as s:
            analysis = latest(s, Analysis, study_row(s, uid))
            manual = analysis.rois if analysis is not None else None
        return JSONResponse(lv_roi_polygons(_study_model(uid), manual))

    @app.post("/api/studies/{uid}/rois")
    async def edit_rois(request: Request, uid: str) -> Response:
        from planarmpi.io.rois import rois_for_study
        from planarmpi.store.processing import process_study
        from planarmpi.web.views import lv_roi_polygons

        await check_csrf(request)
        me = user(request)
        body = await request.json()
        series_uid = str(body.get("series_instance_uid", ""))
        entry = {"who": me["name"], "lv_ed": body.get("lv_ed"), "lv_es": body.get("lv_es")}
        if body.get("background") is not None:
            entry["background"] = body["background"]
        for key in [k for k in ("lv_ed", "lv_es", "background") if k in entry]:
            polygon = entry[key]
            if (not isinstance(polygon, list) or len(polygon) < 3 or not all(
                    isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float)
                                                                  for v in p)
                    for p in polygon)):
                raise InvalidInputError(f"{key}: a polygon of at least 3 [row, column] points "
                                        "is needed")
        model = _study_model(uid)
        spec = {series_uid: entry}
        masks = rois_for_study(spec, model, "edited ROIs")
        if series_uid not in masks:
            raise InvalidInputError(f"series {series_uid} is not a gated series of the study")
        edited = masks[series_uid]
        if not all(m.any() for m in edited.lv) or (edited.background is not None
                                                  and not edited.background.any()):
            raise InvalidInputError("an edited ROI is empty: it encloses no pixel")
        from planarmpi.analysis.bloodpool import analyze_blood_pool

        series = next(g for g in model.gated if g.acquisition.series_instance_uid == series_uid)
        try:
            analyze_blood_pool(series, manual=edited)
        except ValueError as exc:
            raise InvalidInputError(f"the edited ROIs cannot be analysed: {exc}") from exc
        done = process_study(archive, uid, created_by=me["name"], manual_rois=spec,
                             clock=now(), options=analysis)
        if done.status != "analysed":
            raise InvalidInputError(f"re-analysis failed: {done.reason}")
        archive.audit(me["name"], "roi-edited", uid, f"series {series_uid}, version "
                                                     f"{done.version}")
        return JSONResponse({"version": done.version,
                             "rois": lv_roi_polygons(model, spec).get(series_uid)})

    # ------------------------------------------------------------------ report
    def _render(uid: str, folder: Path, clinical_doc: dict[str, Any] | None,
                impression: tuple[str, ...] | None, signed_by: str = "") -> Any:
        from planarmpi.io.clinical import clinical_from_mapping
        from planarmpi.report.outputs import render_report_outputs

        clinical = (clinical_from_mapping(clinical_doc, "clinical form") if clinical_doc
                    else None)
        return render_report_outputs(folder, clinical=clinical, clock=now(),
                                     impression=impression, signed_by=signed_by)

    @app.post("/studies/{uid}/report")
    async def save_report(request: Request, uid: str) -> Response:
        form = await check_csrf(request)
        me = user(request)
        text = str(form.get("clinical", "")).strip()
        if text:  # the advanced YAML box replaces the fields
            try:
                clinical_doc = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise InvalidInputError(f"clinical form: not valid YAML ({str(exc)[:200]})") \
                    from None
        else:
            from planarmpi.web.clinical_form import form_to_mapping

            clinical_doc = form_to_mapping(form)
        if clinical_doc is not None and not isinstance(clinical_doc, dict):
            raise InvalidInputError("clinical form: expected fields (name: value)")
        if clinical_doc:
            from planarmpi.io.clinical import clinical_from_mapping, clinical_to_mapping

            # Validated, then kept in its canonical form (dates as text: JSON-safe).
            clinical_doc = clinical_to_mapping(clinical_from_mapping(clinical_doc,
                                                                     "clinical form"))
        lines = tuple(ln.strip() for ln in str(form.get("impression", "")).splitlines()
                      if ln.strip()) or None
        with archive.sessions() as s:
            study = study_row(s, uid)
            analysis = latest(s, Analysis, study)
            current = latest(s, Report, study)
            if analysis is None:
                raise InvalidInputError(f"study {uid} has not been analysed yet")
            if current is not None and current.status == "signed":
                raise ForbiddenError("the report is signed: amend it (with a reason) to change it")
            folder = Path(analysis.output_dir)
        report = _render(uid, folder, clinical_doc, lines)
        with archive.session() as s:
            study = study_row(s, uid)
            version = int(s.scalar(select(func.max(Report.version))
                                   .where(Report.study_fk == study.id)) or 0) + 1
            previous = latest(s, Report, study)
            s.add(Report(study=study, version=version, status="draft",
                         analysis_fk=analysis.id,
                         content={**report.to_dict(), "impression_by_physician": bool(lines)},
                         clinical=clinical_doc, created_by=me["name"],
                         amends_fk=previous.amends_fk if previous else None,
                         reason=previous.reason if previous else ""))
        archive.audit(me["name"], "report-draft", uid, f"version {version}")
        request.session["message"] = f"Draft saved (version {version})."
        return RedirectResponse(f"/studies/{uid}#report", status_code=303)

    @app.post("/studies/{uid}/report/sign")
    async def sign_report(request: Request, uid: str) -> Response:
        await check_csrf(request)
        me = user(request)
        if me["role"] != "physician":
            archive.audit(me["name"], "sign-refused", uid, f"role {me['role']}")
            raise ForbiddenError("only a physician can sign a report")
        with archive.sessions() as s:
            study = study_row(s, uid)
            current = latest(s, Report, study)
            analysis = latest(s, Analysis, study)
            if current is None or current.status != "draft":
                raise InvalidInputError("there is no draft to sign")
            if analysis is not None and current.analysis_fk != analysis.id:
                raise InvalidInputError(
                    f"the analysis changed (version {analysis.version}) after this draft was "
                    "saved: save a new draft, review it, then sign")
            clinical_doc = current.clinical
            impression = (tuple(current.content["impression"])
                          if current.content.get("impression_by_physician") else None)
        report = _render(uid, Path(analysis.output_dir), clinical_doc, impression,
                         signed_by=me["name"])
        # The signed PDF is kept as an object of its own: later drafts and analyses write
        # their PDFs elsewhere or over the working copy, never over this one.
        pdf_sha256 = archive.put_object(
            (Path(analysis.output_dir) / "report.pdf").read_bytes(), ".pdf")
        with archive.session() as s:
            row = latest(s, Report, study_row(s, uid))
            row.status, row.signed_by, row.signed_at = "signed", me["name"], utcnow()
            row.content = {**report.to_dict(), "impression_by_physician": impression is not None,
                           "pdf_sha256": pdf_sha256}
        archive.audit(me["name"], "report-signed", uid, f"version {row.version}")
        request.session["message"] = "Report signed."
        return RedirectResponse(f"/studies/{uid}#report", status_code=303)

    @app.post("/studies/{uid}/report/amend")
    async def amend_report(request: Request, uid: str) -> Response:
        form = await check_csrf(request)
        me = user(request)
        if me["role"] != "physician":
            raise ForbiddenError("only a physician can amend a report")
        reason = str(form.get("reason", "")).strip()
        if not reason:
            raise InvalidInputError("an amendment needs its reason")
        with archive.session() as s:
            study = study_row(s, uid)
            signed = latest(s, Report, study)
            if signed is None or signed.status != "signed":
                raise InvalidInputError("only a signed report can be amended")
            signed.status = "amended"
            s.add(Report(study=study, version=signed.version + 1, status="draft",
                         analysis_fk=signed.analysis_fk, content=signed.content,
                         clinical=signed.clinical, created_by=me["name"],
                         amends_fk=signed.id, reason=reason))
        archive.audit(me["name"], "report-amend", uid, reason[:500])
        request.session["message"] = "Amendment started: edit, then sign it."
        return RedirectResponse(f"/studies/{uid}#report", status_code=303)

    @app.get("/studies/{uid}/report.pdf")
    async def report_pdf(request: Request, uid: str) -> Response:
        me = user(request)
        with archive.sessions() as s:
            report = latest(s, Report, study_row(s, uid))
            # The PDF of the current report version: the folder of the analysis it was made
            # from (a later analysis writes elsewhere and never replaces a signed PDF).
            analysis = (s.get(Analysis, report.analysis_fk)
                        if report is not None and report.analysis_fk else None)
            signed_pdf = (report.content.get("pdf_sha256")
                          if report is not None and report.status == "signed" else None)
        path = Path(analysis.output_dir) / "report.pdf" if analysis else None
        if signed_pdf:
            path = archive.object_path(signed_pdf, ".pdf")
        if path is None or not path.is_file():
            raise InvalidInputError(f"study {uid} has no report yet")
        archive.audit(me["name"], "export-pdf", uid)
        return FileResponse(path, media_type="application/pdf", filename=f"report-{uid}.pdf")

    # ------------------------------------------------------------------ upload
    @app.post("/upload")
    async def upload(request: Request) -> Response:
        from planarmpi.store.processing import process_study

        me = user(request)
        form = await check_csrf(request)
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise InvalidInputError("choose one or more DICOM files to upload")
        stored, problems, studies = 0, [], set()
        for f in files:
            name = Path(f.filename or "upload").name[:100]
            data = await f.read(MAX_UPLOAD_BYTES + 1)
            if len(data) > MAX_UPLOAD_BYTES:
                problems.append(f"{name}: larger than {MAX_UPLOAD_BYTES // 2**20} MiB")
                continue
            try:
                outcome = archive.store(data, source=f"upload by {me['name']}")
            except InvalidInputError as exc:
                problems.append(f"{name}: {exc}")
                continue
            stored += outcome.status == "stored"
            studies.add(outcome.study_instance_uid)
        archive.audit(me["name"], "upload", ",".join(sorted(studies))[:128],
                      f"{stored} stored, {len(problems)} refused")
        for uid in sorted(studies):
            process_study(archive, uid, created_by=me["name"], clock=now(), options=analysis)
        request.session["message"] = (f"{stored} file(s) stored, {len(studies)} study(ies) "
                                      "analysed." + (" Refused: " + "; ".join(problems)
                                                     if problems else ""))
        return RedirectResponse("/worklist", status_code=303)

    @app.get("/api/health")
    async def health() -> Response:
        return JSONResponse({"status": "ok", "counts": archive.counts()})

    return app
