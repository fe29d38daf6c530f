"""Run every analysis that exists on a study and gather one result."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from planarmpi.analysis.bloodpool import BloodPoolParams, ManualRois, analyze_blood_pool
from planarmpi.analysis.firstpass import FirstPassParams, analyze_first_pass
from planarmpi.analysis.gated_perfusion import GatedPerfusionParams, analyze_gated_perfusion
from planarmpi.analysis.motion_normals import (
    MotionMethod,
    WallMotionNormals,
    is_wall_motion_normals,
    parse_wall_motion_normals,
)
from planarmpi.analysis.perfusion.normals import NormalLimits
from planarmpi.analysis.perfusion.study import PerfusionParams, analyze_perfusion
from planarmpi.analysis.phase import phase_statistics
from planarmpi.analysis.result import EjectionFraction, StudyResult
from planarmpi.analysis.summary import SeriesSummary, summarize_series
from planarmpi.errors import InvalidInputError
from planarmpi.model import Chamber, Finding, GatedSeries, Level, State, Study, Tracer
from planarmpi.qc.checks import check_study, views_as_analysed
from planarmpi.qc.limits import QCLimits
from planarmpi.qc.protocol import ONE_DAY_MAX_HOURS, one_day_residual
from planarmpi.qc.settings import qc_limits_to_mapping

__all__ = ["AnalysisOptions", "analyze_study", "normal_wall_motion", "read_normals_file",
           "site_options", "with_wall_motion_normals"]


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """Settings of every analysis, and ROIs a user supplied (by Series Instance UID)."""

    qc: QCLimits = field(default_factory=QCLimits)
    blood_pool: BloodPoolParams = field(default_factory=BloodPoolParams)
    manual_rois: dict[str, ManualRois] = field(default_factory=dict)
    perfusion: PerfusionParams = field(default_factory=PerfusionParams)
    first_pass: FirstPassParams = field(default_factory=FirstPassParams)
    gated_perfusion: GatedPerfusionParams = field(default_factory=GatedPerfusionParams)
    normal_limits: tuple[NormalLimits, ...] = ()


def read_normals_file(path: str | os.PathLike[str]) -> NormalLimits | WallMotionNormals:
    """Read a site's normals file of either kind: perfusion limits
    (``planarmpi normals build``) or wall-motion normals (``planarmpi normals wall-motion``),
    told apart by the file's ``schema``.

    Raises
    ------
    InvalidInputError
        Naming the file and the problem.
    """
    from planarmpi.analysis.perfusion.normals import parse_limits
    from planarmpi.io.documents import load_json

    doc = load_json(path, "normals")
    if is_wall_motion_normals(doc):
        return parse_wall_motion_normals(doc, str(path))
    return parse_limits(doc, str(path))


def with_wall_motion_normals(options: AnalysisOptions,
                             normals: WallMotionNormals) -> AnalysisOptions:
    """``options`` with its method's wall motion graded against ``normals`` (their mean and
    SD; for gated perfusion also their counting noise, against which a noisier study's
    limit is widened — none when the file has no ``measurement_sd_percent``)."""
    if normals.method is MotionMethod.GATED_BLOOD_POOL:
        bp = options.blood_pool
        return replace(options, blood_pool=replace(bp, wall_motion=replace(
            bp.wall_motion, normals=normals.mean_sd(), normals_source=normals.describe())))
    gp = options.gated_perfusion
    return replace(options, gated_perfusion=replace(gp, wall_motion=replace(
        gp.wall_motion, normals=normals.mean_sd(), normals_noise=normals.noise(),
        normals_source=normals.describe())))


def site_options(normals: Iterable[str | os.PathLike[str]] = (),
                 perfusion_settings: str | os.PathLike[str] | None = None,
                 qc_settings: str | os.PathLike[str] | None = None) -> AnalysisOptions:
    """A site's analysis options: its normals files, its perfusion settings file and its
    QC limits file (the built-in settings and limits without them). What ``analyze``,
    ``batch`` and ``serve`` share.

    ``normals`` may hold both kinds of file (:func:`read_normals_file`): perfusion limits
    are used before the built-in limits for their tracer and sex; wall-motion normals
    replace the built-in ones of their method (at most one file per method).

    Raises
    ------
    InvalidInputError
        Naming the file that is unreadable or invalid, or two wall-motion normals files of
        one method.
    """
    from planarmpi.analysis.perfusion.settings import read_perfusion_settings
    from planarmpi.qc.settings import read_qc_settings

    limits: list[NormalLimits] = []
    motion: dict[MotionMethod, WallMotionNormals] = {}
    for path in normals:
        item = read_normals_file(path)
        if isinstance(item, NormalLimits):
            limits.append(item)
            continue
        if item.method in motion:
            raise InvalidInputError(
                f"{path}: a second wall-motion normals file for {item.method.value} (the "
                f"first: {motion[item.method].path}); give one per method")
        motion[item.method] = item
    options = AnalysisOptions(
        qc=read_qc_settings(qc_settings) if qc_settings else QCLimits(),
        normal_limits=tuple(limits),
        perfusion=read_perfusion_settings(perfusion_settings) if perfusion_settings
        else PerfusionParams())
    for item in motion.values():
        options = with_wall_motion_normals(options, item)
    return options


def _ef_method(series: GatedSeries) -> str | None:
    tracer = series.acquisition.tracer
    if tracer is Tracer.TC99M_RED_CELLS:
        return "gated-blood-pool"
    if tracer in (Tracer.TC99M_SESTAMIBI, Tracer.TC99M_TETROFOSMIN, Tracer.TC99M_PERFUSION,
                  Tracer.TL201):
        return "gated-perfusion"
    return None


def analyze_study(study: Study, *, limits: QCLimits | None = None,
                  options: AnalysisOptions | None = None) -> StudyResult:
    """Analyse one study: quality control, then ventricular function where it applies.

    Parameters
    ----------
    study : Study
    limits : QCLimits, optional
        Shorthand for ``options.qc``.
    options : AnalysisOptions, optional

    Returns
    -------
    StudyResult
    """
    options = options or AnalysisOptions()
    if limits is not None:
        options = replace(options, qc=limits)
    summaries = tuple(summarize_series(s) for s in study.series)
    findings = list(check_study(study, summaries, options.qc))
    not_cardiac = any(f.code in ("NOT_CARDIAC", "NON_CARDIAC_TRACER") for f in findings)
    efs: list[EjectionFraction] = []
    function: list[dict[str, Any]] = []
    phase: dict[str, Any] | None = None
    wall_motion: list[dict[str, Any]] = []
    wall_motion_territories: list[dict[str, Any]] = []
    analyses = ["qc"]
    for series in study.gated if not not_cardiac else ():
        uid = series.acquisition.series_instance_uid
        name = series.acquisition.display_name
        method = _ef_method(series)
        if method is None:
            findings.append(Finding(
                "EF_METHOD_UNKNOWN", Level.WARN,
                f"{name}: tracer {series.acquisition.tracer.value}: neither a blood-pool "
                "nor a perfusion agent, so no EF method applies", uid))
            continue
        if method == "gated-perfusion":
            try:
                gp = analyze_gated_perfusion(series, options.gated_perfusion)
            except ValueError as exc:
                findings.append(Finding("EF_NOT_MEASURED", Level.WARN,
                                        f"gated-perfusion EF not measured: {exc}", uid))
                continue
            analyses.append("gated-perfusion")
            findings.extend(gp.findings)
            efs.append(EjectionFraction(Chamber.LV, "gated-perfusion", gp.lvef_percent,
                                        gp.ci95_percent, uid))
            function.append({**gp.to_dict(), "series": name})
            if not wall_motion:
                wall_motion = [{**w.to_dict(), "series_instance_uid": uid}
                               for w in gp.wall_motion]
                wall_motion_territories = [{**t.to_dict(), "series_instance_uid": uid}
                                           for t in gp.wall_motion_territories]
            continue
        try:
            bp = analyze_blood_pool(series, options.blood_pool, options.manual_rois.get(uid))
        except ValueError as exc:
            findings.append(Finding("EF_NOT_MEASURED", Level.FAIL,
                                    f"gated blood-pool EF not measured: {exc}", uid))
            continue
        analyses.append("gated-blood-pool")
        findings.extend(bp.findings)
        efs.append(EjectionFraction(Chamber.LV, "gated-blood-pool", bp.lvef_percent,
                                    bp.ci95_percent, uid))
        entry = bp.to_dict()
        if not wall_motion:
            wall_motion = [{**w.to_dict(), "series_instance_uid": uid} for w in bp.wall_motion]
            wall_motion_territories = [{**t.to_dict(), "series_instance_uid": uid}
                                       for t in bp.wall_motion_territories]
        if phase is None:
            try:
                stats = phase_statistics(bp.ventricles.phase_deg, bp.ventricles.amplitude,
                                         bp.lv_masks[0])
                phase = {**stats.to_dict(), "chamber": "LV", "series_instance_uid": uid}
                entry["phase_lv"] = stats.to_dict()
            except ValueError as exc:
                findings.append(Finding("PHASE_NOT_MEASURED", Level.WARN,
                                        f"{name}: LV phase analysis: {exc}", uid))
        function.append(entry)
    for dynamic in study.dynamics if not not_cardiac else ():
        uid = dynamic.acquisition.series_instance_uid
        name = dynamic.acquisition.display_name
        try:
            fp = analyze_first_pass(dynamic, options.first_pass)
        except ValueError as exc:
            findings.append(Finding("FIRST_PASS_NOT_MEASURED", Level.WARN,
                                    f"first-pass analysis not done: {exc}", uid))
            continue
        analyses.append("first-pass")
        findings.extend(fp.findings)
        for chamber, measured in ((Chamber.LV, fp.lv), (Chamber.RV, fp.rv)):
            if measured is not None:
                efs.append(EjectionFraction(chamber, "first-pass", measured.ef_percent,
                                            measured.ci95_percent, uid))
        function.append({**fp.to_dict(), "series_instance_uid": uid, "series": name})
    perfusion = None
    lhr = None
    if not not_cardiac:
        outcome = analyze_perfusion(study, params=options.perfusion,
                                    user_limits=options.normal_limits,
                                    wall_motion=wall_motion_territories or wall_motion)
        if outcome is not None:
            analyses.append("perfusion")
            findings.extend(outcome.findings)
            perfusion = outcome.section
            ratios = [m for m in perfusion.get("lung_heart_ratio", ())
                      if m.get("value") is not None]
            stress = [m for m in ratios if State(m["state"]).is_stress]
            lhr = (stress or ratios or [{"value": None}])[0]["value"]
    return StudyResult(
        study_instance_uid=study.study_instance_uid,
        patient=study.patient,
        header=study.header,
        combined_studies=tuple(study.source_studies()) if study.combined_with else (),
        series=summaries,
        findings=tuple(findings),
        declined=study.declined,
        ejection_fractions=tuple(efs),
        phase=phase,
        wall_motion=tuple(wall_motion),
        wall_motion_territories=tuple(wall_motion_territories),
        function=tuple(function),
        perfusion=perfusion,
        lung_heart_ratio=lhr,
        analyses_run=tuple(dict.fromkeys(analyses)),
        one_day_protocol=_one_day_protocol(study, summaries),
        qc_limits=qc_limits_to_mapping(options.qc),
    )


def _one_day_protocol(study: Study, summaries: tuple[SeriesSummary, ...]
                      ) -> dict[str, Any] | None:
    est = one_day_residual(study, views_as_analysed(summaries))
    return None if est is None or est.hours_between >= ONE_DAY_MAX_HOURS else est.to_dict()


def normal_wall_motion(study: Study, method: MotionMethod,
                       options: AnalysisOptions | None = None
                       ) -> dict[str, tuple[float, float | None]]:
    """One normal study's segment motion, as :func:`planarmpi.analysis.motion_normals.
    build_wall_motion_normals` takes it: segment key → (percent, counting-noise SD percent
    or None).

    The study's first gated series of ``method`` is measured (the one whose wall motion
    ``analyze`` reports), so that each patient counts once.

    Raises
    ------
    InvalidInputError
        When the study has no gated series of that method, or its analysis failed.
    """
    options = options or AnalysisOptions()
    series = [s for s in study.gated if _ef_method(s) == method.value]
    if not series:
        agent = "perfusion" if method is MotionMethod.GATED_PERFUSION else "blood-pool"
        raise InvalidInputError(f"no gated series of a {agent} agent, so no {method.value} "
                                "wall motion")
    first = series[0]
    name = first.acquisition.display_name
    try:
        if method is MotionMethod.GATED_PERFUSION:
            gp = analyze_gated_perfusion(first, options.gated_perfusion)
            return {w.segment: (w.shortening_percent, w.shortening_sd_percent)
                    for w in gp.wall_motion}
        bp = analyze_blood_pool(first, options.blood_pool)
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {method.value} analysis failed: {exc}") from None
    return {w.segment: (w.regional_ef_percent, None) for w in bp.wall_motion}
