"""Physics of the simulator against analytic expectations."""

from __future__ import annotations

import numpy as np
import pytest

from planarmpi.model import Tracer
from planarmpi.simulate import Anatomy, Collimator, Defect, add_noise, build_volumes, project

VOXEL = 4.0
SHAPE = (64, 60, 64)
ZERO = {k: 0.0 for k in ("tissue", "lung", "liver", "gut", "spleen", "myocardium", "blood",
                         "lv_blood", "breast")}


def _fwhm_mm(image: np.ndarray, voxel: float) -> float:
    profile = image.sum(axis=0)
    x = np.arange(profile.size) * voxel
    mean = (x * profile).sum() / profile.sum()
    sigma = np.sqrt(((x - mean) ** 2 * profile).sum() / profile.sum())
    return 2.3548 * float(sigma)


@pytest.mark.parametrize("depth_mm", [20.0, 80.0, 160.0])
def test_point_source_blur_grows_with_depth(depth_mm: float) -> None:
    voxel, shape = 2.0, (16, 100, 96)
    activity = np.zeros(shape)
    activity[8, round(depth_mm / voxel), 48] = 1.0
    image = project(activity, np.zeros(shape), voxel, 0.0, scatter=False)
    collimator = Collimator()
    expected = float(collimator.fwhm_mm(depth_mm + collimator.gap_mm))
    assert _fwhm_mm(image, voxel) == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize("thickness_mm", [20.0, 60.0, 120.0])
def test_slab_attenuation_is_exponential(thickness_mm: float) -> None:
    mu = 0.0154  # water at 140 keV, 1/mm
    activity = np.zeros(SHAPE)
    activity[16:48, 50, 16:48] = 1.0  # a thin source behind the slab, clear of the edges
    slab = np.zeros(SHAPE)
    n = round(thickness_mm / VOXEL)
    slab[:, 10 : 10 + n, :] = mu
    free = project(activity, np.zeros(SHAPE), VOXEL, 0.0, scatter=False).sum()
    through = project(activity, slab, VOXEL, 0.0, scatter=False).sum()
    assert through / free == pytest.approx(np.exp(-mu * n * VOXEL), rel=1e-6)


def test_total_counts_within_poisson_error() -> None:
    rng = np.random.default_rng(11)
    expected = rng.random((64, 64))
    for prescribed in (1e4, 1e6):
        total = float(add_noise(expected, prescribed, rng).sum())
        assert abs(total - prescribed) < 4 * np.sqrt(prescribed)


@pytest.mark.parametrize("lvef", [25.0, 45.0, 65.0])
def test_blood_pool_counts_follow_volume_ef(lvef: float) -> None:
    anatomy = Anatomy(lvef_percent=lvef, edv_ml=130.0)
    uptake = {**ZERO, "lv_blood": 1.0}
    counts = {}
    for name, phase in (("ed", 0.0), ("es", 0.35)):
        vol = build_volumes(anatomy, Tracer.TC99M_RED_CELLS, cycle_phase=phase, uptake=uptake,
                            voxel_mm=VOXEL, shape_zyx=SHAPE)
        free = project(vol.activity, np.zeros(SHAPE), VOXEL, 0.0, scatter=False).sum()
        counts[name] = (free, vol.lv_cavity_ml)
    count_ef = 100 * (counts["ed"][0] - counts["es"][0]) / counts["ed"][0]
    voxel_ef = 100 * (counts["ed"][1] - counts["es"][1]) / counts["ed"][1]
    # Without attenuation, counts are exactly proportional to the voxelised volume, and
    # the voxelised volume follows the prescribed curve to within a point.
    assert count_ef == pytest.approx(voxel_ef, abs=0.05)
    assert voxel_ef == pytest.approx(lvef, abs=1.0)


def test_defect_deficit_scales_with_severity() -> None:
    anatomy = Anatomy()
    uptake = {**ZERO, "myocardium": 1.0}
    totals = []
    for severity in (0.0, 0.25, 0.5, 0.75):
        defects = (Defect("LAD", severity),) if severity else ()
        vol = build_volumes(anatomy, Tracer.TC99M_SESTAMIBI, defects=defects, uptake=uptake,
                            voxel_mm=VOXEL, shape_zyx=SHAPE)
        totals.append(project(vol.activity, vol.mu_per_mm, VOXEL, 0.0).sum())
    deficits = [1 - t / totals[0] for t in totals[1:]]
    assert deficits[0] > 0.02
    assert deficits[1] == pytest.approx(2 * deficits[0], rel=0.02)
    assert deficits[2] == pytest.approx(3 * deficits[0], rel=0.02)


def test_rest_removes_reversible_defect_only() -> None:
    uptake = {**ZERO, "myocardium": 1.0}
    kwargs = {"uptake": uptake, "voxel_mm": VOXEL, "shape_zyx": SHAPE}
    normal = build_volumes(Anatomy(), Tracer.TC99M_SESTAMIBI, **kwargs).activity.sum()
    ischemia = build_volumes(Anatomy(), Tracer.TC99M_SESTAMIBI, rest=True,
                             defects=(Defect("LAD", 0.6, reversible=True),), **kwargs)
    scar = build_volumes(Anatomy(), Tracer.TC99M_SESTAMIBI, rest=True,
                         defects=(Defect("LAD", 0.6, reversible=False),), **kwargs)
    assert ischemia.activity.sum() == pytest.approx(normal)
    assert scar.activity.sum() < 0.95 * normal


def test_myocardial_volume_is_conserved_through_the_cycle() -> None:
    volumes = [
        build_volumes(Anatomy(), Tracer.TC99M_SESTAMIBI, cycle_phase=p, voxel_mm=2.0,
                      shape_zyx=(80, 80, 80)).lv_myocardium_ml
        for p in (0.0, 0.35)
    ]
    assert volumes[1] == pytest.approx(volumes[0], rel=0.06)


def _point_image(x_mm: float, y_mm: float, angle: float, mu: float = 0.0) -> np.ndarray:
    n, v = 64, 4.0
    activity = np.zeros((8, n, n))
    activity[4, round(y_mm / v + (n - 1) / 2), round(x_mm / v + (n - 1) / 2)] = 1.0
    return project(activity, np.full(activity.shape, mu), v, angle, scatter=False)


def _column_mm(image: np.ndarray) -> float:
    profile = image.sum(axis=0)
    return float(((profile * np.arange(profile.size)).sum() / profile.sum() - 31.5) * 4.0)


def test_view_geometry_follows_the_camera_position() -> None:
    """LAO 45°: the camera faces the patient's left-anterior; left-posterior is image right."""
    assert _column_mm(_point_image(50, 50, 45.0)) == pytest.approx(70.7, abs=1.0)
    assert _column_mm(_point_image(50, -50, 45.0)) == pytest.approx(0.0, abs=1.0)
    assert _column_mm(_point_image(-50, -50, 45.0)) == pytest.approx(-70.7, abs=1.0)
    # Anterior view: the patient's left is on the viewer's right.
    assert _column_mm(_point_image(42, 0, 0.0)) == pytest.approx(42.0, abs=1.0)
    # Left lateral: posterior is on the viewer's right.
    assert _column_mm(_point_image(2, 42, 90.0)) == pytest.approx(42.0, abs=1.0)
    # Nearest to an LAO camera is left-anterior: least attenuated through uniform water.
    near = _point_image(50, -50, 45.0, mu=0.0154).sum()
    far = _point_image(-50, 50, 45.0, mu=0.0154).sum()
    assert near > 3 * far


def test_heart_geometry_cache_keeps_each_orientation_apart() -> None:
    # The heart's frame is computed once per orientation and shared by every phase: a
    # heart at another orientation in between must not leak into the first one's masks,
    # and the shared arrays cannot be altered by a caller.
    from planarmpi.simulate.phantom import Grid, heart_masks

    grid = Grid(voxel_mm=4.0, shape_zyx=(40, 40, 40))
    a, b = Anatomy(heart_azimuth_deg=45.0), Anatomy(heart_azimuth_deg=30.0)
    first = heart_masks(a, grid, 0.3)
    other = heart_masks(b, grid, 0.3)
    again = heart_masks(a, grid, 0.3)
    assert not np.array_equal(first.myocardium, other.myocardium)
    for name in ("lv_cavity", "myocardium", "rv_cavity", "right_atrium", "left_atrium",
                 "psi_deg", "u_mm"):
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    with pytest.raises(ValueError, match="read-only"):
        again.psi_deg[0, 0, 0] = 1.0
