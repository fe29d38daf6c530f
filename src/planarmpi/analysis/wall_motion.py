"""Regional wall motion of the LV from a gated blood-pool study (LAO best-septal view).

The LV ROIs of end-diastole and end-systole are divided into angular sectors around the
end-diastolic centre; each sector's regional EF is
``(ED_net − ES_net) / ED_net`` with the study's background per pixel (regional EF in
sectors: the project's domain notes, "Regional function"; Jackson, JNMT 1991). Sectors are
the five LAO segments of the 15-segment planar model, mapped to territories by
:data:`planarmpi.model.segments.SEGMENTS`; the valve plane (image top) is left out.

A segment is normal when its regional EF is at least its normal mean − 2 SD; the built-in
normal means and SDs (``data/wall_motion_normals.json``) were derived from 30 *simulated*
normal studies by ``bench/wall_motion_normals.py`` — a site should replace them with limits
from its own normals. Below normal: hypokinetic down to 10%, akinetic down to −5%, then
dyskinetic (also when the segment beats > 90° out of phase with the LV). All settable in
:class:`WallMotionParams`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from planarmpi.model import View
from planarmpi.model.segments import SEGMENTS

__all__ = ["LAO_SECTORS_DEG", "GradeLimits", "SegmentMotion", "WallMotionParams",
           "builtin_normals", "grade_motion", "regional_wall_motion"]

#: LAO segment index → (start, stop) image angle in degrees (0 = image right = lateral,
#: 90 = down = inferior/apical, 180 = left = septal, 270 = up = base).
LAO_SECTORS_DEG: dict[int, tuple[float, float]] = {
    1: (200.0, 250.0),  # basal septal
    2: (150.0, 200.0),  # mid septal
    3: (60.0, 150.0),  # inferoapical
    4: (0.0, 60.0),  # mid posterolateral
    5: (300.0, 360.0),  # basal posterolateral
}


def builtin_normals(resource: str = "data/wall_motion_normals.json"
                    ) -> dict[str, tuple[float, float]]:
    """Segment key → (mean, SD) in a packaged normals file (``planarmpi/wall-motion-normals@1``).

    By default the regional EF of the built-in (simulated) blood-pool normals.
    """
    data = json.loads(files("planarmpi.analysis").joinpath(resource).read_text(encoding="utf-8"))
    return {k: (float(v["mean_percent"]), float(v["sd_percent"]))
            for k, v in data["segments"].items()}


@dataclass(frozen=True, slots=True)
class WallMotionParams:
    """Regional-EF limits of the grades (percent).

    ``normals`` maps a segment key to the (mean, SD) of its regional EF in normals; a
    segment is normal at ≥ mean − ``normal_sd`` × SD. Segments without normals use
    ``normal_min_percent``.
    """

    normals: dict[str, tuple[float, float]] = field(default_factory=builtin_normals)
    normal_sd: float = 2.0
    normal_min_percent: float = 30.0
    hypokinetic_min_percent: float = 10.0
    akinetic_min_percent: float = -5.0
    dyskinetic_phase_deg: float = 90.0


@dataclass(frozen=True, slots=True)
class SegmentMotion:
    """One segment's regional EF and grade."""

    segment: str
    name: str
    territory: str
    regional_ef_percent: float
    grade: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (entries of result.json ``wall_motion``)."""
        return {"segment": self.segment, "name": self.name, "territory": self.territory,
                "regional_ef_percent": self.regional_ef_percent, "grade": self.grade}


class GradeLimits(Protocol):
    """What grading needs (:class:`WallMotionParams` and the gated-perfusion limits)."""

    @property
    def normals(self) -> dict[str, tuple[float, float]]: ...
    @property
    def normal_sd(self) -> float: ...
    @property
    def normal_min_percent(self) -> float: ...
    @property
    def hypokinetic_min_percent(self) -> float: ...
    @property
    def akinetic_min_percent(self) -> float: ...


def grade_motion(value: float, segment: str, p: GradeLimits) -> str:
    """Grade a segment's motion (percent): normal at ≥ its normals' mean − ``normal_sd`` SD
    (``normal_min_percent`` without normals), then hypokinetic, akinetic, dyskinetic."""
    mean_sd = p.normals.get(segment)
    limit = mean_sd[0] - p.normal_sd * mean_sd[1] if mean_sd else p.normal_min_percent
    if value >= limit:
        return "normal"
    if value >= p.hypokinetic_min_percent:
        return "hypokinetic"
    if value >= p.akinetic_min_percent:
        return "akinetic"
    return "dyskinetic"


def regional_wall_motion(ed_counts: NDArray[np.float64], es_counts: NDArray[np.float64],
                         ed_mask: NDArray[np.bool_], es_mask: NDArray[np.bool_],
                         background_per_pixel: float,
                         params: WallMotionParams | None = None, *,
                         phase_deg: NDArray[np.float64] | None = None,
                         amplitude: NDArray[np.float64] | None = None) -> list[SegmentMotion]:
    """Regional EF and grade of the five LAO segments.

    Parameters
    ----------
    ed_counts, es_counts : ndarray of shape (rows, columns)
        Counts of the end-diastolic and end-systolic slots (coverage-corrected).
    ed_mask, es_mask : ndarray of bool
        LV ROIs of those slots.
    background_per_pixel : float
        Background counts per pixel per slot.
    phase_deg, amplitude : ndarray, optional
        First-harmonic images: a segment whose mean phase is more than
        ``params.dyskinetic_phase_deg`` from the whole LV's moves paradoxically
        (dyskinesis: ~180° out of phase, the project's domain notes).

    Returns
    -------
    list of SegmentMotion
        Segments whose end-diastolic sector is empty are left out.
    """
    p = params or WallMotionParams()
    rr, cc = np.indices(ed_mask.shape)
    centre = ndimage.center_of_mass(np.where(ed_mask, ed_counts, 0.0))
    angle = np.degrees(np.arctan2(rr - centre[0], cc - centre[1])) % 360.0
    def mean_phase(region: NDArray[np.bool_]) -> float | None:
        if phase_deg is None or amplitude is None or not region.any():
            return None
        a = np.radians(phase_deg[region])
        w = amplitude[region]
        return float(np.degrees(np.arctan2((w * np.sin(a)).sum(), (w * np.cos(a)).sum())))

    lv_phase = mean_phase(ed_mask)
    out = []
    for segment in (s for s in SEGMENTS if s.view is View.LAO):
        start, stop = LAO_SECTORS_DEG[segment.index]
        sector = (angle >= start) & (angle < stop)
        ed_sector = ed_mask & sector
        if not ed_sector.any():
            continue
        ed_net = float(ed_counts[ed_sector].sum() - background_per_pixel * ed_sector.sum())
        es_sector = es_mask & sector
        es_net = float(es_counts[es_sector].sum() - background_per_pixel * es_sector.sum())
        ef = 100.0 * (ed_net - es_net) / ed_net if ed_net > 0 else float("nan")
        grade = grade_motion(ef, segment.key, p) if np.isfinite(ef) else "not measured"
        seg_phase = mean_phase(ed_sector)
        if lv_phase is not None and seg_phase is not None:
            late = abs((seg_phase - lv_phase + 180.0) % 360.0 - 180.0)
            if late > p.dyskinetic_phase_deg:
                grade = "dyskinetic"
        out.append(SegmentMotion(segment.key, segment.name, segment.territory, ef, grade))
    return out
