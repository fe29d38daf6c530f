"""LV ring finding, interpolative background and circumferential profiles on known images."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from factories import ring_image
from planarmpi.analysis.perfusion.profiles import (
    LVNotFoundError,
    ProfileParams,
    _ring_search,
    circumferential_profile,
    display_flips,
    edge_without_foci,
    find_lv,
    holds_counts,
    interpolative_background,
    reaches_beyond_wall,
    ring_candidates,
    without_hot_neighbours,
)
from planarmpi.model import View

SPACING = (3.2, 3.2)


@pytest.mark.parametrize("tilt", [0.0, 30.0, 120.0])
def test_find_lv_recovers_centre_axes_and_tilt(tilt: float) -> None:
    image = ring_image(centre=(47.3, 51.6), radii=(11.0, 8.0), tilt_deg=tilt)
    g = find_lv(image, SPACING)
    assert g.centre_rc == pytest.approx((47.3, 51.6), abs=0.5)
    assert g.semi_axes_px == pytest.approx((11.0, 8.0), rel=0.08)
    assert abs((g.long_axis_deg - tilt + 90) % 180 - 90) < 6
    assert g.cavity_contrast < 0.8


def test_find_lv_from_a_moved_seed_finds_the_same_ellipse() -> None:
    # The ROI-seed sensitivity (issue #4) moves the ring's centre; the ridge rays and the
    # trimmed ellipse fit bring the LV back to the same place.
    image = np.random.default_rng(3).poisson(
        ring_image(centre=(47.3, 51.6), radii=(11.0, 8.0), tilt_deg=30.0)).astype(float)
    (centre, radius, score), = ring_candidates(image, SPACING, ProfileParams(), k=1)
    g = find_lv(image, SPACING, ring=(centre, radius, score))
    for dr, dc in ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)):
        moved = find_lv(image, SPACING, ring=((centre[0] + dr, centre[1] + dc), radius, score))
        assert moved.centre_rc == pytest.approx(g.centre_rc, abs=0.3)
        assert moved.semi_axes_px == pytest.approx(g.semi_axes_px, abs=0.3)


def test_find_lv_survives_a_deep_defect_and_hot_neighbour() -> None:
    image = ring_image(defect=(90.0, 100.0, 0.8))
    # A liver-like hot region below and to the left, brighter than the wall.
    rr, cc = np.indices(image.shape)
    image = image + np.where((rr > 70) & (cc < 40), 500.0, 0.0)
    g = find_lv(image, SPACING)
    assert g.centre_rc == pytest.approx((48.0, 50.0), abs=1.0)


def test_find_lv_starts_again_from_a_larger_circle_when_the_ridge_lies_beyond_the_band(
) -> None:
    # A ring template locked onto the inside of the wall (radius 5 px for a ridge at 8–11
    # px): the first band (0.5–1.6 × 5 px) ends before the ridge on most rays.
    image = ring_image(radii=(11.0, 8.0))
    g = find_lv(image, SPACING, ring=((48.0, 50.0), 5.0, 1.0))
    assert g.centre_rc == pytest.approx((48.0, 50.0), abs=0.3)
    assert g.semi_axes_px == pytest.approx((11.0, 8.0), rel=0.05)


def test_find_lv_keeps_an_elongated_ventricle_whose_trimmed_fit_outgrows_the_ring() -> None:
    # The ring search sees the short axis (8 px); the trimmed fits of a long ventricle
    # (15 × 8 px) pass through shapes the plausibility check refuses — the last accepted
    # fit is kept and refined instead of losing the LV.
    image = ring_image(radii=(15.0, 8.0))
    g = find_lv(image, SPACING, ring=((48.0, 50.0), 8.0, 1.0))
    assert g.centre_rc == pytest.approx((48.0, 50.0), abs=0.3)
    assert g.semi_axes_px == pytest.approx((15.0, 8.0), rel=0.05)


def test_ring_search_prefers_a_faint_lv_to_a_dark_window_in_bright_tissue() -> None:
    # A faint LV (peak 150) beside bright tissue (260) with a round dark window in it — a
    # lung seen between chest wall and heart, as on Tl-201 lateral views. The window's
    # rim is brighter than its centre all round, like a ring's; but it is no brighter
    # than what lies outside it, and a myocardial wall is brighter than both sides.
    image = ring_image(centre=(48.0, 36.0), radii=(8.0, 7.0), peak=150.0)
    rr, cc = np.indices(image.shape)
    tissue = np.where((cc > 52) & (np.hypot(rr - 48, cc - 68) > 7.0), 260.0, 0.0)
    image = image + ndimage.gaussian_filter(tissue, 1.5)
    rings = ring_candidates(image, SPACING, ProfileParams(), k=3)
    assert rings[0][0] == pytest.approx((48.0, 36.0), abs=1.5)
    # The window is a candidate at most, far behind.
    assert all(score < 0.5 * rings[0][2] for _, _, score in rings[1:])


def _direct_ring_score(dog: np.ndarray, centre: tuple[int, int], radius_px: float,
                       px_mm: float, n_sectors: int = 8) -> float:
    """The ring score of ``_ring_search``'s docstring, by plain sums over the pixels:
    median over sectors of (ring sector mean − max(cavity mean, outer sector mean))."""
    rr, cc = np.indices(dog.shape)
    dy, dx = rr - centre[0], cc - centre[1]
    d = np.hypot(dy, dx)
    sector = np.floor((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * n_sectors) % n_sectors
    ring = np.clip(1.0 - np.abs(d - radius_px) / max(4.0 / px_mm, 0.75), 0.0, None)
    outer = (d >= radius_px + 12.0 / px_mm) & (d <= radius_px + 20.0 / px_mm)
    cavity = float(dog[d <= 0.5 * radius_px].mean())
    responses = []
    for j in range(n_sectors):
        w = np.where(sector == j, ring, 0.0)
        wall = float((dog * w).sum() / w.sum())
        responses.append(wall - max(cavity, float(dog[outer & (sector == j)].mean())))
    return float(np.median(responses))


@pytest.mark.parametrize(("shape", "centre"), [((128, 128), (28.0, 98.0)),
                                               ((40, 36), (20.0, 17.0))])
def test_ring_search_scores_equal_direct_sums_at_the_window_edge(
        shape: tuple[int, int], centre: tuple[float, float]) -> None:
    # The FFT grid is only as large as the search window needs; a ring at the window's
    # edge with bright tissue at the image border (which a too-small grid would wrap onto
    # it) must score what the plain sums give, in single precision — also on an image
    # smaller than the largest template.
    image = ring_image(shape=shape, centre=centre, radii=(9.0, 8.0), peak=300.0)
    image[:4, shape[1] // 2:] += 500.0
    image[:, -3:] += 400.0
    image = np.random.default_rng(5).poisson(image + 10.0).astype(float)
    radii_mm = np.arange(12.0, 52.6, 3.0)
    found = _ring_search(image, SPACING, radii_mm, k=3)
    (row, col), radius, _ = found[0]
    assert (row, col) == pytest.approx(centre, abs=1.5)
    assert radius == pytest.approx(8.5, abs=1.2)  # px; radii searched in 3 mm steps
    dog = (ndimage.gaussian_filter(image, 3.0 / 3.2, mode="nearest")
           - ndimage.gaussian_filter(image, 20.0 / 3.2, mode="nearest"))
    padded = np.pad(dog, 30)  # the plain sums read zeros beyond the image, as the FFT does
    for (r, c), rad, value in found:
        assert value == pytest.approx(
            _direct_ring_score(padded, (int(r) + 30, int(c) + 30), rad, 3.2), rel=1e-4)


def test_find_lv_refuses_a_blob_and_an_empty_image() -> None:
    with pytest.raises(LVNotFoundError, match=r"cavity|ring"):
        find_lv(ring_image(blob=True), SPACING)
    with pytest.raises(LVNotFoundError, match="empty"):
        find_lv(np.zeros((64, 64)), SPACING)
    with pytest.raises(LVNotFoundError):
        find_lv(np.full((64, 64), 10.0), SPACING)


def test_interpolative_background_reproduces_a_plane() -> None:
    rr, cc = np.indices((64, 64), dtype=np.float64)
    plane = 5.0 + 0.3 * rr - 0.2 * cc
    b = interpolative_background(plane, (10, 40, 12, 50), edge_smoothing_px=0.0)
    np.testing.assert_allclose(b[10:40, 12:50], plane[10:40, 12:50], atol=1e-8)
    assert (b[:10] == 0).all()
    assert (b[:, 50:] == 0).all()
    with pytest.raises(ValueError, match="too small"):
        interpolative_background(plane, (10, 11, 12, 50))


def test_a_hot_focus_on_the_box_edge_is_left_out_of_the_background() -> None:
    """Goris' interpolation carries a focus on an edge under the whole box; with the edge's
    foci replaced by its grey opening the plane beneath comes back, and a broad trend
    along an edge (the liver under a corner) is kept as it is."""
    rr, cc = np.indices((64, 64), dtype=np.float64)
    plane = 50.0 + 0.3 * rr - 0.2 * cc
    box = (10, 50, 12, 52)
    focus = 200.0 * np.exp(-((rr - 30) ** 2 + (cc - 51) ** 2) / (2 * 2.5 ** 2))  # right edge
    plain = interpolative_background(plane + focus, box, edge_smoothing_px=0.0)
    found: list[bool] = []
    cleaned = interpolative_background(plane + focus, box, edge_smoothing_px=0.0,
                                       focus_width_px=12.0, foci=found)
    centre = (30, 32)
    assert plain[centre] - plane[centre] > 15.0  # the focus printed under the heart
    assert cleaned[centre] == pytest.approx(plane[centre], abs=1.0)
    assert found == [False, False, False, True]  # top, bottom, left, right
    # A broad trend is not a focus: the same background as Goris'.
    liver = 80.0 * np.clip((rr - 30) / 20.0, 0, None) * np.clip((cc - 12) / 40.0, 0, None)
    found = []
    kept = interpolative_background(plane + liver, box, edge_smoothing_px=0.0,
                                    focus_width_px=12.0, foci=found)
    np.testing.assert_allclose(kept, interpolative_background(plane + liver, box,
                                                              edge_smoothing_px=0.0))
    assert not any(found)


def test_edge_without_foci_replaces_the_whole_bump_and_only_it() -> None:
    x = np.arange(80, dtype=np.float64)
    edge = 10.0 + 0.1 * x + 50.0 * np.exp(-((x - 40) ** 2) / (2 * 3.0 ** 2))
    out, found = edge_without_foci(edge, 12.0, 5.0)
    assert found
    np.testing.assert_allclose(out, 10.0 + 0.1 * x, atol=1.0)
    same, found = edge_without_foci(10.0 + 0.1 * x, 12.0, 5.0)
    assert not found
    np.testing.assert_array_equal(same, 10.0 + 0.1 * x)


def test_activity_beside_the_wall_does_not_set_the_normaliser(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A focus three times the wall's counts just outside the wall, inside the rays' search
    band (a gut loop): it would be the profile's maximum and scale the whole wall down to a
    third — a defect everywhere. The normaliser is the wall's, so the profile keeps its
    values away from the focus."""
    import planarmpi.analysis.perfusion.profiles as profiles

    clean = ring_image(background=60.0)
    rr, cc = np.indices(clean.shape, dtype=np.float64)
    # 1.5 ridge radii below the centre (the ridge lies 9.6 px below it).
    focus = 3 * 400.0 * np.exp(-((rr - (48.0 + 14.5)) ** 2 + (cc - 50.0) ** 2) / (2 * 1.5 ** 2))
    reference = circumferential_profile(clean, SPACING)
    guarded = circumferential_profile(clean + focus, SPACING, geometry=reference.geometry)
    assert guarded.normaliser_counts == pytest.approx(reference.normaliser_counts, rel=0.02)
    away = np.abs((guarded.angles_deg - 180 + 180) % 360 - 180) >= 90
    np.testing.assert_allclose(guarded.values[away], reference.values[away], atol=0.02)
    monkeypatch.setattr(profiles, "NORMALISER_MAX_RADIUS", 1e9)  # the maximum, unguarded
    unguarded = circumferential_profile(clean + focus, SPACING, geometry=reference.geometry)
    assert unguarded.normaliser_counts > 1.9 * reference.normaliser_counts
    assert unguarded.values[away].max() < 0.55


def test_profile_of_uniform_ring_is_flat_and_defect_is_where_it_was_put() -> None:
    flat = circumferential_profile(ring_image(background=60.0), SPACING)
    assert flat.values.min() > 0.9
    dented = circumferential_profile(ring_image(background=60.0, defect=(150.0, 72.0, 0.5)),
                                     SPACING)
    inside = np.abs((dented.angles_deg - 150 + 180) % 360 - 180) <= 24
    outside = np.abs((dented.angles_deg - 150 + 180) % 360 - 180) >= 72
    # Half the wall removed: the background-corrected maximum halves (blur softens edges).
    assert dented.values[inside].mean() == pytest.approx(0.5, abs=0.08)
    assert dented.values[outside].min() > 0.88
    assert dented.values.size == ProfileParams().n_angles


def test_background_does_not_change_the_profile() -> None:
    """Interpolative subtraction removes a sloping background under the heart."""
    rr, cc = np.indices((96, 96), dtype=np.float64)
    base = ring_image(background=0.0, defect=(300.0, 60.0, 0.4))
    sloped = base + 150.0 + 2.0 * rr - 1.0 * cc
    a = circumferential_profile(base + 1.0, SPACING)
    b = circumferential_profile(sloped, SPACING)
    assert np.abs(a.values - b.values).max() < 0.05


def test_display_flips_from_patient_orientation() -> None:
    assert display_flips(View.ANTERIOR, ("L", "F")) == (False, False)
    assert display_flips(View.ANTERIOR, ("R", "F")) == (False, True)
    assert display_flips(View.LAO, ("LP", "H")) == (True, False)
    assert display_flips(View.LEFT_LATERAL, ("A", "F")) == (False, True)
    assert display_flips(View.LEFT_LATERAL, None) == (False, False)


def test_counting_noise_sd_matches_the_spread_of_poisson_realisations() -> None:
    """The analytic SD of each profile value equals the SD over repeated acquisitions."""
    expected = ring_image(background=30.0, peak=150.0, defect=(200.0, 60.0, 0.4))
    geometry = find_lv(expected, SPACING)
    rng = np.random.default_rng(5)
    values, noise = [], []
    for _ in range(400):
        counts = rng.poisson(expected).astype(np.uint16)
        profile = circumferential_profile(counts, SPACING, geometry=geometry)
        assert profile.noise_sd is not None
        values.append(profile.values)
        noise.append(profile.noise_sd)
    spread = np.std(values, axis=0, ddof=1)
    predicted = np.sqrt(np.mean(np.square(noise), axis=0))
    ratio = spread / predicted
    # 400 realisations: the SD itself is known to ±3.5%; the maximum along a ray and the
    # background's own noise (left out of the model) add a little.
    assert np.median(ratio) == pytest.approx(1.0, abs=0.12)
    assert ratio.min() > 0.65
    assert ratio.max() < 1.4
    # Fewer counts, more noise: a quarter of the counts doubles it.
    quarter = circumferential_profile(rng.poisson(expected / 4).astype(np.uint16), SPACING,
                                      geometry=geometry)
    assert quarter.noise_sd is not None
    assert np.median(quarter.noise_sd / predicted) == pytest.approx(2.0, rel=0.15)


def test_counting_noise_is_not_guessed_for_images_that_are_not_counts() -> None:
    smooth = ring_image(background=30.0)  # fractional values: processed, not counts
    assert not holds_counts(smooth)
    assert circumferential_profile(smooth, SPACING).noise_sd is None
    assert holds_counts(np.round(smooth).astype(np.int32))
    assert not holds_counts(np.array([[-1, 2]], dtype=np.int16))


def test_a_hot_neighbour_on_the_ridge_is_replaced_by_the_body_around_it() -> None:
    """A focus three times the wall's counts on the ridge's upper edge is taken down to
    the body's level for the outline; the rest of the image is untouched. Neither a normal
    ring nor one with a deep defect over a third of it (defects only lower the wall) has
    a hot neighbour."""
    image = ring_image(centre=(48.0, 50.0), radii=(11.0, 8.0), tilt_deg=0.0)
    g = find_lv(image, SPACING)
    assert without_hot_neighbours(image, SPACING, g) is None
    defect = ring_image(centre=(48.0, 50.0), radii=(11.0, 8.0), tilt_deg=0.0,
                        defect=(180.0, 120.0, 0.6))
    assert without_hot_neighbours(defect, SPACING, find_lv(defect, SPACING)) is None
    rr, cc = np.indices(image.shape, dtype=np.float64)
    focus = 3.0 * 400.0 * np.exp(-((rr - 36.0) ** 2 + (cc - 50.0) ** 2) / (2 * 2.5 ** 2))
    found = without_hot_neighbours(image + focus, SPACING, g)
    assert found is not None
    tamed, replaced, core = found
    assert core[36, 50]
    assert not core[60, 50]
    assert replaced == np.count_nonzero(tamed != image + focus) > 0
    assert tamed[30:42, 44:57].max() < 0.5 * (image + focus)[30:42, 44:57].max()
    # The focus's pixels and 8 mm around them only: the lower half of the ring is as it was.
    np.testing.assert_array_equal(tamed[50:], (image + focus)[50:])


def test_a_hot_region_on_the_wall_is_not_a_neighbour_one_beyond_it_is() -> None:
    """The hot wall left beside a large defect lies on the ridge ellipse; a focus beside
    the heart reaches beyond 1.3 ridge radii of it."""
    image = ring_image(centre=(48.0, 50.0), radii=(11.0, 8.0), tilt_deg=0.0)
    g = find_lv(image, SPACING)
    rr, cc = np.indices(image.shape, dtype=np.float64)
    on_wall = (np.abs(np.hypot((rr - 48.0) / 11.0, (cc - 50.0) / 8.0) - 1.0) < 0.1) \
        & (rr < 44.0)
    assert on_wall.any()
    assert not reaches_beyond_wall(on_wall, g)
    beyond = np.hypot(rr - (48.0 - 1.5 * 11.0), cc - 50.0) < 2.0
    assert reaches_beyond_wall(beyond, g)
    assert not reaches_beyond_wall(np.zeros_like(on_wall), g)
