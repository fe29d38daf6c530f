"""A voxel torso with a beating heart: anatomy, attenuation and tracer uptake.

Coordinates are the DICOM patient frame (LPS) in mm: ``x`` towards the patient's left,
``y`` towards the back, ``z`` towards the head. Volumes are indexed ``[z, y, x]`` and centred
on the heart (a technologist centres the heart in the field of view).

The left ventricle is a truncated prolate ellipsoid shell (base plane to apex) whose long
axis points anterior, inferior and to the left (``heart_azimuth_deg`` from the sagittal
plane towards the left, ``heart_elevation_deg`` below the horizontal plane; defaults from
typical adult anatomy: 45° and 30°). Around the long axis, the circumferential angle ψ is 0°
at the anterior wall, 90° at the septum, 180° at the inferior wall and 270° at the lateral
wall. The cavity follows a physiological volume curve; the wall thickens so that myocardial
volume is conserved; territories can move less (hypokinesis), not at all (akinesis),
paradoxically (dyskinesis) or late (dyssynchrony).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from planarmpi.model import Tracer

__all__ = [
    "TERRITORY_ARCS",
    "Anatomy",
    "BodyMasks",
    "Defect",
    "Grid",
    "HeartMasks",
    "LinearAttenuation",
    "PhantomVolumes",
    "body_masks",
    "build_volumes",
    "defect_extent_percent",
    "defect_weight",
    "heart_masks",
    "lv_volume_curve",
]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
TERRITORIES = ("LAD", "LCX", "RCA")

#: Circumferential arcs (centre, width) in degrees of ψ of the coronary territories — the
#: usual right-dominant pattern: LAD anterior wall and anterior septum, RCA inferior wall
#: and inferior septum, LCX lateral and posterolateral wall.
TERRITORY_ARCS: dict[str, tuple[float, float]] = {
    "LAD": (45.0, 150.0),
    "RCA": (165.0, 90.0),
    "LCX": (265.0, 110.0),
}


@dataclass(frozen=True, slots=True)
class LinearAttenuation:
    """Narrow-beam linear attenuation coefficients, 1/mm.

    Tc-99m (140 keV): water 0.0154, lung (0.3 g/cm³) 0.0046, cortical-bone mix 0.025.
    Tl-201 (~75 keV): water 0.0185, lung 0.0056, bone 0.040 (NIST XCOM mass attenuation
    at the photopeak times typical densities).
    """

    soft_tissue: float
    lung: float
    bone: float

    @classmethod
    def for_tracer(cls, tracer: Tracer) -> LinearAttenuation:
        """Coefficients at the tracer's photopeak."""
        if tracer is Tracer.TL201:
            return cls(0.0185, 0.0056, 0.040)
        return cls(0.0154, 0.0046, 0.025)


@dataclass(frozen=True, slots=True)
class Defect:
    """A perfusion defect: uptake reduced by ``severity`` (0–1) in an LV region.

    ``territory`` is LAD, LCX, RCA, or CUSTOM with its own arc (``centre_deg``,
    ``width_deg`` of ψ). ``extent`` scales the arc (1 = the territory's usual width).
    ``reversible`` defects are absent at rest.
    """

    territory: str
    severity: float
    extent: float = 1.0
    reversible: bool = True
    centre_deg: float | None = None
    width_deg: float | None = None

    def __post_init__(self) -> None:
        if self.territory not in (*TERRITORIES, "CUSTOM"):
            raise ValueError(f"defect territory must be LAD, LCX, RCA or CUSTOM, "
                             f"got {self.territory}")
        if self.territory == "CUSTOM" and (self.centre_deg is None or self.width_deg is None):
            raise ValueError("a CUSTOM defect needs centre_deg and width_deg")
        if not 0 <= self.severity <= 1:
            raise ValueError(f"defect severity must be within 0–1, got {self.severity}")
        if not 0 < self.extent <= 2:
            raise ValueError(f"defect extent must be within 0–2, got {self.extent}")

    @property
    def arc(self) -> tuple[float, float]:
        """(centre, width) of the defect in degrees of ψ, extent applied."""
        if self.territory == "CUSTOM":
            assert self.centre_deg is not None
            assert self.width_deg is not None
            centre, width = self.centre_deg, self.width_deg
        else:
            centre, width = TERRITORY_ARCS[self.territory]
        return centre, width * self.extent


def _territory_map(values: Mapping[str, float] | tuple[tuple[str, float], ...],
                   what: str, low: float, high: float) -> tuple[tuple[str, float], ...]:
    items = tuple(sorted(dict(values).items()))
    for territory, value in items:
        if territory not in TERRITORIES or not low <= value <= high:
            raise ValueError(f"{what} {territory}={value}: territory LAD/LCX/RCA, "
                             f"value {low}…{high}")
    return items


@dataclass(frozen=True, slots=True)
class Anatomy:
    """Patient build and heart (lengths in mm, volumes in ml, rates in bpm).

    ``wall_motion`` maps a territory to the fraction of normal endocardial excursion
    (1 normal, 0.5 hypokinetic, 0 akinetic, −0.3 dyskinetic); ``regional_delay_ms`` delays
    a territory's motion (dyssynchrony). Both accept a dict.
    """

    torso_half_width_mm: float = 170.0
    torso_half_depth_mm: float = 110.0
    breast_volume_ml: float = 0.0  # per breast; 0 for none
    breast_drop_mm: float = 0.0  # how far the breasts' centres sit below the heart centre
    heart_left_mm: float = 25.0
    heart_anterior_mm: float = 50.0
    heart_azimuth_deg: float = 45.0
    heart_elevation_deg: float = 30.0
    edv_ml: float = 120.0
    lvef_percent: float = 62.0
    rv_edv_ml: float = 140.0
    rvef_percent: float = 55.0
    lv_wall_mm: float = 10.0
    lv_long_short_ratio: float = 1.9
    heart_rate_bpm: float = 70.0
    wall_motion: Mapping[str, float] | tuple[tuple[str, float], ...] = field(default=())
    regional_delay_ms: Mapping[str, float] | tuple[tuple[str, float], ...] = field(default=())

    def __post_init__(self) -> None:
        if not 20 <= self.edv_ml <= 500:
            raise ValueError(f"EDV must be within 20–500 ml, got {self.edv_ml}")
        if not 5 <= self.lvef_percent <= 85:
            raise ValueError(f"LVEF must be within 5–85%, got {self.lvef_percent}")
        if not 40 <= self.rv_edv_ml <= 500 or not 5 <= self.rvef_percent <= 85:
            raise ValueError("RV EDV must be within 40–500 ml and RVEF within 5–85%")
        if not 30 <= self.heart_rate_bpm <= 200:
            raise ValueError(f"heart rate must be within 30–200 bpm, got {self.heart_rate_bpm}")
        if not 0 <= self.breast_volume_ml <= 3000:
            raise ValueError(f"breast volume must be within 0–3000 ml, got "
                             f"{self.breast_volume_ml}")
        object.__setattr__(self, "wall_motion",
                           _territory_map(self.wall_motion, "wall motion", -1.0, 1.0))
        object.__setattr__(self, "regional_delay_ms",
                           _territory_map(self.regional_delay_ms, "delay", 0.0, 400.0))

    @property
    def rr_ms(self) -> float:
        """Nominal R-R interval in ms."""
        return 60000.0 / self.heart_rate_bpm


def lv_volume_curve(phase: Array, edv_ml: float, ef_percent: float) -> Array:
    """Ventricular volume over one cardiac cycle.

    Ejection over the first 35% of the cycle (cosine), rapid filling to 80% of the stroke
    volume by 60%, diastasis, atrial kick restoring the last 20% between 80 and 95%.

    Parameters
    ----------
    phase : ndarray
        Fraction of the R-R interval, 0–1 (wrapped).
    edv_ml, ef_percent : float

    Returns
    -------
    ndarray
        Volume in ml.
    """
    phase = np.mod(np.asarray(phase, dtype=np.float64), 1.0)
    sv = edv_ml * ef_percent / 100.0
    esv = edv_ml - sv
    v = np.empty_like(phase)
    ej = phase < 0.35
    v[ej] = esv + sv * 0.5 * (1 + np.cos(np.pi * phase[ej] / 0.35))
    rf = (phase >= 0.35) & (phase < 0.60)
    v[rf] = esv + 0.8 * sv * 0.5 * (1 - np.cos(np.pi * (phase[rf] - 0.35) / 0.25))
    ds = (phase >= 0.60) & (phase < 0.80)
    v[ds] = esv + 0.8 * sv
    ak = (phase >= 0.80) & (phase < 0.95)
    v[ak] = esv + sv * (0.8 + 0.2 * 0.5 * (1 - np.cos(np.pi * (phase[ak] - 0.80) / 0.15)))
    v[phase >= 0.95] = edv_ml
    return v


@dataclass(frozen=True, slots=True)
class Grid:
    """A voxel grid centred on the heart."""

    voxel_mm: float = 4.0
    shape_zyx: tuple[int, int, int] = (96, 64, 96)

    def coordinates(self) -> tuple[Array, Array, Array]:
        """z, y, x coordinates (mm) of every voxel, each of shape ``shape_zyx``."""
        axes = [(np.arange(n) - (n - 1) / 2) * self.voxel_mm for n in self.shape_zyx]
        zz, yy, xx = np.meshgrid(*axes, indexing="ij")
        return zz, yy, xx

    @property
    def voxel_ml(self) -> float:
        """Volume of one voxel in ml."""
        return self.voxel_mm**3 / 1000.0


def _ellipsoid(x: Array, y: Array, z: Array, centre: tuple[float, float, float],
               semi_axes: tuple[float, float, float]) -> Mask:
    """Voxels inside an axis-aligned ellipsoid (mm)."""
    return (((x - centre[0]) / semi_axes[0]) ** 2 + ((y - centre[1]) / semi_axes[1]) ** 2
            + ((z - centre[2]) / semi_axes[2]) ** 2) <= 1


@dataclass(frozen=True, slots=True)
class BodyMasks:
    """Everything outside the beating heart (does not change over the cycle)."""

    torso: Mask
    lungs: Mask
    left_lung: Mask
    spine: Mask
    liver: Mask
    gut: Mask
    spleen: Mask
    breast: Mask
    svc: Mask
    aorta: Mask


def body_masks(anatomy: Anatomy, grid: Grid) -> BodyMasks:
    """Torso, organs and great vessels on ``grid``."""
    zz, yy, xx = grid.coordinates()
    # The heart centre sits left of the midline and anterior to the torso centre; the
    # torso is positioned around it.
    tx, ty, tz = xx + anatomy.heart_left_mm, yy - anatomy.heart_anterior_mm, zz
    torso = (tx / anatomy.torso_half_width_mm) ** 2 + (ty / anatomy.torso_half_depth_mm) ** 2 <= 1
    spine = ((tx / 22.0) ** 2 + ((ty - 75.0) / 22.0) ** 2) <= 1
    left_lung = _ellipsoid(tx, ty, tz, (85.0, 10.0, 40.0), (65.0, 80.0, 130.0)) & torso & ~spine
    right_lung = _ellipsoid(tx, ty, tz, (-85.0, 10.0, 40.0), (65.0, 80.0, 130.0)) & torso & ~spine
    liver = _ellipsoid(tx, ty, tz, (-60.0, 10.0, -125.0), (90.0, 75.0, 60.0)) & torso
    gut = _ellipsoid(tx, ty, tz, (60.0, -5.0, -125.0), (45.0, 40.0, 35.0)) & torso
    spleen = _ellipsoid(tx, ty, tz, (110.0, 50.0, -90.0), (30.0, 40.0, 50.0)) & torso
    breast = np.zeros_like(torso)
    if anatomy.breast_volume_ml > 0:
        # Supine breasts flatten and spread: an ellipsoid wider (1.4 r) and taller (1.2 r)
        # than it is thick (0.6 r), of the stated volume, centred on the chest wall (so
        # about half of it lies outside the torso; the torso keeps the other half).
        r = (3 * anatomy.breast_volume_ml * 1000 / (4 * np.pi)) ** (1 / 3)
        for side in (-1, 1):
            breast |= _ellipsoid(tx, ty, tz,
                                 (side * 75.0, -anatomy.torso_half_depth_mm + 5.0,
                                  -anatomy.breast_drop_mm),
                                 (1.4 * r, 0.6 * r, 1.2 * r))
        breast &= ~torso
    svc = (((xx + 45.0) / 10.0) ** 2 + ((yy - 10.0) / 10.0) ** 2 <= 1) & (zz > 45) & (zz < 160)
    ascending = (((xx + 10.0) / 14.0) ** 2 + ((yy - 5.0) / 14.0) ** 2 <= 1) & (zz > 40) & (zz < 110)
    descending = ((((xx - 15.0) / 11.0) ** 2 + ((yy - 65.0) / 11.0) ** 2) <= 1) & (zz < 105)
    aorta = (ascending | descending) & torso
    return BodyMasks(torso, left_lung | right_lung, left_lung, spine & torso, liver & ~aorta,
                     gut, spleen, breast, svc & torso, aorta)


@dataclass(frozen=True, slots=True)
class HeartMasks:
    """The heart at one instant of the cycle, and the ψ angle of every voxel."""

    lv_cavity: Mask
    myocardium: Mask
    rv_cavity: Mask
    right_atrium: Mask
    left_atrium: Mask
    psi_deg: Array
    u_mm: Array
    apex_mm: float


def _heart_axes(azimuth_deg: float, elevation_deg: float) -> tuple[Array, Array, Array]:
    """Unit vectors in (x, y, z) of a heart at this azimuth and elevation (degrees): long
    axis (base → apex), anterior-wall and septal normals."""
    az = np.radians(azimuth_deg)
    el = np.radians(elevation_deg)
    long_axis = np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), -np.sin(el)])
    ref = np.array([0.0, 0.0, 1.0])
    anterior = ref - long_axis * (ref @ long_axis)
    anterior /= np.linalg.norm(anterior)
    septal = np.cross(long_axis, anterior)  # points to the right and anterior: the septum
    return long_axis, anterior, septal


def _arc_weight(psi_deg: Array, centre: float, width: float) -> Array:
    """1 inside an arc of ψ, 0 outside, with 20° linear shoulders."""
    d = np.abs((psi_deg - centre + 180.0) % 360.0 - 180.0)
    return np.clip((width / 2 + 10.0 - d) / 20.0, 0.0, 1.0)


def _short_radius(volume_ml: float, k: float) -> float:
    """Short semi-axis of a half prolate ellipsoid, V = (2/3) π b² (k b)."""
    return float((3 * volume_ml * 1000 / (2 * np.pi * k)) ** (1 / 3))


def _epicardial_growth(volume_ml: float, myo_ml: float, k: float, b_endo: float) -> float:
    """Uniform growth g of the endocardium that encloses ``volume + myo`` (thickening)."""
    target = (volume_ml + myo_ml) * 1000.0
    lo, hi = 0.0, 80.0
    for _ in range(50):
        g = (lo + hi) / 2
        if 2 / 3 * np.pi * (b_endo + g) ** 2 * (k * b_endo + g) < target:
            lo = g
        else:
            hi = g
    return (lo + hi) / 2


#: RV ellipsoid before the LV cuts it: semi-axes (mm) along the septal normal, the
#: anterior-wall normal and the long axis, and its centre's offset along the septal normal
#: and the long axis. What the LV leaves is a crescent ~2 cm thick wrapping the septum.
_RV_SEMI_AXES = (50.0, 24.0, 32.0)
_RV_OFFSET = (38.0, 5.0)
_RV_STEP_MM = 3.0


def _rv_projections(dx: Array, dy: Array, dz: Array,
                    frame: tuple[Array, Array, Array]) -> tuple[Array, ...]:
    """Offsets from the RV centre (mm) projected on each axis of the RV's frame."""
    return tuple(dx * axis[0] + dy * axis[1] + dz * axis[2] for axis in frame)


def _rv_inside(projections: tuple[Array, ...], scale: float) -> Mask:
    """Points inside the scaled RV ellipsoid, from their :func:`_rv_projections`."""
    total = np.zeros(np.shape(projections[0]))
    for projected, semi in zip(projections, _RV_SEMI_AXES, strict=True):
        total = total + (projected / (semi * scale)) ** 2
    return np.asarray(total <= 1)


def _rv_frame(long_axis: Array, anterior: Array,
              septal: Array) -> tuple[Array, tuple[Array, Array, Array]]:
    """The RV ellipsoid's centre (mm) and axes: on the septal side of the LV."""
    centre = _RV_OFFSET[0] * septal + (25.0 + _RV_OFFSET[1]) * long_axis - 25.0 * long_axis
    return centre, (septal, anterior, long_axis)


def _rv_scale(target_ml: float, centre: Array, frame: tuple[Array, Array, Array],
              long_axis: Array, lv_outer: tuple[float, float]) -> float:
    """Scale of the RV ellipsoid whose part outside the LV holds ``target_ml``.

    Evaluated on a local grid of ``_RV_STEP_MM`` (the LV taken with uniform radii).
    """
    half = max(_RV_SEMI_AXES) * 1.8
    axis = np.arange(-half, half + 1e-9, _RV_STEP_MM)
    gx, gy, gz = np.meshgrid(axis, axis, axis, indexing="ij")
    px, py, pz = gx + centre[0], gy + centre[1], gz + centre[2]
    u = px * long_axis[0] + py * long_axis[1] + pz * long_axis[2] + 25.0
    r2 = px**2 + py**2 + pz**2 - (u - 25.0) ** 2
    outside_lv = ~((u >= 0) & ((u / lv_outer[0]) ** 2 + r2 / lv_outer[1] ** 2 <= 1))
    rel = np.zeros(gx.shape)
    for ax, semi in zip(frame, _RV_SEMI_AXES, strict=True):
        rel = rel + ((gx * ax[0] + gy * ax[1] + gz * ax[2]) / semi) ** 2
    # The crescent's volume at scale s is the number of points outside the LV with
    # rel ≤ s²: sort once and read the scale off the target count.
    outside = np.sort(rel[outside_lv])
    count = round(target_ml * 1000.0 / _RV_STEP_MM**3)
    if count >= outside.size:
        return 1.8
    return float(np.sqrt(outside[max(count, 0)]))


@dataclass(frozen=True, slots=True)
class _HeartFrame:
    """What does not change over the cycle: the heart's long axis, the grid's coordinates
    in the heart's frame, the atria's ellipsoids, the RV ellipsoid's centre and axes and
    the offsets from its centre along them (read-only arrays, shared by every phase)."""

    long_axis: Array
    u: Array
    r: Array
    psi: Array
    right_atrium: Mask
    left_atrium: Mask
    rv_centre: Array
    rv_axes: tuple[Array, Array, Array]
    rv_projections: tuple[Array, ...]


@functools.lru_cache(maxsize=2)
def _heart_frame(azimuth_deg: float, elevation_deg: float, grid: Grid) -> _HeartFrame:
    """The grid in the frame of a heart at this orientation (cached: a gated or multi-state
    study evaluates the heart at many phases with one orientation)."""
    zz, yy, xx = grid.coordinates()
    long_axis, anterior, septal = _heart_axes(azimuth_deg, elevation_deg)
    u = xx * long_axis[0] + yy * long_axis[1] + zz * long_axis[2] + 25.0  # base plane
    a1 = xx * anterior[0] + yy * anterior[1] + zz * anterior[2]
    a2 = xx * septal[0] + yy * septal[1] + zz * septal[2]
    r = np.hypot(a1, a2)
    psi = np.degrees(np.arctan2(a2, a1)) % 360.0
    ra = _ellipsoid(xx, yy, zz, (-60.0, 5.0, 35.0), (28.0, 28.0, 30.0))
    la = _ellipsoid(xx, yy, zz, (10.0, 45.0, 35.0), (30.0, 22.0, 25.0))
    centre, rv_axes = _rv_frame(long_axis, anterior, septal)
    rv_projections = _rv_projections(xx - centre[0], yy - centre[1], zz - centre[2], rv_axes)
    frame = _HeartFrame(long_axis, u, r, psi, ra, la, centre, rv_axes, rv_projections)
    for array in (long_axis, u, r, psi, ra, la, centre, *rv_axes, *rv_projections):
        array.setflags(write=False)
    return frame


def heart_masks(anatomy: Anatomy, grid: Grid, cycle_phase: float) -> HeartMasks:
    """The chambers and the LV wall at ``cycle_phase`` (fraction of R-R, 0 = end-diastole)."""
    f = _heart_frame(anatomy.heart_azimuth_deg, anatomy.heart_elevation_deg, grid)
    u, r, psi = f.u, f.r, f.psi

    k = anatomy.lv_long_short_ratio
    b_ed = _short_radius(anatomy.edv_ml, k)

    def radius_ratio(phase: float) -> float:
        v = float(lv_volume_curve(np.array([phase]), anatomy.edv_ml, anatomy.lvef_percent)[0])
        return _short_radius(v, k) / b_ed

    global_ratio = radius_ratio(cycle_phase)
    scale = np.full(u.shape, global_ratio)
    motion = dict(anatomy.wall_motion)
    delays = dict(anatomy.regional_delay_ms)
    for territory in TERRITORIES:
        m = motion.get(territory, 1.0)
        delay = delays.get(territory, 0.0)
        if m == 1.0 and delay == 0.0:
            continue
        local_ratio = radius_ratio(cycle_phase - delay / anatomy.rr_ms)
        local = 1.0 - m * (1.0 - local_ratio)
        w = _arc_weight(psi, *TERRITORY_ARCS[territory])
        scale = scale * (1 - w) + local * w
    b_endo = b_ed * scale
    a_endo = k * b_endo
    myo_ml = 2 / 3 * np.pi * ((b_ed + anatomy.lv_wall_mm) ** 2 * (k * b_ed + anatomy.lv_wall_mm)
                              - b_ed**2 * k * b_ed) / 1000
    b_t = b_ed * global_ratio
    v_t = 2 / 3 * np.pi * b_t**2 * k * b_t / 1000
    grow = _epicardial_growth(v_t, myo_ml, k, b_t)
    in_lv = u >= 0
    cavity = in_lv & ((u / a_endo) ** 2 + (r / b_endo) ** 2 <= 1)
    myocardium = in_lv & ((u / (a_endo + grow)) ** 2 + (r / (b_endo + grow)) ** 2 <= 1) & ~cavity

    # RV: an ellipsoid on the septal side whose volume follows its own curve; the part
    # inside the LV is cut away, leaving a crescent whose volume is calibrated to the curve.
    rv_v = float(lv_volume_curve(np.array([cycle_phase]), anatomy.rv_edv_ml,
                                 anatomy.rvef_percent)[0])
    lv_out = (k * b_t + grow + 2.0, b_t + grow + 2.0)
    rv_s = _rv_scale(rv_v, f.rv_centre, f.rv_axes, f.long_axis, lv_out)
    rv = _rv_inside(f.rv_projections, rv_s)
    lv_outer = in_lv & ((u / (a_endo + grow + 2)) ** 2 + (r / (b_endo + grow + 2)) ** 2 <= 1)
    rv &= ~lv_outer
    ra = f.right_atrium & ~rv & ~lv_outer
    la = f.left_atrium & ~rv & ~lv_outer & ~ra
    return HeartMasks(cavity, myocardium, rv, ra, la, psi, u, float(k * b_ed))


def defect_weight(heart: HeartMasks, defect: Defect) -> Array:
    """Where a defect reduces uptake: 1 inside its arc, 0 outside (20° shoulders).

    Defects spare the basal part of the wall (weight rising from the base plane to 30% of
    the way to the apex), as coronary lesions usually do.
    """
    return _arc_weight(heart.psi_deg, *defect.arc) * np.clip(
        heart.u_mm / (0.3 * heart.apex_mm), 0.0, 1.0)


def defect_extent_percent(heart: HeartMasks, defects: tuple[Defect, ...]) -> float:
    """Percentage of the LV myocardium where the defects reduce uptake by at least half
    of their severity (the union of the defects' regions)."""
    myo = heart.myocardium
    if not defects or not myo.any():
        return 0.0
    inside = np.zeros(int(myo.sum()), dtype=bool)
    for d in defects:
        inside |= defect_weight(heart, d)[myo] >= 0.5
    return float(100.0 * inside.mean())


@dataclass(frozen=True, slots=True)
class PhantomVolumes:
    """Activity (relative concentration) and attenuation (1/mm) on one grid."""

    activity: Array  # [z, y, x]
    mu_per_mm: Array  # [z, y, x]
    voxel_mm: float
    lv_cavity_ml: float
    lv_myocardium_ml: float
    rv_cavity_ml: float


#: Relative concentrations per tracer (myocardium = 1 for perfusion agents; cavity blood = 1
#: for red cells, where organ values are blood-volume fractions).
DEFAULT_UPTAKE: dict[Tracer | None, dict[str, float]] = {
    None: {"tissue": 0.04, "lung": 0.06, "liver": 0.10, "gut": 0.12, "spleen": 0.05,
           "myocardium": 1.0, "blood": 0.03, "lv_blood": 0.03, "breast": 0.04},
    Tracer.TL201: {"liver": 0.3, "gut": 0.15, "lung": 0.09, "spleen": 0.2},
    Tracer.TC99M_RED_CELLS: {"myocardium": 0.1, "blood": 1.0, "lv_blood": 1.0, "liver": 0.3,
                             "gut": 0.05, "spleen": 0.5, "lung": 0.1, "tissue": 0.04},
}
_REST_TC = {"liver": 0.22, "gut": 0.2}  # Tc-99m agents: more hepatobiliary activity at rest


def uptake_for(tracer: Tracer, *, rest: bool,
               overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Relative concentrations for ``tracer`` (defaults, then ``overrides``)."""
    conc = dict(DEFAULT_UPTAKE[None])
    conc.update(DEFAULT_UPTAKE.get(tracer, {}))
    if rest and tracer in (Tracer.TC99M_SESTAMIBI, Tracer.TC99M_TETROFOSMIN,
                           Tracer.TC99M_PERFUSION):
        conc.update(_REST_TC)
    if overrides:
        unknown = set(overrides) - set(conc)
        if unknown:
            raise ValueError(f"unknown uptake compartments {sorted(unknown)}; "
                             f"known: {sorted(conc)}")
        conc.update(overrides)
    return conc


def build_volumes(
    anatomy: Anatomy,
    tracer: Tracer,
    *,
    cycle_phase: float = 0.0,
    defects: tuple[Defect, ...] = (),
    rest: bool = False,
    voxel_mm: float = 4.0,
    shape_zyx: tuple[int, int, int] = (96, 64, 96),
    uptake: Mapping[str, float] | None = None,
    body: BodyMasks | None = None,
) -> PhantomVolumes:
    """Activity and attenuation volumes at one point of the cardiac cycle.

    Parameters
    ----------
    anatomy : Anatomy
    tracer : Tracer
        Perfusion tracers light the myocardium; red cells light the blood pool.
    cycle_phase : float
        Fraction of the R-R interval (0 = end-diastole).
    defects : tuple of Defect
    rest : bool
        At rest, reversible defects are absent (and Tc-99m liver/gut activity is higher).
    voxel_mm, shape_zyx : grid
    uptake : mapping, optional
        Override relative concentrations (keys: myocardium, lv_blood (LV cavity), blood
        (other cavities and great vessels), liver, lung, gut, spleen, tissue, breast).
    body : BodyMasks, optional
        Precomputed :func:`body_masks` of the same anatomy and grid (saves time in loops).
    """
    grid = Grid(voxel_mm, shape_zyx)
    body = body or body_masks(anatomy, grid)
    heart = heart_masks(anatomy, grid, cycle_phase)
    conc = uptake_for(tracer, rest=rest, overrides=uptake)
    heart_region = (heart.lv_cavity | heart.myocardium | heart.rv_cavity
                    | heart.right_atrium | heart.left_atrium)
    lungs = body.lungs & ~heart_region
    activity = np.where(body.torso, conc["tissue"], 0.0)
    activity[lungs] = conc["lung"]
    for name in ("liver", "gut", "spleen", "breast"):
        activity[getattr(body, name)] = conc[name]
    other_blood = heart.rv_cavity | heart.right_atrium | heart.left_atrium | body.aorta | body.svc
    activity[other_blood] = conc["blood"]
    activity[heart.lv_cavity] = conc["lv_blood"]
    myo = np.full(activity.shape, conc["myocardium"])
    for d in defects:
        if rest and d.reversible:
            continue
        myo = myo * (1.0 - d.severity * defect_weight(heart, d))
    activity[heart.myocardium] = myo[heart.myocardium]

    mu = LinearAttenuation.for_tracer(tracer)
    mu_map = np.where(body.torso | body.breast, mu.soft_tissue, 0.0)
    mu_map[lungs] = mu.lung
    mu_map[body.spine] = mu.bone
    return PhantomVolumes(
        activity=activity,
        mu_per_mm=mu_map,
        voxel_mm=voxel_mm,
        lv_cavity_ml=float(heart.lv_cavity.sum() * grid.voxel_ml),
        lv_myocardium_ml=float(heart.myocardium.sum() * grid.voxel_ml),
        rv_cavity_ml=float(heart.rv_cavity.sum() * grid.voxel_ml),
    )
