"""What the study page shows: images as PNG, cine timing, the LV ROIs as polygons."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from planarmpi.model import GatedSeries, Study

__all__ = ["SeriesView", "frame_png", "lv_roi_polygons", "series_views"]


@dataclass(frozen=True, slots=True)
class SeriesView:
    """One series as the page lists it."""

    series_instance_uid: str
    label: str
    kind: str
    frames: int
    frame_ms: float
    rows: int
    columns: int
    #: The study holding the series (another study of a combined episode); "" for the
    #: study shown.
    study_uid: str = ""


def series_views(study: Study, study_uid: str = "") -> list[SeriesView]:
    """Every series of the study with its frame count and display frame duration (ms);
    ``study_uid`` names the study they are served from when it is not the page's."""
    out = []
    for s in study.series:
        a = s.acquisition
        pixels = s.pixels
        frames = 1 if pixels.ndim == 2 else int(pixels.shape[0])
        if isinstance(s, GatedSeries):
            frame_ms = float(np.mean(s.frame_duration_ms))
        elif frames > 1:
            frame_ms = float(np.mean(getattr(s, "frame_duration_ms", [100.0])))
        else:
            frame_ms = 0.0
        out.append(SeriesView(a.series_instance_uid, a.display_name, a.kind.value, frames,
                              frame_ms, int(pixels.shape[-2]), int(pixels.shape[-1]),
                              study_uid))
    return out


def frame_png(study: Study, series_uid: str, frame: int, scale: int = 4) -> bytes:
    """One frame as an 8-bit greyscale PNG, enlarged ``scale`` times (nearest neighbour).

    Gated frames share the series maximum, so the cine shows real count changes.

    Raises
    ------
    KeyError
        For an unknown series; IndexError for a frame out of range.
    """
    from PIL import Image

    series = next(s for s in study.series if s.acquisition.series_instance_uid == series_uid)
    pixels = np.asarray(series.pixels, dtype=np.float64)
    stack = pixels[None] if pixels.ndim == 2 else pixels
    if not 0 <= frame < stack.shape[0]:
        raise IndexError(f"frame {frame} of {stack.shape[0]}")
    top = float(np.percentile(stack, 99.9)) or 1.0
    image = np.clip(stack[frame] / top * 255.0, 0, 255).astype(np.uint8)
    img = Image.fromarray(image).resize((image.shape[1] * scale, image.shape[0] * scale),
                                        Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def _polygon(mask: np.ndarray, points: int = 16) -> list[list[float]]:
    from skimage import measure

    contours = measure.find_contours(mask.astype(float), 0.5)
    if not contours:
        return []
    contour = max(contours, key=len)
    idx = np.linspace(0, len(contour) - 1, points, endpoint=False).astype(int)
    return [[round(float(r), 2), round(float(c), 2)] for r, c in contour[idx]]


def lv_roi_polygons(study: Study, manual: dict[str, Any] | None = None
                    ) -> dict[str, dict[str, Any]]:
    """The LV ROIs at ED and ES and the background ROI of each gated blood-pool series, as
    (row, column) polygons.

    From the user's ROIs when given for a series, else from the automatic analysis.
    """
    from planarmpi.analysis.bloodpool import analyze_blood_pool
    from planarmpi.io.rois import rois_for_study
    from planarmpi.model import Tracer

    rois = rois_for_study(manual or {}, study, "user ROIs")
    out: dict[str, dict[str, Any]] = {}
    for series in study.gated:
        if series.acquisition.tracer is not Tracer.TC99M_RED_CELLS:
            continue
        uid = series.acquisition.series_instance_uid
        try:
            bp = analyze_blood_pool(series, manual=rois.get(uid))
        except ValueError:
            continue
        ed, es, ed_mask, es_mask = bp.ed_es_rois()
        out[uid] = {"ed_frame": ed, "es_frame": es,
                    "lv_ed": _polygon(ed_mask), "lv_es": _polygon(es_mask),
                    "background": _polygon(bp.background, 40),
                    "lvef_percent": bp.lvef_percent, "source": bp.rois_source}
    return out
