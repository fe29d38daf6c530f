"""One-day Tc-99m protocols: how much of the second images' counts the first injection left.

A one-day rest/stress (or stress/rest) protocol gives two injections of the same
Tc-99m agent a few hours apart. Sestamibi and tetrofosmin stay in the myocardium, so the
second images also hold the first injection's distribution, decayed; a second dose of
about three times the first keeps that share small (the 3:1 one-day protocols of the
ASNC imaging guidelines, Henzlova et al., J Nucl Cardiol 2016; Nkoulou et al., J Nucl
Med 2011: "the standard 3-fold increased dose"). When it is not small, the first images'
distribution shines through: rest activity under the stress images dilutes the
stress-induced defects; stress activity under the rest images keeps the defects there,
so ischaemia reads as fixed.

Two estimates, each from the DICOM alone:

- **Measured, from the count rates.** The first images' myocardial count rate, decayed to
  the second images' acquisition time, over the second images' myocardial count rate is the
  share of the second images' myocardial counts that the first injection left — whatever
  the two injections' doses or uptakes were (the first injection's myocardial activity is
  what is left behind). Biological washout between the images is neglected, so it is an
  upper bound. Needs both states' Acquisition DateTime and frame durations.
- **From the recorded doses** (Radionuclide Total Dose and Radiopharmaceutical Start
  DateTime): the second dose over the first's activity remaining at the second injection.
  It assumes the two injections' myocardial uptake alike (stress uptake is usually the
  higher).

The measured one decides when both exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planarmpi.analysis.summary import SeriesSummary
from planarmpi.model import DynamicSeries, Finding, Level, State, StaticImage, Study, Tracer
from planarmpi.model.clinical import Injection
from planarmpi.model.study import Series
from planarmpi.qc.limits import QCLimits

__all__ = [
    "ONE_DAY_MAX_HOURS",
    "ResidualEstimate",
    "check_one_day_protocol",
    "clinical_dose_ratio",
    "myocardial_count_rate",
    "one_day_residual",
    "residual_share",
]

#: Images or injections further apart than this are a two-day protocol: the first
#: injection's activity has decayed below 1/16 of itself (Tc-99m, 6.0 h half-life).
ONE_DAY_MAX_HOURS = 20.0

#: The myocardial count rate is the mean of the heart region's hottest pixels (this
#: upper share of them): the normal wall, not a defect or the cavity.
_HOT_SHARE = 0.25


def myocardial_count_rate(pixels: NDArray[Any], mask: NDArray[np.bool_],
                          duration_ms: float, pixel_area_mm2: float) -> float:
    """Counts per second per mm² of the heart region's hottest quarter of pixels.

    Parameters
    ----------
    pixels : ndarray, shape (rows, columns)
        Raw counts.
    mask : ndarray of bool
        The heart region.
    duration_ms : float
        The image's acquisition duration.
    pixel_area_mm2 : float
        One pixel's area (rates of images with other pixel sizes compare).
    """
    values = np.asarray(pixels, dtype=np.float64)[mask]
    if values.size == 0 or duration_ms <= 0 or pixel_area_mm2 <= 0:
        raise ValueError("empty heart region or no duration")
    hot = np.sort(values)[-max(1, round(_HOT_SHARE * values.size)):]
    return float(hot.mean()) / (duration_ms / 1000.0) / pixel_area_mm2


def residual_share(first_rate: float, second_rate: float, hours_between: float,
                   half_life_h: float) -> float:
    """Share of the second images' counts that the first injection left.

    ``first_rate × 2^(−hours_between / half_life_h) / second_rate``: the first images'
    count rate decayed to the second images' time, over the second images' count rate.
    """
    if second_rate <= 0:
        raise ValueError("the second images' count rate must be > 0")
    return _decayed(first_rate, hours_between, half_life_h) / second_rate


def _decayed(activity: float, hours: float, half_life_h: float) -> float:
    """``activity`` (or a count rate) ``hours`` later: × 2^(−hours / half-life)."""
    return activity * 2.0 ** (-hours / half_life_h)


def _tc99m_half_life_h(tracer: Tracer) -> float:
    half_life = tracer.half_life_h
    assert half_life is not None, "a Tc-99m agent's half-life is known"
    return float(half_life)


@dataclass(frozen=True, slots=True)
class ResidualEstimate:
    """The first injection's share of a one-day protocol's second images.

    Attributes
    ----------
    first_state, second_state : State
        In the order they were injected (or, without injection times, imaged).
    hours_between : float
        Between the injections, or between the images when injection times are missing.
    measured_share : float or None
        Median over the views imaged in both states of :func:`residual_share` of their
        myocardial count rates; None when no view pair had times, durations and a heart.
    views_measured : tuple of str
    dose_ratio : float or None
        Second dose / first dose, as recorded.
    decayed_dose_ratio : float or None
        Second dose / the first dose's activity left at the second injection.
    """

    first_state: State
    second_state: State
    hours_between: float
    measured_share: float | None
    views_measured: tuple[str, ...]
    dose_ratio: float | None
    decayed_dose_ratio: float | None

    @property
    def measured_ratio(self) -> float | None:
        """The measured share as a dose ratio: (1 − share) / share."""
        s = self.measured_share
        return None if s is None else (float("inf") if s <= 0 else (1.0 - s) / s)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (result.json ``one_day_protocol``)."""
        ratio = self.measured_ratio
        return {
            "first_state": self.first_state.value,
            "second_state": self.second_state.value,
            "hours_between": self.hours_between,
            "measured_share": self.measured_share,
            "measured_ratio": None if ratio is None or ratio == float("inf") else ratio,
            "views_measured": list(self.views_measured),
            "dose_ratio": self.dose_ratio,
            "decayed_dose_ratio": self.decayed_dose_ratio,
            "ratio": self.ratio if self.ratio != float("inf") else None,
            "ratio_basis": "measured" if self.measured_share is not None
            else "recorded doses" if self.decayed_dose_ratio is not None else None,
        }

    @property
    def ratio(self) -> float | None:
        """The ratio that decides: measured when available, else from the doses."""
        return self.measured_ratio if self.measured_share is not None \
            else self.decayed_dose_ratio


def _tc99m_perfusion(series: Series) -> bool:
    t = series.acquisition.tracer
    return t.is_technetium and t.is_perfusion_agent


def _earliest(times: Iterable[dt.datetime | None]) -> dt.datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _dose(series: Sequence[Series]) -> float | None:
    doses = [s.acquisition.radiopharmaceutical.dose_mbq for s in series]
    known = [d for d in doses if d]
    return known[0] if known else None


def _view_key(image: Series) -> tuple[str, int | None]:
    a = image.acquisition
    return a.view.value, None if a.view_angle_deg is None else round(a.view_angle_deg)


def _static_view(series: Series) -> tuple[NDArray[Any], float | None] | None:
    """A static view's counts and duration (ms): a static image, or a view acquired in
    time frames (its frames summed); None for any other series."""
    if isinstance(series, StaticImage):
        return np.asarray(series.pixels), series.frame_duration_ms
    if isinstance(series, DynamicSeries) and series.is_framed_static:
        return (np.asarray(series.pixels).sum(axis=0),
                float(np.sum(series.frame_duration_ms)))
    return None


def _rate(summary: SeriesSummary) -> float | None:
    view = _static_view(summary.series)
    a = summary.series.acquisition
    if view is None or summary.heart.region is None or a.acquisition_datetime is None \
            or not view[1]:
        return None
    spacing = a.pixel_spacing_mm
    area = spacing[0] * spacing[1] if spacing else 1.0
    try:
        return myocardial_count_rate(view[0], summary.heart.region.mask, view[1], area)
    except ValueError:
        return None


def one_day_residual(study: Study, statics: Sequence[SeriesSummary]
                     ) -> ResidualEstimate | None:
    """The first injection's share of the second images, for a study holding Tc-99m
    perfusion images at stress and at rest; None for any other study or when the two
    states cannot be ordered (no injection nor acquisition times).

    Parameters
    ----------
    study : Study
    statics : sequence of SeriesSummary
        The static perfusion views as analysed (one image per view, windows summed; a
        view acquired in time frames counts as the sum of its frames).
    """
    series = [s for s in study.series if _tc99m_perfusion(s)]
    stress = [s for s in series if s.acquisition.state.is_stress]
    rest = [s for s in series if s.acquisition.state is State.REST]
    if not stress or not rest:
        return None
    groups = {"stress": stress, "rest": rest}
    inj = {k: _earliest(s.acquisition.radiopharmaceutical.injection_datetime for s in v)
           for k, v in groups.items()}
    img = {k: _earliest(s.acquisition.acquisition_datetime for s in v)
           for k, v in groups.items()}
    times = None
    from_injections = False
    for candidate in (inj, img):
        ts, tr = candidate["stress"], candidate["rest"]
        if ts is not None and tr is not None and ts != tr:
            times, from_injections = (ts, tr), candidate is inj
            break
    if times is None:
        return None
    first, second = ("stress", "rest") if times[0] < times[1] else ("rest", "stress")
    hours = abs((times[1] - times[0]).total_seconds()) / 3600.0
    half_life = _tc99m_half_life_h(series[0].acquisition.tracer)
    d1, d2 = _dose(groups[first]), _dose(groups[second])
    dose_ratio = decayed = None
    if d1 and d2:
        dose_ratio = d2 / d1
        if from_injections:
            decayed = d2 / _decayed(d1, hours, half_life)

    def state_of(group: str) -> State:
        return groups[group][0].acquisition.state

    by_view: dict[str, dict[tuple[str, int | None], SeriesSummary]] = {"stress": {}, "rest": {}}
    for summary in statics:
        image = summary.series
        if _static_view(image) is not None and _tc99m_perfusion(image):
            st = image.acquisition.state
            group = "stress" if st.is_stress else "rest" if st is State.REST else None
            if group:
                by_view[group][_view_key(image)] = summary
    shares: list[float] = []
    names: list[str] = []
    for key, s1 in by_view[first].items():
        s2 = by_view[second].get(key)
        if s2 is None:
            continue
        a1, a2 = s1.series.acquisition, s2.series.acquisition
        if (a1.pixel_spacing_mm is None) != (a2.pixel_spacing_mm is None) or (
                a1.pixel_spacing_mm is None
                and s1.series.pixels.shape[-2:] != s2.series.pixels.shape[-2:]):
            continue  # rates per mm² compare; per pixel only on one matrix
        r1, r2 = _rate(s1), _rate(s2)
        if r1 is None or r2 is None or r2 <= 0:
            continue
        assert a1.acquisition_datetime
        assert a2.acquisition_datetime
        h = (a2.acquisition_datetime - a1.acquisition_datetime).total_seconds() / 3600.0
        shares.append(residual_share(r1, r2, h, half_life))
        names.append(key[0] if key[1] is None else f"{key[0]} {key[1]}°")
    return ResidualEstimate(
        first_state=state_of(first), second_state=state_of(second), hours_between=hours,
        measured_share=float(np.median(shares)) if shares else None,
        views_measured=tuple(names), dose_ratio=dose_ratio, decayed_dose_ratio=decayed)


def _effect(first: State, second: State) -> str:
    if first is State.REST:
        return (f"the {second.value} images' defects are diluted by the rest distribution: "
                "stress-induced defects may be missed or read smaller (shine-through)")
    return (f"the rest images carry the {first.value} distribution: defects persist at rest, "
            "so ischaemia may read as fixed (reversibility under-estimated)")


def check_one_day_protocol(study: Study, statics: Sequence[SeriesSummary],
                           limits: QCLimits | None = None) -> list[Finding]:
    """``ONE_DAY_DOSE_RATIO``: info with the figures, warn when the second images hold
    more of the first injection than a second dose of ``min_one_day_dose_ratio`` × the
    first's remaining activity would leave; nothing for a two-day protocol (images or
    injections ≥ :data:`ONE_DAY_MAX_HOURS` apart) or a study without Tc-99m perfusion images
    at both stress and rest."""
    limits = limits or QCLimits()
    est = one_day_residual(study, statics)
    if est is None or est.hours_between >= ONE_DAY_MAX_HOURS:
        return []
    minimum = limits.min_one_day_dose_ratio
    order = (f"{est.first_state.value} first, {est.second_state.value} "
             f"{est.hours_between:.1f} h later")
    parts = []
    if est.measured_share is not None:
        parts.append(f"the {est.second_state.value} images hold {est.measured_share:.0%} of "
                     f"their myocardial counts from the first injection (count rates of "
                     f"{len(est.views_measured)} view(s), decayed; an upper bound)")
    if est.dose_ratio is not None:
        parts.append(f"recorded doses {est.dose_ratio:.2f}:1"
                     + (f", {est.decayed_dose_ratio:.2f}:1 against the first dose's activity "
                        "left at the second injection" if est.decayed_dose_ratio else ""))
    ratio = est.ratio
    if ratio is None:
        return [Finding(
            "ONE_DAY_DOSE_RATIO", Level.INFO,
            f"one-day protocol ({order}): the first injection's share of the second images "
            "not checked — no dose with injection times, and no view imaged in both states "
            "with acquisition times and durations")]
    basis = "measured" if est.measured_share is not None else "by the recorded doses"
    if ratio < minimum:
        return [Finding(
            "ONE_DAY_DOSE_RATIO", Level.WARN,
            f"one-day protocol ({order}): {'; '.join(parts)}. The second injection is "
            f"{ratio:.1f}× the first's remaining activity ({basis}), below "
            f"{minimum:g}× (ASNC 2016 one-day protocols): "
            f"{_effect(est.first_state, est.second_state)}")]
    return [Finding(
        "ONE_DAY_DOSE_RATIO", Level.INFO,
        f"one-day protocol ({order}): {'; '.join(parts)}: the second injection is "
        f"{ratio:.1f}× the first's remaining activity ({basis}), at least {minimum:g}×")]


def clinical_dose_ratio(injections: Iterable[Injection]) -> dict[str, Any] | None:
    """A one-day protocol's dose ratio from a clinical file's injections, for a study whose
    DICOM gives neither (no doses with injection times, no acquisition times): the first
    Tc-99m perfusion injection at stress and at rest, both with a time and less than
    :data:`ONE_DAY_MAX_HOURS` apart.

    Returns
    -------
    dict or None
        ``first_state``, ``second_state``, ``hours_between``, ``dose_ratio`` (second dose /
        first), ``decayed_dose_ratio`` (second dose / the first's activity left at the
        second injection), ``ratio`` (the decayed one) and ``ratio_basis`` (``clinical
        file doses``), as :meth:`ResidualEstimate.to_dict` names them; None when the
        injections do not make a one-day Tc-99m protocol.
    """
    by_side: dict[str, tuple[dt.datetime, Injection]] = {}
    for inj in injections:
        tracer = inj.tracer
        if not (tracer.is_technetium and tracer.is_perfusion_agent) or inj.time is None:
            continue
        side = "stress" if inj.state.is_stress else "rest" if inj.state is State.REST else ""
        if side and (side not in by_side or inj.time < by_side[side][0]):
            by_side[side] = (inj.time, inj)
    if set(by_side) != {"stress", "rest"}:
        return None
    (t1, first), (t2, second) = sorted(by_side.values(), key=lambda item: item[0])
    hours = (t2 - t1).total_seconds() / 3600.0
    if not 0 < hours < ONE_DAY_MAX_HOURS:
        return None
    decayed = second.dose_mbq / _decayed(first.dose_mbq, hours,
                                         _tc99m_half_life_h(first.tracer))
    return {"first_state": first.state.value, "second_state": second.state.value,
            "hours_between": hours, "dose_ratio": second.dose_mbq / first.dose_mbq,
            "decayed_dose_ratio": decayed, "ratio": decayed,
            "ratio_basis": "clinical file doses", "measured_share": None}
