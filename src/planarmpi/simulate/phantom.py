"""A voxel torso with a beating heart: anatomy, attenuation and tracer uptake.

Coordinates are the DICOM patient frame (LPS) in mm: ``x`` towards the patient's left,
``y`` towards the back, ``z`` towards the head. Volumes are indexed ``[z, y, x]``.

The left ventricle is a truncated prolate ellipsoid shell (base plane to apex) whose long
axis points anterior, inferior and to the left (``heart_azimuth_deg`` from the sagittal
plane towards the left, ``heart_elevation_deg`` below the horizontal plane; defaults from
typical adult anatomy: ~45° and ~30°). The cavity volume follows a physiological volume
curve; the wall thickens so that myocardial volume is conserved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from planarmpi.model import Tracer

__all__ = [
    "Anatomy",
    "Defect",
    "LinearAttenuation",
    "PhantomVolumes",
    "build_volumes",
    "lv_volume_curve",
]

Array = NDArray[np.float64]


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

    ``territory`` is LAD, LCX or RCA; ``extent`` scales the region's angular width (1 = the
    territory's usual size). ``reversible`` defects are absent at rest.
    """

    territory: str
    severity: float
    extent: float = 1.0
    reversible: bool = True

    def __post_init__(self) -> None:
        if self.territory not in ("LAD", "LCX", "RCA"):
            raise ValueError(f"defect territory must be LAD, LCX or RCA, got {self.territory}")
        if not 0 <= self.severity <= 1:
            raise ValueError(f"defect severity must be within 0–1, got {self.severity}")
        if not 0 < self.extent <= 2:
            raise ValueError(f"defect extent must be within 0–2, got {self.extent}")


@dataclass(frozen=True, slots=True)
class Anatomy:
    """Patient build and heart geometry (lengths in mm, volumes in ml)."""

    torso_half_width_mm: float = 170.0
    torso_half_depth_mm: float = 110.0
    breast_volume_ml: float = 0.0  # per breast; 0 for none
    breast_drop_mm: float = 0.0  # how far the breasts sit below the heart centre
    heart_azimuth_deg: float = 45.0
    heart_elevation_deg: float = 30.0
    edv_ml: float = 120.0
    lvef_percent: float = 62.0
    lv_wall_mm: float = 10.0
    lv_long_short_ratio: float = 1.9
    heart_rate_bpm: float = 70.0
    wall_motion: dict[str, float] = field(default_factory=dict)  # territory → 1 normal … 0

    def __post_init__(self) -> None:
        if not 20 <= self.edv_ml <= 500:
            raise ValueError(f"EDV must be within 20–500 ml, got {self.edv_ml}")
        if not 5 <= self.lvef_percent <= 85:
            raise ValueError(f"LVEF must be within 5–85%, got {self.lvef_percent}")
        if not 30 <= self.heart_rate_bpm <= 200:
            raise ValueError(f"heart rate must be within 30–200 bpm, got {self.heart_rate_bpm}")
        for territory, m in self.wall_motion.items():
            if territory not in ("LAD", "LCX", "RCA") or not -1 <= m <= 1:
                raise ValueError(f"wall motion {territory}={m}: territory LAD/LCX/RCA, −1…1")


def lv_volume_curve(phase: Array, edv_ml: float, lvef_percent: float) -> Array:
    """Normalised LV volume over one cardiac cycle.

    Ejection over the first 35% of the cycle (cosine), rapid filling to 80% of the stroke
    volume by 60%, diastasis, atrial kick restoring the last 20% between 80 and 95%.

    Parameters
    ----------
    phase : ndarray
        Fraction of the R-R interval, 0–1.

    Returns
    -------
    ndarray
        Volume in ml.
    """
    phase = np.mod(np.asarray(phase, dtype=np.float64), 1.0)
    sv = edv_ml * lvef_percent / 100.0
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
class PhantomVolumes:
    """Activity (arbitrary concentration units) and attenuation (1/mm) on one grid."""

    activity: Array  # [z, y, x]
    mu_per_mm: Array  # [z, y, x]
    voxel_mm: float
    lv_cavity_ml: float
    lv_myocardium_ml: float


def _ellipsoid(
    x: Array, y: Array, z: Array, centre: tuple[float, float, float],
    semi_axes: tuple[float, float, float],
) -> NDArray[np.bool_]:
    """Voxels inside an axis-aligned ellipsoid (mm)."""
    return (((x - centre[0]) / semi_axes[0]) ** 2 + ((y - centre[1]) / semi_axes[1]) ** 2
            + ((z - centre[2]) / semi_axes[2]) ** 2) <= 1


def _heart_axes(anatomy: Anatomy) -> tuple[Array, Array, Array]:
    """Unit vectors: long axis (base → apex), and two short axes, in (x, y, z)."""
    az = np.radians(anatomy.heart_azimuth_deg)
    el = np.radians(anatomy.heart_elevation_deg)
    # Apex points left (+x), anterior (−y) and inferior (−z).
    long_axis = np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), -np.sin(el)])
    ref = np.array([0.0, 0.0, 1.0])
    short1 = ref - long_axis * (ref @ long_axis)
    short1 /= np.linalg.norm(short1)
    short2 = np.cross(long_axis, short1)
    return long_axis, short1, short2


# Circumferential centres (deg, around the long axis, 0 = superior/anterior wall, +90 =
# lateral) and widths of the coronary territories, a planar-imaging simplification.
_TERRITORIES = {"LAD": (-30.0, 130.0), "LCX": (100.0, 100.0), "RCA": (200.0, 110.0)}


def _territory_weight(psi_deg: Array, territory: str, extent: float) -> Array:
    centre, width = _TERRITORIES[territory]
    d = np.abs((psi_deg - centre + 180.0) % 360.0 - 180.0)
    half = width * extent / 2.0
    return np.clip((half + 10.0 - d) / 20.0, 0.0, 1.0)


def build_volumes(
    anatomy: Anatomy,
    tracer: Tracer,
    *,
    cycle_phase: float = 0.0,
    defects: tuple[Defect, ...] = (),
    rest: bool = False,
    voxel_mm: float = 4.0,
    shape_zyx: tuple[int, int, int] = (96, 64, 96),
    uptake: dict[str, float] | None = None,
) -> PhantomVolumes:
    """Activity and attenuation volumes at one point of the cardiac cycle.

    The grid is centred on the heart (the camera is centred on it, as a technologist does).

    Parameters
    ----------
    anatomy : Anatomy
    tracer : Tracer
        Perfusion tracers light the myocardium; red cells light the blood pool.
    cycle_phase : float
        Fraction of the R-R interval (0 = end-diastole).
    defects : tuple of Defect
    rest : bool
        At rest, reversible defects are absent.
    voxel_mm : float
    shape_zyx : tuple of int
    uptake : dict, optional
        Override relative concentrations (keys: myocardium, lv_blood (LV cavity), blood
        (other cavities and great vessels), liver, lung, gut, spleen, tissue, breast).
    """
    nz, ny, nx = shape_zyx
    z = (np.arange(nz) - (nz - 1) / 2) * voxel_mm
    y = (np.arange(ny) - (ny - 1) / 2) * voxel_mm
    x = (np.arange(nx) - (nx - 1) / 2) * voxel_mm
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    # Heart centre sits 25 mm left of the midline and 35 mm anterior to the torso centre.
    tx, ty, tz = xx + 25.0, yy - 35.0, zz
    torso = (tx / anatomy.torso_half_width_mm) ** 2 + (ty / anatomy.torso_half_depth_mm) ** 2 <= 1
    lungs = _ellipsoid(tx, ty, tz, (-85.0, 10.0, 40.0), (65.0, 80.0, 130.0))
    lungs |= _ellipsoid(tx, ty, tz, (85.0, 10.0, 40.0), (65.0, 80.0, 130.0))
    spine = ((tx / 22.0) ** 2 + ((ty - 75.0) / 22.0) ** 2) <= 1
    liver = _ellipsoid(tx, ty, tz, (-60.0, 10.0, -120.0), (95.0, 80.0, 70.0))
    gut = _ellipsoid(tx, ty, tz, (60.0, -5.0, -125.0), (45.0, 40.0, 35.0))
    spleen = _ellipsoid(tx, ty, tz, (110.0, 50.0, -90.0), (30.0, 40.0, 50.0))
    breast = np.zeros_like(torso)
    if anatomy.breast_volume_ml > 0:
        r = (3 * anatomy.breast_volume_ml * 1000 / (4 * np.pi)) ** (1 / 3)
        for side in (-1, 1):
            breast |= (((tx - side * 75.0) / (r * 1.1)) ** 2
                       + ((ty + anatomy.torso_half_depth_mm - 5) / r) ** 2
                       + ((tz + anatomy.breast_drop_mm) / r) ** 2) <= 1
    lungs &= torso & ~spine

    # Heart coordinates.
    long_axis, s1, s2 = _heart_axes(anatomy)
    px, py, pz = xx, yy, zz
    base_offset = -25.0  # base plane 25 mm behind the heart centre along the long axis
    u = px * long_axis[0] + py * long_axis[1] + pz * long_axis[2] - base_offset
    a1 = px * s1[0] + py * s1[1] + pz * s1[2]
    a2 = px * s2[0] + py * s2[1] + pz * s2[2]
    r = np.hypot(a1, a2)
    psi = np.degrees(np.arctan2(a2, a1)) % 360.0

    k = anatomy.lv_long_short_ratio
    volume = float(lv_volume_curve(np.array([cycle_phase]), anatomy.edv_ml,
                                   anatomy.lvef_percent)[0])
    # Half prolate ellipsoid: V = (2/3) π b² a with a = k b.
    def short_radius(v_ml: float) -> float:
        return float((3 * v_ml * 1000 / (2 * np.pi * k)) ** (1 / 3))

    b_ed = short_radius(anatomy.edv_ml)
    b_t = short_radius(volume)
    # Regional wall motion: the local endocardial scale moves only m of the global way.
    scale = np.full(u.shape, b_t / b_ed)
    for territory, m in anatomy.wall_motion.items():
        w = _territory_weight(psi, territory, 1.0)
        local = 1.0 - m * (1.0 - b_t / b_ed)
        scale = scale * (1 - w) + local * w
    b_endo = b_ed * scale
    a_endo = k * b_endo
    myo_ml = 2 / 3 * np.pi * ((b_ed + anatomy.lv_wall_mm) ** 2 * (k * b_ed + anatomy.lv_wall_mm)
                              - b_ed**2 * k * b_ed) / 1000
    # Epicardium: conserve myocardial volume as the cavity shrinks (thickening).
    b_epi_t = short_radius_epi(volume, myo_ml, k, anatomy.lv_wall_mm, b_t)
    grow = b_epi_t - b_t
    rho_endo = np.sqrt((u / a_endo) ** 2 + (r / b_endo) ** 2)
    rho_epi = np.sqrt((u / (a_endo + grow)) ** 2 + (r / (b_endo + grow)) ** 2)
    in_lv = u >= 0
    cavity = in_lv & (rho_endo <= 1)
    myocardium = in_lv & (rho_epi <= 1) & ~cavity
    # RV: a crescent to the right and anterior of the LV; atria above the base.
    rv_centre = -0.5 * b_ed * s2 + np.array([-25.0, -10.0, 0.0])
    rv_scale = (volume / anatomy.edv_ml) ** (1 / 3)
    rv = (((px - rv_centre[0]) / (38.0 * rv_scale)) ** 2
          + ((py - rv_centre[1]) / (28.0 * rv_scale)) ** 2
          + ((pz - rv_centre[2]) / (45.0 * rv_scale)) ** 2 <= 1) & ~cavity & ~myocardium
    atria = (((px + 5.0) / 45.0) ** 2 + ((py - 35.0) / 30.0) ** 2 + ((pz - 45.0) / 30.0) ** 2
             <= 1) & ~myocardium & ~cavity
    aorta = ((((px + 10.0) / 14.0) ** 2 + ((py - 5.0) / 14.0) ** 2) <= 1) & (pz > 40) & (pz < 110)
    other_blood = rv | atria | aorta

    conc = {
        "tissue": 0.04, "lung": 0.03, "liver": 0.10 if not rest else 0.22,
        "gut": 0.12 if not rest else 0.2, "spleen": 0.05,
        "myocardium": 1.0, "blood": 0.03, "lv_blood": 0.03, "breast": 0.04,
    }
    if tracer is Tracer.TC99M_RED_CELLS:
        # Blood-pool imaging: organ values are blood volume fractions relative to a cavity
        # (lung ≈ 0.1, liver ≈ 0.3, spleen ≈ 0.5, muscle/fat ≈ 0.03-0.05).
        conc.update(myocardium=0.1, blood=1.0, lv_blood=1.0, liver=0.3, gut=0.05, spleen=0.5,
                    lung=0.1, tissue=0.04)
    elif tracer is Tracer.TL201:
        conc.update(liver=0.3, gut=0.15, lung=0.08, spleen=0.2)
    if uptake:
        conc.update(uptake)
    activity = np.where(torso, conc["tissue"], 0.0)
    activity[lungs] = conc["lung"]
    activity[liver & torso] = conc["liver"]
    activity[gut & torso] = conc["gut"]
    activity[spleen & torso] = conc["spleen"]
    activity[breast] = conc["breast"]
    activity[other_blood] = conc["blood"]
    activity[cavity] = conc["lv_blood"]
    myo_uptake = np.full(u.shape, conc["myocardium"])
    for d in defects:
        if rest and d.reversible:
            continue
        w = _territory_weight(psi, d.territory, d.extent)
        # Defects sit in the distal two thirds of the wall (apex side), as infarcts do.
        w = w * np.clip(u / (0.3 * k * b_ed), 0.0, 1.0)
        myo_uptake = myo_uptake * (1.0 - d.severity * w)
    activity[myocardium] = myo_uptake[myocardium]

    mu = LinearAttenuation.for_tracer(tracer)
    mu_map = np.where(torso | breast, mu.soft_tissue, 0.0)
    mu_map[lungs] = mu.lung
    mu_map[spine & torso] = mu.bone
    voxel_ml = voxel_mm**3 / 1000.0
    return PhantomVolumes(
        activity=activity,
        mu_per_mm=mu_map,
        voxel_mm=voxel_mm,
        lv_cavity_ml=float(cavity.sum() * voxel_ml),
        lv_myocardium_ml=float(myocardium.sum() * voxel_ml),
    )


def short_radius_epi(volume_ml: float, myo_ml: float, k: float, wall_mm: float,
                     b_endo: float) -> float:
    """Epicardial short radius that encloses ``volume_ml + myo_ml`` (thickening).

    The epicardium is the endocardium grown by a uniform ``g``: solve
    (2/3)π (b+g)² (k b + g) = V_cavity + V_myo for g by bisection.
    """
    target = (volume_ml + myo_ml) * 1000.0
    lo, hi = 0.0, 4 * wall_mm + 10
    for _ in range(60):
        g = (lo + hi) / 2
        if 2 / 3 * np.pi * (b_endo + g) ** 2 * (k * b_endo + g) < target:
            lo = g
        else:
            hi = g
    return b_endo + (lo + hi) / 2
