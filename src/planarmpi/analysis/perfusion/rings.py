"""The LV in each static view of one state, chosen consistently across the views.

Each view offers its ring-shaped foci; the combination whose rings agree on the heart's
height, lateral position (for views of known camera angles) and size is taken
(:func:`view_profiles`), so a hot liver, gut or breast edge that outshines the LV in one
view does not take its place. A stress view whose ellipse collapsed onto part of the wall,
or spread beyond it, is measured again with the registered rest ellipse
(:func:`rings_from_rest`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from planarmpi.analysis.perfusion.motion import frame_displacements
from planarmpi.analysis.perfusion.normals import state_group
from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.profiles import (
    LVGeometry,
    LVNotFoundError,
    Profile,
    ProfileParams,
    Ring,
    circumferential_profile,
    display_flips,
    reaches_beyond_wall,
    ring_candidates,
    ring_fitter,
    without_hot_neighbours,
)
from planarmpi.model import Acquisition, Finding, Level, State, StaticImage, View

__all__ = [
    "POSITION_CAP",
    "POSITION_TOLERANCE_MM",
    "RING_CANDIDATES",
    "SIZE_TOLERANCE",
    "STRESS_REST_MAX_AREA_RATIO",
    "STRESS_REST_MIN_AREA_RATIO",
    "UNCERTAIN_RING_RATIO",
    "ViewProfile",
    "best_combination",
    "camera_angle_deg",
    "oriented_pixels",
    "rest_to_stress_shift_px",
    "rings_from_rest",
    "view_profiles",
]

Array = NDArray[np.float64]


def oriented_pixels(image: StaticImage) -> tuple[Array, tuple[bool, bool]]:
    """The image's counts in the standard display orientation, and the flips applied."""
    flips = display_flips(image.acquisition.view, image.acquisition.patient_orientation)
    pixels = np.asarray(image.pixels, dtype=np.float64)
    if flips[0]:
        pixels = pixels[::-1, :]
    if flips[1]:
        pixels = pixels[:, ::-1]
    return pixels, flips


#: Tolerance (mm) of the agreement between the views of one state on the heart's position.
POSITION_TOLERANCE_MM = 15.0
#: Camera angle of each standard view (degrees from anterior towards the patient's left);
#: an oblique view's recorded angle replaces it (:func:`camera_angle_deg`).
_VIEW_ANGLES = {View.ANTERIOR: 0.0, View.LAO: 45.0, View.LEFT_LATERAL: 90.0,
                View.RAO: -30.0}


def camera_angle_deg(acquisition: Acquisition) -> float | None:
    """The camera's angle from anterior towards the patient's left, in degrees, or None
    for a view of no known angle.

    An LAO view recorded at 30° or 60° is at that angle (an RAO view at minus its
    recorded angle); without a recorded angle, the standard one (LAO 45°, RAO 30°).
    """
    view, recorded = acquisition.view, acquisition.view_angle_deg
    if view is View.LAO and recorded is not None:
        return float(recorded)
    if view is View.RAO and recorded is not None:
        return -abs(float(recorded))
    return _VIEW_ANGLES.get(view)


@dataclass(frozen=True, slots=True)
class ViewProfile:
    """One static view oriented for display, with its profile or why there is none."""

    image: StaticImage
    pixels: Array
    flips: tuple[bool, bool]
    profile: Profile | None
    problem: str = ""
    ring_rank: int = 0
    ring_score_ratio: float = 1.0
    #: For the view that disagrees most with the others on the heart's position: by how
    #: much (mm, the larger of the height and the lateral inconsistency); 0 for the others.
    position_disagreement_mm: float = 0.0
    #: Pixels of a hot neighbour (a focus beside the heart much hotter than its wall) left
    #: out when the LV's outline was found (:func:`~.profiles.without_hot_neighbours`);
    #: 0 when there was none. The profile is measured on the image as acquired.
    hot_neighbour_pixels: int = 0


def _position_mm(image: StaticImage, pixels: Array, centre_rc: tuple[float, float]
                 ) -> tuple[float, float]:
    """(height, lateral) of an image point in mm from the image centre (down, right +)."""
    spacing = image.acquisition.pixel_spacing_mm or (1.0, 1.0)
    return ((centre_rc[0] - (pixels.shape[0] - 1) / 2) * spacing[0],
            (centre_rc[1] - (pixels.shape[1] - 1) / 2) * spacing[1])


#: Ring-shaped foci offered per view to the cross-view choice of the LV.
RING_CANDIDATES = 8
#: A ring taken instead of the view's best with less than this fraction of its score is an
#: uncertain LV (``LV_CHOICE_UNCERTAIN``, WARN): a hot liver or gut ring that outshines the
#: LV does so by a little (the LV at 0.56–0.89 of it on the development populations); the
#: rings below 0.5 taken in simulated Tl-201 normals were off the heart, and so is the ring
#: taken when one view's heart lies ≥ 3 cm higher or lower than in the others (the patient
#: or the table moved between views).
UNCERTAIN_RING_RATIO = 0.5
#: Largest cost (squared tolerances) of a disagreement on the heart's position: a view that
#: disagrees costs at most as much as taking a ring with none of its best ring's score, so
#: a view whose LV is not among its candidates (or that was taken after the patient or the
#: table moved) does not drag the other views off the heart; it is reported instead
#: (``LV_POSITION_DISAGREES``, WARN).
POSITION_CAP = 1.0
#: Tolerance (ratio) of the agreement between the views of one state on the ring's radius:
#: the LV's short axis is seen in every view, so its projected radius varies little.
SIZE_TOLERANCE = 2.0


def best_combination(prepared: list[tuple[StaticImage, Array, list[Ring]]],
                     alive: list[list[int]], geometries: list[dict[int, LVGeometry]]
                     ) -> tuple[dict[int, int], float, dict[int, float]]:
    """Per view index (views with a candidate): the ring chosen (index into its candidates),
    the combination's cost, and each chosen ring's disagreement with the others (mm).

    Cost of a combination = Σ loss of ring score relative to the view's best ring
    + min((worst disagreement on the heart's position / :data:`POSITION_TOLERANCE_MM`)²,
    :data:`POSITION_CAP`)
    + Σ (log of each ring's size over the median size / log :data:`SIZE_TOLERANCE`)²,
    where a ring's position is the centre of the ellipse fitted around it and its size the
    larger of the ring template's radius and the ellipse's short semi-axis. Each of the
    two falls short in its own way — the template locks onto the inner edge of a thick
    wall around a small cavity, the ellipse shrinks to the arc left by a large defect —
    and neither much exceeds the wall's radius.
    Views rotate about the patient's long axis: the heart is at the same height in all of
    them, and its lateral position in a view at camera angle θ is x cos θ + y sin θ for one
    point (x, y) of the transverse plane — with three views or more of known angles, the
    least-squares (x, y) must explain every view. All combinations are scored at once.
    """
    views = [i for i, rings in enumerate(alive) if rings]
    if len(views) < 2:
        return {i: alive[i][0] for i in views}, 0.0, {i: 0.0 for i in views}
    combos = np.array(list(itertools.product(*(alive[i] for i in views))))
    height = np.empty(combos.shape)
    lateral = np.empty(combos.shape)
    log_radius = np.empty(combos.shape)
    loss = np.empty(combos.shape)
    for j, i in enumerate(views):
        image, pixels, rings = prepared[i]
        table = {k: (*_position_mm(image, pixels, geometries[i][k].centre_rc),
                     np.log(max(rings[k][1], geometries[i][k].semi_axes_px[1])),
                     1.0 - rings[k][2] / rings[0][2])
                 for k in alive[i]}
        height[:, j], lateral[:, j], log_radius[:, j], loss[:, j] = np.array(
            [table[k] for k in combos[:, j]]).T
    deviation = np.abs(height - np.median(height, axis=1, keepdims=True))
    angles = {j: angle for j, i in enumerate(views)
              if (angle := camera_angle_deg(prepared[i][0].acquisition)) is not None}
    angled = list(angles)
    if len(angled) >= 3:
        theta = np.radians([angles[j] for j in angled])
        a = np.column_stack([np.cos(theta), np.sin(theta)])
        residual_op = np.eye(len(angled)) - a @ np.linalg.pinv(a)
        residuals = lateral[:, angled] @ residual_op.T
        deviation[:, angled] = np.maximum(deviation[:, angled], np.abs(residuals))
    worst = np.max(deviation, axis=1)
    sizes = np.sum(((log_radius - np.median(log_radius, axis=1, keepdims=True))
                    / np.log(SIZE_TOLERANCE)) ** 2, axis=1)
    cost = loss.sum(axis=1) + np.minimum((worst / POSITION_TOLERANCE_MM) ** 2, POSITION_CAP) \
        + sizes
    k = int(np.argmin(cost))
    return ({i: int(combos[k, j]) for j, i in enumerate(views)}, float(cost[k]),
            {i: float(deviation[k, j]) for j, i in enumerate(views)})


def view_profiles(images: Sequence[StaticImage], params: ProfileParams,
                  geometry_pixels: Sequence[Array | None] | None = None) -> list[ViewProfile]:
    """Profiles of the static views of one state, the LV chosen consistently across views.

    Each view offers up to :data:`RING_CANDIDATES` ring-shaped foci
    (:func:`ring_candidates`). The views of one acquisition rotate about the patient's long
    axis, so the true LV lies at the same height in all of them and (with three views of
    known angles) at lateral positions explained by one point of the transverse plane
    (:func:`best_combination`); its short axis, seen in every view, has about the same
    size.
    The combination chosen minimises the loss of ring score (relative to each view's best)
    plus the squared inconsistencies in tolerances (:data:`POSITION_TOLERANCE_MM`,
    :data:`SIZE_TOLERANCE`), so a hot liver, gut or breast edge that wins in one view does
    not take the LV's place. Only rings around which a myocardial ellipse can be fitted
    take part, with the ellipse's centre and size; the ellipses are fitted as needed — a
    ring whose loss of score alone exceeds the best combination's cost cannot be chosen and
    is never fitted. A chosen ring whose profile cannot be measured is dropped and the
    choice made again among the remaining rings — the replacement must still agree with
    the other views, rather than being simply the view's next-best focus.

    When a chosen view's ridge runs over a focus much hotter than its wall (a gut loop or
    an injection site beside the heart,
    :func:`~.profiles.without_hot_neighbours`), the choice is made once more with that
    focus replaced by the body around it in that view's ``geometry_pixels`` (oriented as
    displayed; the ring search and the ellipse fit use them, the profile the image as
    acquired, its rays that end on the focus not setting its normaliser). A view whose LV
    is then not found keeps its first outline, and so does one whose hot region lies on
    the wall found the second time (:func:`~.profiles.reaches_beyond_wall`: the wall left
    beside a large defect, not a neighbour).
    """
    prepared: list[tuple[StaticImage, Array, list[Ring]]] = []
    fitters: list[Callable[[Ring], LVGeometry] | None] = []
    flips_of: list[tuple[bool, bool]] = []
    problems: list[list[str]] = []
    # Each view's pixels replaced for the outline (a hot neighbour), None where none were.
    hot: list[NDArray[np.bool_] | None] = []
    for index, image in enumerate(images):
        pixels, flips = oriented_pixels(image)
        replaced = None if geometry_pixels is None else geometry_pixels[index]
        hot.append(None if replaced is None else np.asarray(replaced != pixels, dtype=bool))
        if replaced is not None:
            pixels = np.asarray(replaced)
        flips_of.append(flips)
        spacing = image.acquisition.pixel_spacing_mm
        rings: list[Ring] = []
        problem: list[str] = []
        if spacing is None:
            problem.append("pixel spacing unknown")
        else:
            try:
                rings = ring_candidates(pixels, spacing, params, k=RING_CANDIDATES)
            except LVNotFoundError as exc:
                problem.append(str(exc))
        prepared.append((image, pixels, rings))
        fitters.append(ring_fitter(pixels, spacing, params) if spacing and rings else None)
        problems.append(problem)
    geometries: list[dict[int, LVGeometry]] = [{} for _ in prepared]
    tried: list[set[int]] = [set() for _ in prepared]

    def fit(i: int, k: int) -> None:
        tried[i].add(k)
        fitter = fitters[i]
        assert fitter is not None
        try:
            geometries[i][k] = fitter(prepared[i][2][k])
        except LVNotFoundError as exc:
            problems[i].append(str(exc))

    profiles: dict[tuple[int, int], Profile] = {}
    while True:
        for i, (_, _, rings) in enumerate(prepared):
            # Every view with rings left takes part with at least one fitted ring.
            for k in range(len(rings)):
                if geometries[i] or k in tried[i]:
                    continue
                fit(i, k)
        alive = [sorted(g) for g in geometries]
        choice, cost, disagreement = best_combination(prepared, alive, geometries)
        pending = [(i, k) for i, (_, _, rings) in enumerate(prepared) if len(alive[i])
                   for k in range(len(rings))
                   if k not in tried[i] and 1.0 - rings[k][2] / rings[0][2] < cost]
        if pending:
            for i, k in pending:
                fit(i, k)
            continue
        failed = False
        for i, rank in choice.items():
            if (i, rank) in profiles:
                continue
            image, pixels, _ = prepared[i]
            spacing = image.acquisition.pixel_spacing_mm
            assert spacing is not None
            try:
                profiles[i, rank] = circumferential_profile(
                    oriented_pixels(image)[0], spacing, params, geometry=geometries[i][rank],
                    hot_neighbour=hot[i])
            except LVNotFoundError as exc:
                problems[i].append(str(exc))
                del geometries[i][rank]
                failed = True
        if not failed:
            break
    if geometry_pixels is None:
        tamed: list[Array | None] = [None] * len(prepared)
        cores: dict[int, NDArray[np.bool_]] = {}
        for i, rank in choice.items():
            image = prepared[i][0]
            spacing = image.acquisition.pixel_spacing_mm
            assert spacing is not None
            found = without_hot_neighbours(prepared[i][1], spacing, geometries[i][rank], params)
            if found is not None:
                tamed[i], _, cores[i] = found
        if cores:
            again = view_profiles(images, params, tamed)
            first = _profiles_out(prepared, flips_of, problems, choice, profiles,
                                  disagreement, hot)
            # A view keeps its first outline when its LV is not found again, or when the
            # hot region lies on the wall found without it (the wall beside a large
            # defect, not a neighbour).
            out = []
            for i, (a, b) in enumerate(zip(first, again, strict=True)):
                kept = b.profile is None or (i in cores and not reaches_beyond_wall(
                    cores[i], b.profile.geometry))
                out.append(a if kept and a.profile is not None else b)
            return out
    return _profiles_out(prepared, flips_of, problems, choice, profiles, disagreement, hot)


def _profiles_out(prepared: list[tuple[StaticImage, Array, list[Ring]]],
                  flips_of: list[tuple[bool, bool]], problems: list[list[str]],
                  choice: dict[int, int], profiles: dict[tuple[int, int], Profile],
                  disagreement: dict[int, float],
                  hot: Sequence[NDArray[np.bool_] | None]) -> list[ViewProfile]:
    """The :class:`ViewProfile` of each view once its ring is chosen (see
    :func:`view_profiles`; ``hot``: each view's pixels replaced for its outline)."""
    # The view that disagrees most with the others on the heart's position (reported by
    # the analysis when beyond the tolerance).
    worst_view = max(disagreement, key=lambda i: disagreement[i], default=None)
    out = []
    for i, (image, _, _) in enumerate(prepared):
        pixels = oriented_pixels(image)[0]
        replaced = hot[i]
        if i in choice:
            rings = prepared[i][2]
            out.append(ViewProfile(image, pixels, flips_of[i], profiles[i, choice[i]],
                                   ring_rank=choice[i],
                                   ring_score_ratio=rings[choice[i]][2] / rings[0][2],
                                   position_disagreement_mm=disagreement[i]
                                   if i == worst_view else 0.0,
                                   hot_neighbour_pixels=0 if replaced is None else
                                   int(np.count_nonzero(replaced))))
        else:
            out.append(ViewProfile(image, pixels, flips_of[i], None,
                                   "; ".join(dict.fromkeys(problems[i]))))
    return out


#: Stress/rest ratio of one view's LV ellipse area below which the stress ellipse is taken
#: to have collapsed onto part of the wall. Stress does not shrink the ventricle (it may
#: dilate it: transient ischaemic dilation, abnormal above 1.12), and the same patient's
#: two images of one view show the same heart. Over our six simulated populations (2130
#: view pairs) the ratio lies within 0.82–1.22 for 90%, while a stress ellipse fitted to
#: the bright half of a ring (beside a defect, or a hot inferior edge) falls to 0.2–0.6.
STRESS_REST_MIN_AREA_RATIO = 2.0 / 3.0
#: ... and above which it is taken to have spread beyond the wall: the bound symmetric to
#: the lower one (3/2), above any transient ischaemic dilation (planar TID is abnormal
#: above 1.12, and severe near 1.3). A stress fit that takes in a neighbouring organ or
#: bridges a defect to the background beyond it samples the ring outside the wall. Over 738
#: stress/rest view pairs of simulated normals (the same heart in both) the ratio's 99.5th
#: percentile was 1.36; 3 exceeded 1.5, each with a wall reading as a deep defect at stress
#: only (docs/validation.md, fourteenth session).
STRESS_REST_MAX_AREA_RATIO = 3.0 / 2.0


def rest_to_stress_shift_px(stress_pixels: Array, rest_pixels: Array,
                            spacing: tuple[float, float], rest_centre_rc: tuple[float, float],
                            p: PerfusionParams) -> Array:
    """Where the rest image's heart lies in the stress image, relative (rows, columns; px):
    the two images registered around the rest LV centre (:func:`frame_displacements`)."""
    pair = np.stack([rest_pixels / max(float(rest_pixels.sum()), 1.0),
                     stress_pixels / max(float(stress_pixels.sum()), 1.0)])
    moved_mm = frame_displacements(pair, spacing, p.motion, rest_centre_rc)
    return np.asarray((moved_mm[1] - moved_mm[0]) / np.asarray(spacing), dtype=np.float64)


def rings_from_rest(measured: dict[str, list[ViewProfile]], p: PerfusionParams,
                    findings: list[Finding]) -> None:
    """Re-measure a stress view whose LV ellipse is much smaller or much larger than the
    rest one (:data:`STRESS_REST_MIN_AREA_RATIO`, :data:`STRESS_REST_MAX_AREA_RATIO`).

    The rest ellipse, moved by the displacement between the two images (registered around
    the heart, :func:`frame_displacements`), is used for the stress profile. Views of
    different matrices or pixel sizes are left alone. Changes ``measured`` in place.
    """
    stress_key = next((k for k in measured if State(k).is_stress), None)
    rest_key = next((k for k in measured if state_group(State(k)) == "rest"), None)
    if stress_key is None or rest_key is None:
        return
    rest_by_view = {vp.image.acquisition.view: vp for vp in measured[rest_key]}
    for i, vp in enumerate(measured[stress_key]):
        rest = rest_by_view.get(vp.image.acquisition.view)
        if vp.profile is None or rest is None or rest.profile is None:
            continue
        spacing = vp.image.acquisition.pixel_spacing_mm
        if spacing is None or spacing != rest.image.acquisition.pixel_spacing_mm \
                or vp.pixels.shape != rest.pixels.shape:
            continue
        stress_g, rest_g = vp.profile.geometry, rest.profile.geometry
        ratio = stress_g.area_px() / rest_g.area_px()
        if STRESS_REST_MIN_AREA_RATIO <= ratio <= STRESS_REST_MAX_AREA_RATIO:
            continue
        shift_rc = rest_to_stress_shift_px(vp.pixels, rest.pixels, spacing, rest_g.centre_rc,
                                           p)
        geometry = replace(rest_g,
                           centre_rc=(rest_g.centre_rc[0] + float(shift_rc[0]),
                                      rest_g.centre_rc[1] + float(shift_rc[1])),
                           ridge_points_rc=rest_g.ridge_points_rc + shift_rc)
        try:
            profile = circumferential_profile(vp.pixels, spacing, p.profile, geometry=geometry)
        except LVNotFoundError:
            continue
        measured[stress_key][i] = replace(vp, profile=profile)
        findings.append(Finding(
            "LV_RING_FROM_REST", Level.INFO,
            f"{vp.image.acquisition.display_name}: the LV ellipse fitted at stress "
            f"enclosed {ratio:.2f}× the rest one's area — "
            + ("fitted to part of the wall" if ratio < 1 else "spread beyond the wall")
            + "; the stress profile is measured with the rest ellipse, moved by "
            f"{float(np.hypot(*(shift_rc * np.asarray(spacing)))):.1f} mm (the two images "
            "registered)", vp.image.acquisition.series_instance_uid))
