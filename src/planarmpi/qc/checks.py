"""Quality-control checks: each returns findings, none raises for bad data.

Codes are stable and documented in ``docs/qc.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from planarmpi.analysis.perfusion.images import summed_parts
from planarmpi.analysis.summary import PERFUSION_TRACERS, SeriesSummary, summarize_series
from planarmpi.io.text import cardiac_evidence
from planarmpi.model import (
    DynamicSeries,
    Finding,
    GatedSeries,
    Level,
    SeriesKind,
    StaticImage,
    Study,
    Tracer,
)
from planarmpi.qc.limits import QCLimits
from planarmpi.qc.protocol import check_one_day_protocol

__all__ = ["check_series", "check_study", "views_as_analysed"]


def check_series(summary: SeriesSummary, limits: QCLimits | None = None) -> list[Finding]:
    """Counts, timing and heart-region checks of one series.

    Parameters
    ----------
    summary : SeriesSummary
    limits : QCLimits, optional

    Returns
    -------
    list of Finding
    """
    limits = limits or QCLimits()
    s = summary.series
    a = s.acquisition
    uid = a.series_instance_uid
    where = a.display_name
    out: list[Finding] = []
    if np.asarray(s.pixels).min(initial=0) < 0:
        out.append(Finding("NEGATIVE_COUNTS", Level.WARN,
                           f"{where}: negative pixel values; counts are not raw", uid))
    if a.kind is SeriesKind.WHOLE_BODY:
        return out
    if summary.heart.region is None:
        out.append(Finding("NO_HEART_FOUND", Level.FAIL,
                           f"{where}: no heart found — {summary.heart.reason}", uid))
    else:
        # Gated views are judged on their summed slots, which equal a static view; a
        # first pass is judged on its own frame-duration criterion instead.
        lv_max = summary.heart.region.max_counts_per_pixel
        if lv_max < limits.min_lv_max_counts_per_pixel and isinstance(
            s, StaticImage | GatedSeries
        ):
            out.append(Finding(
                "LOW_LV_COUNTS", Level.WARN,
                f"{where}: maximal heart counts {lv_max:.0f}/pixel, below "
                f"{limits.min_lv_max_counts_per_pixel:g} (Wackers): suboptimal count density",
                uid))
    if isinstance(s, StaticImage) and a.tracer in PERFUSION_TRACERS:
        minimum = (
            limits.min_view_counts_tl201 if a.tracer is Tracer.TL201
            else limits.min_view_counts_tc99m
        )
        if summary.total_counts < minimum:
            out.append(Finding(
                "LOW_VIEW_COUNTS", Level.WARN,
                f"{where}: {summary.total_counts / 1e3:.0f} k counts, below the "
                f"{minimum / 1e3:.0f} k recommended per {a.tracer.value} view (Wackers Table 7-1)",
                uid))
    if isinstance(s, GatedSeries):
        out.extend(_gated_checks(s, where, limits))
    if isinstance(s, DynamicSeries) and not s.is_framed_static:
        longest = float(s.frame_duration_ms.max())
        if longest > limits.max_first_pass_frame_ms:
            out.append(Finding(
                "FIRST_PASS_FRAME_TOO_LONG", Level.WARN,
                f"{where}: frames of up to {longest:g} ms; first-pass EF needs ≤ "
                f"{limits.max_first_pass_frame_ms:g} ms frames (Bacharach 1979)", uid))
    return out


def _gated_checks(s: GatedSeries, where: str, limits: QCLimits) -> list[Finding]:
    uid = s.acquisition.series_instance_uid
    out: list[Finding] = []
    slot_ms = float(np.max(s.frame_duration_ms))
    blood_pool = s.acquisition.tracer in (Tracer.TC99M_RED_CELLS, Tracer.TC99M, Tracer.UNKNOWN)
    if slot_ms > limits.max_gated_frame_ms_for_ef:
        out.append(Finding(
            "GATED_FRAME_TOO_LONG", Level.WARN if blood_pool else Level.INFO,
            f"{where}: time slots of {slot_ms:.0f} ms; a count-based EF needs ≤ "
            f"{limits.max_gated_frame_ms_for_ef:g} ms (Bacharach 1979), longer slots "
            "under-estimate it", uid))
    rejected = s.gating.rejected_fraction
    if rejected is not None:
        level = Level.WARN if rejected > limits.max_rejected_beat_fraction else Level.INFO
        out.append(Finding(
            "BEATS_REJECTED", level,
            f"{where}: {s.gating.intervals_rejected} of "
            f"{(s.gating.intervals_acquired or 0) + (s.gating.intervals_rejected or 0)} beats "
            f"rejected ({rejected:.0%})", uid))
    frame_counts = np.asarray(s.pixels, dtype=np.float64).sum(axis=(1, 2))
    median = float(np.median(frame_counts))
    if median > 0 and frame_counts.size >= 4:
        falloff = 1.0 - float(frame_counts[-1]) / median
        if falloff > limits.max_late_frame_falloff_fraction:
            # A count-based (blood-pool) curve's late diastole — filling rates, the
            # atrial kick — is what the fall-off distorts; a gated perfusion study's EF is
            # measured on the end-diastolic and end-systolic contours, which it leaves alone.
            out.append(Finding(
                "LATE_FRAME_FALLOFF", Level.WARN if blood_pool else Level.INFO,
                f"{where}: last time slot has {falloff:.0%} fewer counts than the median "
                "slot: R-R variability (arrhythmia) distorts the late cycle"
                + ("" if blood_pool else " (the geometric EF from the end-diastolic and "
                   "end-systolic contours is not affected)"), uid))
    return out


def check_study(study: Study, summaries: Sequence[SeriesSummary],
                limits: QCLimits | None = None) -> list[Finding]:
    """Study-level checks plus every series check.

    A study that its descriptions and tracer name as non-cardiac (a lung, bone or flood
    acquisition) fails: cardiac analyses of it would be meaningless.
    """
    out: list[Finding] = list(study.findings)
    texts = [study.header.description]
    for a in study.acquisitions:
        texts += [a.series_description, a.protocol_name, a.radiopharmaceutical.name]
    evidence = cardiac_evidence(*texts)
    kinds = {a.kind for a in study.acquisitions}
    if kinds == {SeriesKind.WHOLE_BODY}:
        out.append(Finding("NOT_CARDIAC", Level.FAIL,
                           "whole-body acquisition: not a cardiac study; cardiac analyses "
                           "not run"))
    elif evidence.verdict == "not cardiac":
        out.append(Finding(
            "NOT_CARDIAC", Level.FAIL,
            f"descriptions name a {' / '.join(evidence.non_cardiac)} study "
            f"({'; '.join(t for t in dict.fromkeys(texts) if t)}), not a cardiac one; "
            "cardiac analyses not run"))
    elif evidence.verdict == "undetermined" and evidence.non_cardiac:
        out.append(Finding(
            "CARDIAC_UNCERTAIN", Level.WARN,
            f"descriptions mention both cardiac and {' / '.join(evidence.non_cardiac)} terms"))
    if any(a.tracer is Tracer.OTHER for a in study.acquisitions):
        names = sorted({a.radiopharmaceutical.name for a in study.acquisitions
                        if a.tracer is Tracer.OTHER})
        out.append(Finding("NON_CARDIAC_TRACER", Level.FAIL,
                           f"radiopharmaceutical {', '.join(names)} is not a cardiac tracer"))
    for d in study.declined:
        out.append(Finding("DECLINED_OBJECT", Level.INFO,
                           f"{d.source_file}: set aside — {d.reason}"))
    analysed = views_as_analysed(summaries)
    for summary in analysed:
        out.extend(check_series(summary, limits))
    out.extend(check_one_day_protocol(study, analysed, limits))
    return out


def views_as_analysed(summaries: Sequence[SeriesSummary]) -> list[SeriesSummary]:
    """The summaries with a perfusion view stored one image per energy window replaced by
    its windows' sum, as the perfusion analysis reads it
    (:func:`~planarmpi.analysis.perfusion.images.one_image_per_view`): its counts are the
    sum's (a Tl-201 167 keV window alone holds a quarter of the view's counts)."""
    statics = [s.series for s in summaries if isinstance(s.series, StaticImage)
               and s.series.acquisition.tracer in PERFUSION_TRACERS]
    sums = summed_parts(statics)
    if not sums:
        return list(summaries)
    parts = [im for _, group in sums for im in group]
    kept = [s for s in summaries if not any(s.series is im for im in parts)]
    return kept + [summarize_series(image) for image, _ in sums]
