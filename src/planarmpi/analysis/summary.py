"""What each series holds, in numbers: the table ``planarmpi inspect`` prints."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planarmpi.analysis.localize import HeartSearch, locate_heart, locate_lv_ring
from planarmpi.io.vendors import vendor_of
from planarmpi.model import DynamicSeries, GatedSeries, StaticImage, Tracer
from planarmpi.model.study import Series

__all__ = ["PERFUSION_TRACERS", "SeriesSummary", "heart_search", "summarize_series"]


def _image_for_heart(series: Series) -> NDArray[np.float64]:
    """The image the heart is looked for in: the static view, or all frames summed."""
    pixels = np.asarray(series.pixels, dtype=np.float64)
    return pixels if pixels.ndim == 2 else pixels.sum(axis=0)


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """Identification, timing and counts of one series (one detector × energy window).

    ``heart_max_counts_per_pixel`` is measured on the static image, or on the sum of all
    frames of a gated or dynamic series (``heart_counts_basis`` says which).
    """

    series: Series
    heart: HeartSearch
    total_counts: float
    heart_counts_basis: str

    @property
    def framed_static(self) -> bool:
        """A static view acquired in time frames (:attr:`DynamicSeries.is_framed_static`)."""
        return isinstance(self.series, DynamicSeries) and self.series.is_framed_static

    @property
    def heart_max_counts_per_pixel(self) -> float | None:
        """Highest raw pixel value in the heart region, None if no heart was found."""
        return None if self.heart.region is None else self.heart.region.max_counts_per_pixel

    def timing(self) -> dict[str, object]:
        """Timing of the series, in ms."""
        s = self.series
        if isinstance(s, StaticImage):
            return {"frame_duration_ms": s.frame_duration_ms}
        if isinstance(s, DynamicSeries):
            return {
                "phases": [
                    {
                        "frame_duration_ms": p.frame_duration_ms,
                        "number_of_frames": p.number_of_frames,
                        "phase_delay_ms": p.phase_delay_ms,
                        "pause_between_frames_ms": p.pause_between_frames_ms,
                    }
                    for p in s.phases
                ],
                "total_duration_ms": float(s.frame_start_ms[-1] + s.frame_duration_ms[-1]),
            }
        g = s.gating
        return {
            "time_slots": int(s.pixels.shape[0]),
            "time_slot_ms": s.frame_duration_ms.tolist(),
            "rr_interval": s.rr_interval,
            "nominal_interval_ms": g.nominal_interval_ms,
            "low_rr_ms": g.low_rr_ms,
            "high_rr_ms": g.high_rr_ms,
            "intervals_acquired": g.intervals_acquired,
            "intervals_rejected": g.intervals_rejected,
            "heart_rate_bpm": g.heart_rate_bpm,
            "framing_type": g.framing_type or None,
        }

    def timing_text(self) -> str:
        """One short line: ``300 s``, ``2×20 frames of 50 ms``, ``16 slots, R-R 800 ms``."""
        s = self.series
        if isinstance(s, StaticImage):
            d = s.frame_duration_ms
            return "—" if d is None else f"{d / 1000:g} s"
        if isinstance(s, DynamicSeries):
            return ", ".join(
                f"{p.number_of_frames}×{p.frame_duration_ms:g} ms" for p in s.phases
            )
        g = s.gating
        parts = [f"{s.pixels.shape[0]} slots of {float(np.mean(s.frame_duration_ms)):.0f} ms"]
        if g.nominal_interval_ms:
            parts.append(f"R-R {g.nominal_interval_ms:.0f} ms")
        if g.intervals_acquired is not None:
            parts.append(
                f"{g.intervals_acquired} beats"
                + (f", {g.intervals_rejected} rejected" if g.intervals_rejected is not None
                   else "")
            )
        return ", ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping (the ``series`` entries of result.json and inspect --json)."""
        a = self.series.acquisition
        pixels = self.series.pixels
        frames = 1 if pixels.ndim == 2 else int(pixels.shape[0])
        return {
            "series_instance_uid": a.series_instance_uid,
            "sop_instance_uid": a.sop_instance_uid,
            "series_number": a.series_number,
            "series_description": a.series_description,
            "kind": a.kind.value,
            "framed_static": self.framed_static,
            "view": a.view.value,
            "view_angle_deg": a.view_angle_deg,
            "view_source": a.view_source,
            "state": a.state.value,
            "state_source": a.state_source,
            "tracer": a.tracer.value,
            "tracer_source": a.radiopharmaceutical.source,
            "dose_mbq": a.radiopharmaceutical.dose_mbq,
            "injection_datetime": (
                a.radiopharmaceutical.injection_datetime.isoformat()
                if a.radiopharmaceutical.injection_datetime
                else None
            ),
            "detector": a.detector,
            "energy_window": a.energy_window.index,
            "energy_window_kev": [list(r) for r in a.energy_window.ranges_kev],
            "rows": int(pixels.shape[-2]),
            "columns": int(pixels.shape[-1]),
            "frames": frames,
            "pixel_spacing_mm": list(a.pixel_spacing_mm) if a.pixel_spacing_mm else None,
            "timing": self.timing(),
            "total_counts": self.total_counts,
            "heart_found": self.heart.region is not None,
            "heart_not_found_reason": self.heart.reason or None,
            "heart_area_cm2": None if self.heart.region is None else self.heart.region.area_cm2,
            "heart_region_method": None if self.heart.region is None
            else self.heart.region.method,
            "heart_max_counts_per_pixel": self.heart_max_counts_per_pixel,
            "heart_counts_basis": self.heart_counts_basis,
            "manufacturer": a.manufacturer,
            "vendor": vendor_of(a.manufacturer).value,
        }


#: Myocardial perfusion agents: their static and gated views are searched for the LV's
#: myocardial ring (:func:`~planarmpi.analysis.localize.locate_lv_ring`).
PERFUSION_TRACERS = frozenset(t for t in Tracer if t.is_perfusion_agent)


def heart_search(series: Series) -> HeartSearch:
    """The heart region of a series: the LV myocardial ring in a perfusion agent's static or
    gated view (a hot liver, gut or Tl-201's background can outshine the thin wall once
    smoothed), the hottest central half-maximum focus otherwise (blood pool, first pass,
    unknown tracers)."""
    image = _image_for_heart(series)
    spacing = series.acquisition.pixel_spacing_mm
    view_like = isinstance(series, StaticImage | GatedSeries) or (
        isinstance(series, DynamicSeries) and series.is_framed_static)
    if view_like and series.acquisition.tracer in PERFUSION_TRACERS:
        return locate_lv_ring(image, spacing)
    return locate_heart(image, spacing)


def summarize_series(series: Series) -> SeriesSummary:
    """Counts and heart region of one series."""
    image = _image_for_heart(series)
    basis = "static image" if isinstance(series, StaticImage) else (
        "sum of time slots" if isinstance(series, GatedSeries) else "sum of frames"
    )
    return SeriesSummary(
        series=series,
        heart=heart_search(series),
        total_counts=float(image.sum()),
        heart_counts_basis=basis,
    )
