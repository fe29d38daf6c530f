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

Territories: in the LAO view the anterior wall (LAD) faces the camera and runs to the apex,
so an LAD abnormality also lowers the inferoapical segment (mapped to the RCA). The
segments' relative deficits are therefore explained by each territory's projected
*signature* (``data/wall_motion_territory_signatures.json``, measured on the simulator's
model heart by ``bench/wall_motion_signatures.py``) with the non-negative fit of the
perfusion territories (:func:`planarmpi.analysis.perfusion.territory.fit_territories`):
:func:`territory_motion` names the abnormal territories and the segments each explains.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from planarmpi.analysis.motion_normals import MotionMethod, builtin_wall_motion_normals
from planarmpi.analysis.perfusion.territory import TerritoryParams, fit_territories
from planarmpi.model import View
from planarmpi.model.segments import SEGMENTS

__all__ = ["GRADES", "LAO_SECTORS_DEG", "GradeLimits", "SegmentMotion", "TerritoryMotion",
           "WallMotionParams", "builtin_normals", "builtin_normals_source",
           "builtin_signatures", "grade_motion", "normal_limit", "regional_wall_motion",
           "territory_motion"]

#: Grades from best to worst.
GRADES = ("normal", "hypokinetic", "akinetic", "dyskinetic")

#: LAO segment index → (start, stop) image angle in degrees (0 = image right = lateral,
#: 90 = down = inferior/apical, 180 = left = septal, 270 = up = base).
LAO_SECTORS_DEG: dict[int, tuple[float, float]] = {
    1: (200.0, 250.0),  # basal septal
    2: (150.0, 200.0),  # mid septal
    3: (60.0, 150.0),  # inferoapical
    4: (0.0, 60.0),  # mid posterolateral
    5: (300.0, 360.0),  # basal posterolateral
}


def builtin_normals() -> dict[str, tuple[float, float]]:
    """Segment key → (mean, SD) of the regional EF (%) of the built-in (simulated) blood-pool
    normals (:func:`planarmpi.analysis.motion_normals.builtin_wall_motion_normals`)."""
    return builtin_wall_motion_normals(MotionMethod.GATED_BLOOD_POOL).mean_sd()


def builtin_normals_source() -> dict[str, str]:
    """What result.json records of the built-in blood-pool wall-motion normals."""
    return builtin_wall_motion_normals(MotionMethod.GATED_BLOOD_POOL).describe()


def builtin_signatures(resource: str = "data/wall_motion_territory_signatures.json"
                       ) -> dict[str, dict[str, float]]:
    """Segment key → territory → relative drop of the segment's motion measure when the
    territory is akinetic (``planarmpi/wall-motion-territory-signatures@1``)."""
    data = json.loads(files("planarmpi.analysis").joinpath(resource).read_text(encoding="utf-8"))
    return {k: {t: float(v) for t, v in row.items()} for k, row in data["segments"].items()}


@dataclass(frozen=True, slots=True)
class WallMotionParams:
    """Regional-EF limits of the grades (percent).

    ``normals`` maps a segment key to the (mean, SD) of its regional EF in normals; a
    segment is normal at ≥ mean − ``normal_sd`` × SD. Segments without normals use
    ``normal_min_percent``. ``signatures`` and ``territories`` name the territories
    (:func:`territory_motion`).
    """

    normals: dict[str, tuple[float, float]] = field(default_factory=builtin_normals)
    #: Name, method, source and path of ``normals`` (result.json names them); a site's
    #: file sets both (:func:`planarmpi.analysis.pipeline.with_wall_motion_normals`).
    normals_source: dict[str, str] = field(default_factory=builtin_normals_source)
    normal_sd: float = 2.0
    normal_min_percent: float = 30.0
    hypokinetic_min_percent: float = 10.0
    akinetic_min_percent: float = -5.0
    dyskinetic_phase_deg: float = 90.0
    signatures: dict[str, dict[str, float]] = field(default_factory=builtin_signatures)
    territories: TerritoryParams = field(default_factory=TerritoryParams)


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


def normal_limit(segment: str, p: GradeLimits, extra_sd_percent: float = 0.0) -> float:
    """Lowest normal motion of a segment (percent): its normals' mean − ``normal_sd`` ×
    √(SD² + ``extra_sd_percent``²), or ``normal_min_percent`` without normals.

    ``extra_sd_percent`` is measurement noise of this study beyond the normals' own (their
    SD already holds the noise of their counts); 0 gives the normals' limit."""
    mean_sd = p.normals.get(segment)
    if not mean_sd:
        return p.normal_min_percent
    return mean_sd[0] - p.normal_sd * math.hypot(mean_sd[1], extra_sd_percent)


def grade_motion(value: float, segment: str, p: GradeLimits,
                 extra_sd_percent: float = 0.0) -> str:
    """Grade a segment's motion (percent): normal at ≥ :func:`normal_limit`, then
    hypokinetic, akinetic, dyskinetic."""
    if value >= normal_limit(segment, p, extra_sd_percent):
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


@dataclass(frozen=True, slots=True)
class TerritoryMotion:
    """A coronary territory's wall motion: its grade and the segments that show it."""

    territory: str
    grade: str
    coefficient: float
    segments: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (entries of result.json ``wall_motion_territories``)."""
        return {"territory": self.territory, "grade": self.grade,
                "coefficient": self.coefficient, "segments": list(self.segments)}


class _Graded(Protocol):
    @property
    def segment(self) -> str: ...
    @property
    def territory(self) -> str: ...
    @property
    def grade(self) -> str: ...


def territory_motion(segments: Sequence[_Graded], values: Mapping[str, float],
                     normals: Mapping[str, tuple[float, float]],
                     signatures: Mapping[str, Mapping[str, float]],
                     params: TerritoryParams | None = None) -> tuple[TerritoryMotion, ...]:
    """Grade each coronary territory from its segments, named by projected signatures.

    Parameters
    ----------
    segments : sequence
        Graded segments (``segment``, ``territory``, ``grade``).
    values : mapping of segment key to float
        Each segment's motion measure (regional EF or shortening, percent).
    normals : mapping of segment key to (mean, SD)
        The measure in normals: a segment's deficit is ``1 − value / mean`` (≥ 0).
    signatures : mapping
        Segment → territory → relative drop of the measure when the territory is akinetic.
    params : TerritoryParams, optional
        Naming rule of the fit.

    Returns
    -------
    tuple of TerritoryMotion
        One per territory of the signatures. A territory is abnormal when the fit names it
        and attributes an abnormal segment to it; its grade is the worst such segment's. An
        abnormal segment the fit attributes to no named territory keeps its own mapping, so
        no abnormal segment goes unreported.
    """
    deficits = {}
    for s in segments:
        mean_sd = normals.get(s.segment)
        value = values.get(s.segment)
        if mean_sd and mean_sd[0] > 0 and value is not None and np.isfinite(value):
            deficits[s.segment] = max(0.0, 1.0 - value / mean_sd[0])
    abnormal = {s.segment: s for s in segments if s.grade in GRADES[1:]}
    fit = fit_territories(deficits, {k: True for k in abnormal}, params, signatures)
    members: dict[str, list[str]] = {t: list(fit.segments.get(t, ())) for t in fit.coefficients}
    attributed = {k for keys in members.values() for k in keys}
    for key, s in abnormal.items():
        if key not in attributed:
            members.setdefault(s.territory, []).append(key)
    out = []
    for territory in sorted(members):
        keys = tuple(sorted(k for k in members[territory] if k in abnormal))
        worst = max((GRADES.index(abnormal[k].grade) for k in keys), default=0)
        out.append(TerritoryMotion(territory, GRADES[worst],
                                   float(fit.coefficients.get(territory, 0.0)), keys))
    return tuple(out)
