"""The LV chosen consistently across the views of one state (known synthetic geometry)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from factories import acquisition, ring_image
from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.profiles import (
    LVGeometry,
    ProfileParams,
    circumferential_profile,
)
from planarmpi.analysis.perfusion.rings import best_combination, rings_from_rest, view_profiles
from planarmpi.model import SeriesKind, State, StaticImage

SHAPE = (128, 128)


def _view(detector: int, image: np.ndarray) -> StaticImage:
    """Detector 1 = anterior, 2 = LAO 45°, 3 = left lateral (tests/factories.py)."""
    acq = replace(acquisition(SeriesKind.STATIC, detector), pixel_spacing_mm=(3.2, 3.2))
    return StaticImage(acq, np.asarray(image), 300000.0)


def test_a_brighter_decoy_in_one_view_does_not_take_the_lv_place() -> None:
    lv = ring_image(SHAPE, centre=(64.0, 64.0), radii=(8.0, 6.5), peak=400.0)
    # In the lateral view a larger, brighter ring sits 45 mm higher (a breast edge, say).
    decoy = ring_image(SHAPE, centre=(50.0, 84.0), radii=(12.0, 10.0), peak=900.0,
                       background=0.0)
    views = [_view(1, lv), _view(2, lv), _view(3, lv + decoy)]
    chosen = view_profiles(views, ProfileParams())
    lateral = chosen[2]
    assert lateral.profile is not None
    assert lateral.ring_rank > 0
    assert lateral.profile.geometry.centre_rc == pytest.approx((64.0, 64.0), abs=1.0)


def _geometry(centre: tuple[float, float], short_px: float) -> LVGeometry:
    return LVGeometry(centre, (1.3 * short_px, short_px), 0.0, np.zeros(60), np.zeros((0, 2)),
                      1.0, 0.5)


def _fitted(prepared: list, short: list[list[float]] | None = None) -> list[dict]:
    """Each ring's fitted ellipse: at the ring's centre, short semi-axis as given (else
    the ring's radius)."""
    return [{k: _geometry(ring[0], short[i][k] if short else ring[1])
             for k, ring in enumerate(rings)} for i, (_, _, rings) in enumerate(prepared)]


def test_consistent_foci_are_all_kept() -> None:
    blank = np.zeros(SHAPE)
    prepared = [
        (_view(1, blank), blank, [((40.0, 40.0), 12.0, 10.0), ((64.0, 64.0), 7.0, 6.0)]),
        (_view(2, blank), blank, [((64.0, 64.0), 7.0, 10.0)]),
        (_view(3, blank), blank, [((64.0, 64.0), 7.0, 10.0)]),
    ]
    # The anterior view's best focus is 77 mm off and 70% larger: its second is taken.
    choice, _, _ = best_combination(prepared, [[0, 1], [0], [0]], _fitted(prepared))
    assert choice == {0: 1, 1: 0, 2: 0}


@pytest.mark.parametrize(("lateral_template", "lateral_fitted"), [
    (4.0, 7.0),  # the template locked inside a thick wall; the ellipse found the ridge
    (7.0, 4.5),  # a large defect: the ellipse shrank to the remaining arc
])
def test_a_ring_whose_size_one_measure_underestimates_is_still_the_lv(
        lateral_template: float, lateral_fitted: float) -> None:
    """A heart-and-liver ring, consistent across the views, brighter than the LV in the
    lateral view and nearly as bright in the others, must not win because one size measure
    of the lateral LV falls short."""
    blank = np.zeros(SHAPE)
    c = 63.5
    # The decoy: 18 rows lower, at one transverse point (x, y) = (−16, 8) px.
    decoy = [((c + 18, c - 16), 12.0, 8.5), ((c + 18, c - 8 / 2**0.5), 12.0, 9.6),
             ((c + 18, c + 8), 13.0, 10.0)]
    lv = [((c, c), 7.0, 10.0), ((c, c), 7.0, 10.0), ((c, c), lateral_template, 8.2)]
    # Rings best first, as ring_candidates gives them.
    prepared = [(_view(1, blank), blank, [lv[0], decoy[0]]),
                (_view(2, blank), blank, [lv[1], decoy[1]]),
                (_view(3, blank), blank, [decoy[2], lv[2]])]
    short = [[7.0, 12.0], [7.0, 12.0], [13.0, lateral_fitted]]
    choice, _, _ = best_combination(prepared, [[0, 1]] * 3, _fitted(prepared, short))
    assert choice == {0: 0, 1: 0, 2: 1}


def test_a_view_without_its_lv_among_the_candidates_does_not_drag_the_others() -> None:
    """The lateral view's LV is not a candidate (a small, faint heart); its only ring is
    29 mm higher, consistent with weak foci of the other views. Agreement would cost the
    two views that see the heart most of their score: capped, the disagreement costs less,
    and they keep the heart (830092 of the development populations)."""
    blank = np.zeros(SHAPE)
    c = 63.5
    x, y = 12.0, 15.0  # the other ring's transverse point (px)
    prepared = [
        (_view(1, blank), blank, [((c, c), 7.0, 10.0), ((c - 9, c + x), 7.0, 4.3)]),
        (_view(2, blank), blank, [((c, c), 7.0, 10.0), ((c - 9, c + (x + y) / 2**0.5), 7.0,
                                                          3.3)]),
        (_view(3, blank), blank, [((c - 9, c + y), 7.0, 10.0)]),
    ]
    choice, _, disagreement = best_combination(prepared, [[0, 1], [0, 1], [0]],
                                                _fitted(prepared))
    assert choice == {0: 0, 1: 0, 2: 0}
    assert max(disagreement.values()) > 15.0  # reported as LV_POSITION_DISAGREES


def _findings(views: list[StaticImage]) -> tuple[list, list[str]]:
    from planarmpi.analysis.perfusion.views import analyze_view

    chosen = view_profiles(views, ProfileParams())
    findings: list = []
    for vp in chosen:
        analysis = analyze_view(vp, None, PerfusionParams(), findings)
        assert analysis is not None
        assert (analysis.ring_rank, analysis.ring_score_ratio) == (vp.ring_rank,
                                                                   vp.ring_score_ratio)
    return chosen, [f"{f.code} {f.message}" for f in findings]


def test_a_weak_focus_taken_for_consistency_is_reported_uncertain() -> None:
    """A ring 2.3× brighter than the LV in the lateral view, 45 mm higher: the LV is taken
    for its agreement with the other views, with less than half the decoy's score — the
    analysis says the choice is uncertain."""
    lv = ring_image(SHAPE, centre=(64.0, 64.0), radii=(8.0, 6.5), peak=400.0)
    decoy = ring_image(SHAPE, centre=(50.0, 84.0), radii=(12.0, 10.0), peak=900.0,
                       background=0.0)
    chosen, messages = _findings([_view(1, lv), _view(2, lv), _view(3, lv + decoy)])
    assert chosen[2].ring_rank > 0
    assert chosen[2].ring_score_ratio < 0.5
    # The decoy, beside the LV, also lies on its background box's edge: bridged over.
    assert [m.split()[0] for m in messages] == ["LV_CHOICE_UNCERTAIN",
                                                "BACKGROUND_FOCUS_EXCLUDED"]
    assert chosen[2].image.acquisition.display_name in messages[1]
    assert chosen[2].image.acquisition.display_name in messages[0]
    assert f"only {chosen[2].ring_score_ratio:.0%} of its score" in messages[0]
    assert "check the figure" in messages[0]


def test_a_view_whose_heart_moved_keeps_it_and_says_the_views_disagree() -> None:
    """The patient or the table moved between views: the lateral view's heart lies 32 mm
    lower than in the others, and a focus with a third of its score sits at their height.
    The disagreement costs at most POSITION_CAP, less than giving up two thirds of the
    view's score: the view keeps its own heart, and the analysis reports the disagreement
    (before the cap, the weak focus was taken and the view's profile was wrong)."""
    lv = ring_image(SHAPE, centre=(64.0, 64.0), radii=(8.0, 6.5), peak=400.0)
    moved = ring_image(SHAPE, centre=(74.0, 64.0), radii=(8.0, 6.5), peak=400.0)
    weak = ring_image(SHAPE, centre=(62.0, 40.0), radii=(8.0, 6.5), peak=120.0, background=0.0)
    chosen, messages = _findings([_view(1, lv), _view(2, lv), _view(3, moved + weak)])
    assert chosen[2].ring_rank == 0
    assert chosen[2].profile is not None
    assert chosen[2].profile.geometry.centre_rc == pytest.approx((74.0, 64.0), abs=1.0)
    assert chosen[2].position_disagreement_mm == pytest.approx(32.0, abs=3.0)
    assert [chosen[i].position_disagreement_mm for i in (0, 1)] == [0.0, 0.0]
    assert len(messages) == 1
    assert messages[0].startswith("LV_POSITION_DISAGREES")
    assert chosen[2].image.acquisition.display_name in messages[0]
    assert f"{chosen[2].position_disagreement_mm:.0f} mm" in messages[0]
    # The figure is in result.json too.
    from planarmpi.analysis.perfusion.views import analyze_view, view_json

    analysis = analyze_view(chosen[2], None, PerfusionParams(), [])
    assert analysis is not None
    assert view_json(analysis, False)["lv_position_disagreement_mm"] == pytest.approx(
        chosen[2].position_disagreement_mm, abs=0.01)


def test_a_consistent_heart_gives_no_choice_finding() -> None:
    lv = ring_image(SHAPE, centre=(64.0, 64.0), radii=(8.0, 6.5), peak=400.0)
    chosen, messages = _findings([_view(1, lv), _view(2, lv), _view(3, lv)])
    assert [vp.ring_rank for vp in chosen] == [0, 0, 0]
    assert [vp.ring_score_ratio for vp in chosen] == [1.0, 1.0, 1.0]
    assert messages == []


def _stated(state: State, image: np.ndarray) -> StaticImage:
    acq = replace(acquisition(SeriesKind.STATIC, 2, state=state), pixel_spacing_mm=(3.2, 3.2))
    return StaticImage(acq, np.asarray(image), 300000.0)


@pytest.mark.parametrize(("shrink", "replaced"), [
    (0.6, True),    # 0.36× the rest area: collapsed onto part of the wall
    (0.9, False),   # 0.81×: within what stress and rest differ by
    (1.15, False),  # 1.32×: a dilated ventricle (TID) is still the heart
    (1.3, True),    # 1.69×: spread beyond the wall
])
def test_a_collapsed_or_spread_stress_ellipse_is_measured_with_the_registered_rest_one(
        shrink: float, replaced: bool) -> None:
    params = ProfileParams()
    # The same heart at stress and at rest, the patient lying 3 pixels lower and 2 to the
    # right at stress.
    rest_image = ring_image(SHAPE, centre=(64.0, 64.0), radii=(9.0, 7.5), peak=400.0)
    stress_image = ring_image(SHAPE, centre=(67.0, 66.0), radii=(9.0, 7.5), peak=400.0)
    (rest,) = view_profiles([_stated(State.REST, rest_image)], params)
    (stress,) = view_profiles([_stated(State.STRESS_EXERCISE, stress_image)], params)
    assert rest.profile is not None
    assert stress.profile is not None
    # What a defect or a hot edge does to the stress fit: an ellipse on part of the wall.
    g = stress.profile.geometry
    collapsed = replace(g, centre_rc=(g.centre_rc[0] + 2.0, g.centre_rc[1] - 1.0),
                        semi_axes_px=(shrink * g.semi_axes_px[0], shrink * g.semi_axes_px[1]),
                        ridge_radius_px=shrink * g.ridge_radius_px)
    stress = replace(stress, profile=circumferential_profile(
        stress_image, (3.2, 3.2), params, geometry=collapsed))
    measured = {State.STRESS_EXERCISE.value: [stress], State.REST.value: [rest]}
    findings: list = []
    rings_from_rest(measured, PerfusionParams(), findings)
    after = measured[State.STRESS_EXERCISE.value][0].profile
    assert after is not None
    if not replaced:
        assert after.geometry is collapsed
        assert not findings
        return
    r = rest.profile.geometry
    assert after.geometry.centre_rc == pytest.approx(
        (r.centre_rc[0] + 3.0, r.centre_rc[1] + 2.0), abs=0.3)
    assert after.geometry.semi_axes_px == r.semi_axes_px
    assert [f.code for f in findings] == ["LV_RING_FROM_REST"]
    assert ("part of the wall" if shrink < 1 else "beyond the wall") in findings[0].message
    # The whole ring is sampled again: the profile is as high all round as at rest.
    assert after.values.min() == pytest.approx(rest.profile.values.min(), abs=0.05)
