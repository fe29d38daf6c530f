"""Perfusion analysis of a planar study: every static view of every state, and their pairs.

:func:`analyze_perfusion` runs the profile pipeline on each anterior, LAO and left-lateral
static view (other angles get a profile but no comparison: there are no limits for them),
compares each with the normal limits of its view, state, tracer and sex, scores the 15
segments, names territories, measures the anterior lung/heart ratio, looks for the known
artefacts, and, with stress and rest (or redistribution) images, judges reversibility per
segment, the planar transient ischaemic dilation ratio and (Tl-201) washout.

The verdict (normal / equivocal / abnormal) is taken on the stress images (the only state
otherwise) from the summed segment score; thresholds are :class:`PerfusionParams`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from planarmpi.analysis.perfusion.motion import (
    MotionParams,
    frame_displacements,
    framed_static_view,
    summed_view,
)
from planarmpi.analysis.perfusion.normals import (
    VIEW_NAMES,
    NormalLimits,
    ViewLimits,
    best_shift,
    builtin_limits,
    difference_noise_sd,
    scaled_difference,
    select_limits,
    state_group,
    tracer_group,
)
from planarmpi.analysis.perfusion.profiles import (
    LVGeometry,
    LVNotFoundError,
    Profile,
    ProfileParams,
    Ring,
    circumferential_profile,
    corrected_image,
    display_flips,
    ring_candidates,
    ring_fitter,
)
from planarmpi.analysis.perfusion.scoring import (
    ScoringParams,
    ViewDefects,
    in_arc,
    runs_below,
    score_view,
    segment_arcs,
    territory_weights,
)
from planarmpi.analysis.perfusion.territory import TerritoryParams, fit_territories
from planarmpi.analysis.perfusion.tid import TIDParams, lv_size_ratio
from planarmpi.model import (
    Acquisition,
    Finding,
    Level,
    SeriesKind,
    Sex,
    State,
    StaticImage,
    Study,
    Tracer,
    View,
)
from planarmpi.model.segments import view_of, views_of

__all__ = ["PerfusionParams", "PerfusionResult", "analyze_perfusion", "attenuation_pattern",
           "camera_angle_deg", "lung_heart_ratio", "oriented_pixels", "segment_reversibility",
           "view_limits_for"]

Array = NDArray[np.float64]

#: Lung/heart ratio upper limits of normal (anterior view), Wackers p.100 (domain notes).
LHR_LIMITS = {"tl201": 0.50, "tc99m": 0.42}
#: The largest summed score an attenuation pattern may reach (ours: attenuation lowers a
#: few segments mildly or moderately, it does not make an extensive defect).
ATTENUATION_MAX_SUMMED_SCORE = 5
#: Attenuation patterns: the segments they lower, who has them, the territory they mimic.
ATTENUATION_PATTERNS: dict[str, tuple[frozenset[str], Sex, str]] = {
    "breast attenuation": (frozenset({"ANT-1", "ANT-2", "LLAT-1", "LLAT-2", "LLAT-3", "LAO-1"}),
                           Sex.FEMALE, "LAD"),
    "diaphragmatic attenuation": (frozenset({"ANT-4", "ANT-5", "LLAT-4", "LLAT-5", "LAO-3"}),
                                  Sex.MALE, "RCA"),
}
#: The segments a breast overlies in the left lateral view, its anterior wall and apex: in a
#: woman, a fixed reduction of any depth confined to them (the other views normal) is the
#: breast's shadow (:func:`breast_shadow`, docs/perfusion.md §6).
LATERAL_BREAST_SHADOW = frozenset({"LLAT-1", "LLAT-2", "LLAT-3"})
#: ... and in the LAO view, the septum and inferoapex: the same rule, the LAO view's segments
#: alone (docs/perfusion.md §6; since 2026-12-02). Two women normals whose LAO-1 to -3 read
#: 3–4 at stress and rest read normal when simulated again without the breast.
LAO_BREAST_SHADOW = frozenset({"LAO-1", "LAO-2", "LAO-3"})
#: Each breast shadow and the walls it covers, as a message names them.
BREAST_SHADOWS: dict[frozenset[str], str] = {
    LATERAL_BREAST_SHADOW: "the left lateral view's anterior wall and apex",
    LAO_BREAST_SHADOW: "the LAO view's septum and inferoapex",
}
#: Tl-201 physical half-life (hours), for washout decay correction.
TL201_HALF_LIFE_H = 73.1


def attenuation_pattern(scores: Mapping[str, int], sex: Sex) -> str | None:
    """The attenuation pattern that reduced segments (key → score > 0) fit, if any.

    Attenuation reduces counts mildly or moderately, in the segments under the breast (women)
    or over the diaphragm (men): every reduced segment must lie in the pattern, none may be
    scored above 2, and the summed score may not exceed ATTENUATION_MAX_SUMMED_SCORE.
    In a woman, a reduction of any depth confined to the left lateral view's anterior wall
    and apex (:data:`LATERAL_BREAST_SHADOW`), or to the LAO view's septum and inferoapex
    (:data:`LAO_BREAST_SHADOW`), is the breast's shadow too (:func:`breast_shadow`).
    """
    name = _mild_pattern(scores, sex)
    if name is None and breast_shadow(scores, sex) is not None:
        return "breast attenuation"
    return name


def _mild_pattern(scores: Mapping[str, int], sex: Sex) -> str | None:
    """The mild attenuation pattern (:data:`ATTENUATION_PATTERNS`, no segment above 2,
    summed ≤ :data:`ATTENUATION_MAX_SUMMED_SCORE`) that reduced segments fit, if any."""
    reduced = {k: v for k, v in scores.items() if v > 0}
    if not reduced:
        return None
    for name, (keys, who, _) in ATTENUATION_PATTERNS.items():
        if sex is who and set(reduced) <= keys and max(reduced.values()) <= 2 \
                and sum(reduced.values()) <= ATTENUATION_MAX_SUMMED_SCORE:
            return name
    return None


def breast_shadow(scores: Mapping[str, int], sex: Sex) -> str | None:
    """The walls of the breast's shadow (:data:`BREAST_SHADOWS`) under which all of a
    woman's reduced segments (key → score > 0) lie, at any depth, or None: the left lateral
    view's (:data:`LATERAL_BREAST_SHADOW`) or the LAO view's (:data:`LAO_BREAST_SHADOW`). Where
    only the place is checked: :func:`_artefacts` also asks that each segment be reduced
    again at rest.

    A large breast lies between the anterior wall and the camera in the left lateral view
    and can lower that wall's counts by half (Tc-99m: ~0.15/cm of soft tissue), deeper than
    the mild pattern allows. A defect in the anterior wall deep enough for that, and large
    enough to matter, projects onto the anterior or LAO view as well (their anterolateral,
    apical or septal segments); one seen in the lateral view alone cannot be told from the
    shadow on these images. On our simulated populations (1310 stress/rest studies) this
    pattern was fixed in 6 normal women called abnormal, and in 4 studies with a significant
    defect, two of them in another territory that the images did not show
    (docs/validation.md).
    """
    reduced = {k for k, v in scores.items() if v > 0}
    if sex is not Sex.FEMALE or not reduced:
        return None
    return next((walls for keys, walls in BREAST_SHADOWS.items() if reduced <= keys), None)


@dataclass(frozen=True, slots=True)
class PerfusionParams:
    """Settings of the perfusion analysis.

    Attributes
    ----------
    profile : ProfileParams
    scoring : ScoringParams
    territory : TerritoryParams
    abnormal_summed_score : int
        Summed stress score (15 segments) at or above which a study is abnormal.
    equivocal_summed_score : int
        Summed score at or above which (and below ``abnormal_summed_score``) it is
        equivocal. Both are ours (planar scoring has no guideline cut-off), chosen on a
        development population of 100 simulated studies (seeds 820000+) that is not the
        benchmark's (docs/validation.md); configurable.
    low_counts_per_pixel : float
        Maximal LV counts per pixel below which a view is suboptimal (Wackers: 100).
    tid_limit : float
        Planar TID ratio (stress/rest LV area, anterior view) above which dilation is
        abnormal (Weiss, JACC 1987: 1.12).
    max_registration_deg : float
        Largest rotation searched when aligning a rest profile to the stress profile.
    extracardiac_ratio : float
        Activity next to the inferior wall at or above this fraction of the myocardial
        maximum is reported as extracardiac activity.
    reversibility_min_improvement_percent : float
        A segment abnormal at stress and at rest is partly reversible ("mixed") when its
        rest uptake is higher by at least this percentage of the normal mean; else fixed
        ("scar"). Abnormal at stress and normal at rest is ischaemia when it improves by
        as much (``reversible_needs_improvement``).
    motion : MotionParams
        Patient motion in views acquired in time frames (:mod:`.motion`).
    tid_measure : TIDParams
        How the planar TID ratio is measured (:mod:`.tid`); ``tid_limit`` judges it.
    paired_segment_score : int
        With stress and rest images and limits of the paired difference, each segment with
        a significant stress-induced reduction (the stress − rest difference below its
        normal limits, :func:`_paired_difference`) that the stress score did not count adds
        this to the summed score for the abnormal verdict: the patient is his own control,
        so a reduction hidden by the population's spread (breasts, habitus) can still be
        seen. 1 (a mildly reduced segment); 0 turns it off. Chosen on the development
        populations (docs/validation.md).
    paired_min_views : int
        The segments of ``paired_segment_score`` count only when they and the reduced
        stress segments lie in at least this many views. Every coronary territory has walls
        seen edge-on in two or three of the planar views, so a stress-induced reduction of
        a territory shows in more than one view; a difference confined to one view is that
        view's repositioning (a breast lying differently at stress and at rest) as often
        as ischaemia. On 1310 simulated development studies, 5 of the 10 normals that the
        paired segments made abnormal had them in one view alone, against 1 of 44 studies
        with a significant defect (docs/validation.md). 1 turns it off; a study with
        fewer views compared at stress and rest needs them all (:func:`_paired_views`).
    reversible_needs_improvement : bool
        A segment abnormal at stress and within the limits at rest is ischaemia only when
        its rest uptake is higher by ``reversibility_min_improvement_percent`` of the
        normal mean or the paired difference shows it stress-induced; otherwise its
        reduction is unchanged at rest — it crossed the rest limits without improving (the
        rest limits are wider, the rest profile normalised differently) — and it is fixed
        (``scar``). Reversibility is improvement at rest, not a score crossing a limit. On
        the fourteen check draws (2100 simulated studies, 976 detected significant
        defects) correct reversibility 842 → 856; no verdict or territory changed
        (docs/validation.md). False: normal at rest is ischaemia whatever the uptake did.
    territory_reversibility : bool
        The overall reversibility is ``mixed`` when the named territories' own
        reversibilities differ (one ischaemic, another scarred or mixed), whatever their
        shares of the summed score (:func:`_reversibility_by_territory`;
        ``reversibility.territories`` is reported either way). On 1610 simulated
        development studies: 745 detected with stress and rest images, correct
        reversibility 638 → 646 (14 mixed studies found, 6 read mixed wrongly — each
        naming a territory without a defect) (docs/validation.md). False uses the shares
        alone.
    view_angle_tolerance_deg : float
        An oblique (LAO) view whose recorded camera angle lies farther than this outside the
        range of the angles recorded for the normal limits' views is not compared with
        them (finding ``VIEW_ANGLE_OUTSIDE_LIMITS``; profile reported, no segments): a
        planar projection changes with the camera angle, and the limits hold only the
        normals' own. The normals of the built-in limits were simulated at LAO 45°. The
        same 8 simulated normal men and women seen at LAO 30–60° and scored against them
        (docs/validation.md): at 30–40° none had a reduced LAO segment, at 45° and 50° the
        same one woman, at 55° three and at 60° four (septal or inferoapical, LAO summed
        scores 4–9): the tolerance is 5°. A view without a recorded angle, or limits
        without recorded angles (files built before they were kept), are compared as
        before.
    paired_unconfirmed_normal : bool
        A stress score that alone makes the study equivocal is set aside — the verdict is
        normal — when the same patient's rest images are normal (summed score below
        ``equivocal_summed_score``), none of the reduced stress segments is reduced at rest,
        and the paired stress − rest difference shows no stress-induced reduction anywhere
        (:func:`_unconfirmed_by_rest`): a reduction that is neither fixed nor reversible is
        the patient's profile lying near the population's limit, within his own stress–rest
        reproducibility (the paired difference's SD is a third of the population's).
        Needs the paired difference's limits for every view with a reduced segment.
    unconfirmed_abnormal_max_views : int
        The same contradiction sets aside a stress score that alone makes the study
        *abnormal* when its reduced segments lie in at most this many views (0: never).
        Every coronary territory has walls seen in two or three views; a reduction in one
        view that is neither seen at rest nor stress-induced against the same patient's rest
        image is that view's positioning or attenuation, not a defect.
    noise_widening_note_percent : float
        A view whose limits were widened for its counting noise by at least this much (mean
        over the angles, %; ``ScoringParams.noise_widening``) gets the finding
        ``PERFUSION_LIMITS_WIDENED_FOR_NOISE``: the reader should know that a mild defect
        may stay within limits made wider by the study's own noise. Ours, not a guideline's.
    fixed_min_views : int
        A segment reduced at stress and at rest (classified ``scar`` or ``mixed``) counts
        in the overall reversibility only when the rest images show a reduction sharing
        one of its territories in at least this many views (:func:`_corroborated_at_rest`).
        A fixed defect of a few percent of the LV projects onto two or three of the planar
        views; a reduction seen at rest in one view alone is that view's habitus (breast,
        diaphragm) as often as scar: on 326 detected stress/rest studies of our simulated
        populations, 136 of the 184 one-view fixed segments lay outside the territories
        of the true fixed defects, against 74 of 340 seen in two or more views
        (docs/validation.md). 1 turns it off. Such a segment keeps its classification and
        is marked ``corroborated_at_rest: false``.
    extra_territory_min_views : int
        With stress and rest images and an abnormal verdict, a territory that the stress
        images' fit did not name is added when the rest images' fit (a fixed defect beside
        a reversible one) or the paired difference's fit (a reversible one beside a fixed
        one) names it with its reduced segments in at least this many views
        (:func:`_territories_seen_elsewhere`; ``territory_sources`` says which). The stress
        fit names the larger loss and often misses a second vessel; the rest and paired
        images each hold one part of a mixed study. Over 326 detected studies of six
        simulated populations the territories were right in 240 without it, 252 with it
        (docs/validation.md). 0 turns it off.
    attenuation_normal_motion_is_normal : bool
        When the only reductions have an attenuation pattern (breast, diaphragm, the
        breast's lateral shadow: :func:`_artefacts`; fixed at rest, none stress-induced),
        the rest images do not confirm a fixed defect there, and the gated images show
        normal wall motion in the territory the pattern mimics, the verdict is normal, the
        artefact named with the reason: the attenuation pattern with normal wall motion is
        what the issue and the domain notes call an artefact, not a defect ("a good system
        names the likely artefact instead of calling a defect"; gated planar sestamibi wall
        motion agrees with echocardiography in ≥ 93%, JACC 1994;23:141). Without gated
        wall motion, or with it reduced there, such a study stays equivocal. False keeps
        it equivocal whatever the wall motion.
    """

    profile: ProfileParams = field(default_factory=ProfileParams)
    scoring: ScoringParams = field(default_factory=ScoringParams)
    territory: TerritoryParams = field(default_factory=TerritoryParams)
    abnormal_summed_score: int = 3
    equivocal_summed_score: int = 2
    low_counts_per_pixel: float = 100.0
    tid_limit: float = 1.12
    max_registration_deg: float = 12.0
    extracardiac_ratio: float = 0.5
    reversibility_min_improvement_percent: float = 10.0
    paired_segment_score: int = 1
    paired_min_views: int = 2
    territory_reversibility: bool = True
    reversible_needs_improvement: bool = True
    view_angle_tolerance_deg: float = 5.0
    paired_unconfirmed_normal: bool = True
    unconfirmed_abnormal_max_views: int = 1
    noise_widening_note_percent: float = 10.0
    fixed_min_views: int = 2
    extra_territory_min_views: int = 2
    attenuation_normal_motion_is_normal: bool = True
    motion: MotionParams = field(default_factory=MotionParams)
    tid_measure: TIDParams = field(default_factory=TIDParams)

    def __post_init__(self) -> None:
        # Each value out of its range would silently turn a rule off or make every study
        # fail it; a site's settings file reaches here (settings.py), so refuse it.
        if not 1 <= self.equivocal_summed_score <= self.abnormal_summed_score:
            raise ValueError("summed-score thresholds must satisfy 1 ≤ equivocal_summed_score "
                             f"≤ abnormal_summed_score, got {self.equivocal_summed_score} and "
                             f"{self.abnormal_summed_score}")
        checks = (
            ("low_counts_per_pixel", self.low_counts_per_pixel, 0.0, 10000.0),
            ("tid_limit", self.tid_limit, 1.0, 2.0),
            ("max_registration_deg", self.max_registration_deg, 0.0, 45.0),
            ("extracardiac_ratio", self.extracardiac_ratio, 0.0, 5.0),
            ("reversibility_min_improvement_percent",
             self.reversibility_min_improvement_percent, 0.0, 100.0),
            ("paired_segment_score", self.paired_segment_score, 0, 4),
            ("paired_min_views", self.paired_min_views, 1, 3),
            ("view_angle_tolerance_deg", self.view_angle_tolerance_deg, 0.0, 90.0),
            ("fixed_min_views", self.fixed_min_views, 1, 6),
            ("unconfirmed_abnormal_max_views", self.unconfirmed_abnormal_max_views, 0, 3),
            ("noise_widening_note_percent", self.noise_widening_note_percent, 0.0, 1000.0),
            ("extra_territory_min_views", self.extra_territory_min_views, 0, 6),
        )
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise ValueError(f"{name} must be within {low:g}–{high:g}, got {value}")


@dataclass(frozen=True, slots=True)
class ViewAnalysis:
    """One static view: profile, comparison (if limits exist) and measurements."""

    image: StaticImage
    pixels: Array
    profile: Profile
    defects: ViewDefects | None
    max_lv_counts_per_pixel: float
    lv_area_cm2: float
    extracardiac: dict[str, Any] | None
    #: How the view's LV ring was chosen across views (as in :class:`ViewProfile`).
    ring_rank: int = 0
    ring_score_ratio: float = 1.0
    position_disagreement_mm: float = 0.0


@dataclass(frozen=True, slots=True)
class PerfusionResult:
    """Everything the perfusion analysis found (``to_json`` for result.json)."""

    section: dict[str, Any]
    findings: tuple[Finding, ...]


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


def view_limits_for(limits: NormalLimits, acquisition: Acquisition, tolerance_deg: float
                    ) -> tuple[ViewLimits | None, str]:
    """The limits of a view and state, or None and why they do not apply.

    Limits that recorded their normals' camera angles (``view_angle_range_deg``) apply to
    a view whose recorded angle lies within that range widened by ``tolerance_deg``; a view
    with no recorded angle is taken to match.
    """
    found = limits.for_view(acquisition.view, acquisition.state)
    recorded = acquisition.view_angle_deg
    if found is None or found.view_angle_range_deg is None or recorded is None:
        return found, ""
    low, high = found.view_angle_range_deg
    if low - tolerance_deg <= recorded <= high + tolerance_deg:
        return found, ""
    normals = f"{low:g}°" if low == high else f"{low:g}–{high:g}°"
    return None, (f"{acquisition.view.value} {recorded:g}° lies outside the angles of the "
                  f"normal limits' {found.view} views ({normals}, ± {tolerance_deg:g}°)")


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


def _best_combination(prepared: list[tuple[StaticImage, Array, list[Ring]]],
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


def view_profiles(images: Sequence[StaticImage], params: ProfileParams) -> list[ViewProfile]:
    """Profiles of the static views of one state, the LV chosen consistently across views.

    Each view offers up to :data:`RING_CANDIDATES` ring-shaped foci
    (:func:`ring_candidates`). The views of one acquisition rotate about the patient's long
    axis, so the true LV lies at the same height in all of them and (with three views of
    known angles) at lateral positions explained by one point of the transverse plane
    (:func:`_best_combination`); its short axis, seen in every view, has about the same
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
    """
    prepared: list[tuple[StaticImage, Array, list[Ring]]] = []
    fitters: list[Callable[[Ring], LVGeometry] | None] = []
    flips_of: list[tuple[bool, bool]] = []
    problems: list[list[str]] = []
    for image in images:
        pixels, flips = oriented_pixels(image)
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
        choice, cost, disagreement = _best_combination(prepared, alive, geometries)
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
                profiles[i, rank] = circumferential_profile(pixels, spacing, params,
                                                            geometry=geometries[i][rank])
            except LVNotFoundError as exc:
                problems[i].append(str(exc))
                del geometries[i][rank]
                failed = True
        if not failed:
            break
    # The view that disagrees most with the others on the heart's position (reported by
    # the analysis when beyond the tolerance).
    worst_view = max(disagreement, key=lambda i: disagreement[i], default=None)
    out = []
    for i, (image, pixels, _) in enumerate(prepared):
        if i in choice:
            rings = prepared[i][2]
            out.append(ViewProfile(image, pixels, flips_of[i], profiles[i, choice[i]],
                                   ring_rank=choice[i],
                                   ring_score_ratio=rings[choice[i]][2] / rings[0][2],
                                   position_disagreement_mm=disagreement[i]
                                   if i == worst_view else 0.0))
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


def _rest_to_stress_shift_px(stress_pixels: Array, rest_pixels: Array,
                             spacing: tuple[float, float], rest_centre_rc: tuple[float, float],
                             p: PerfusionParams) -> Array:
    """Where the rest image's heart lies in the stress image, relative (rows, columns; px):
    the two images registered around the rest LV centre (:func:`frame_displacements`)."""
    pair = np.stack([rest_pixels / max(float(rest_pixels.sum()), 1.0),
                     stress_pixels / max(float(stress_pixels.sum()), 1.0)])
    moved_mm = frame_displacements(pair, spacing, p.motion, rest_centre_rc)
    return np.asarray((moved_mm[1] - moved_mm[0]) / np.asarray(spacing), dtype=np.float64)


def _planar_tid(s: ViewAnalysis, r: ViewAnalysis, p: PerfusionParams) -> dict[str, Any]:
    """Planar TID of one view pair (:mod:`.tid`), with the ellipse areas for reference."""
    out: dict[str, Any] = {
        "ratio": None, "upper_limit": p.tid_limit, "abnormal": None,
        "stress_area_cm2": s.lv_area_cm2, "rest_area_cm2": r.lv_area_cm2,
        "ellipse_area_ratio": s.lv_area_cm2 / r.lv_area_cm2 if r.lv_area_cm2 > 0 else None,
        "method": "stress/rest area enclosed by the LV wall where both images show it: "
                  "the rest wall scaled and moved onto the stress wall (least squares), "
                  "ratio = scale²",
        "source": "Weiss, JACC 1987 (planar TID, anterior view)"}
    spacing = s.image.acquisition.pixel_spacing_mm
    if spacing is None or spacing != r.image.acquisition.pixel_spacing_mm \
            or s.pixels.shape != r.pixels.shape:
        out["problem"] = ("the stress and rest images differ in matrix or pixel size: "
                          "TID not measured")
        return out
    shift = _rest_to_stress_shift_px(s.pixels, r.pixels, spacing, r.profile.geometry.centre_rc,
                                     p)
    m = lv_size_ratio(corrected_image(s.pixels, s.profile.background, spacing, p.profile),
                      corrected_image(r.pixels, r.profile.background, spacing, p.profile),
                      r.profile.geometry, (float(shift[0]), float(shift[1])), p.tid_measure)
    out.update(ratio=m.ratio, rays_used=m.rays_used, rays_total=m.rays_total,
               registration_shift_mm=[round(float(x), 3) for x in shift * np.asarray(spacing)])
    if m.ratio is None:
        out["problem"] = f"TID not measured: {m.problem}"
    else:
        out["abnormal"] = bool(m.ratio > p.tid_limit)
    return out


def _rings_from_rest(measured: dict[str, list[ViewProfile]], p: PerfusionParams,
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
        shift_rc = _rest_to_stress_shift_px(vp.pixels, rest.pixels, spacing, rest_g.centre_rc,
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


def _myocardial_mask(profile: Profile, shape: tuple[int, int], inner: float,
                     outer: float) -> NDArray[np.bool_]:
    """Pixels between ``inner`` and ``outer`` × the ridge radius around the LV centre."""
    g = profile.geometry
    rr, cc = np.indices(shape, dtype=np.float64)
    dr, dc = rr - g.centre_rc[0], cc - g.centre_rc[1]
    dist = np.hypot(dr, dc)
    angle = np.degrees(np.arctan2(dc, -dr)) % 360.0
    step = 360.0 / g.ridge_radius_px.size
    ridge = np.interp(angle, np.arange(g.ridge_radius_px.size) * step, g.ridge_radius_px,
                      period=360.0)
    return np.asarray((dist >= inner * ridge) & (dist <= outer * ridge))


def lung_heart_ratio(pixels: Array, profile: Profile,
                     pixel_spacing_mm: tuple[float, float]) -> dict[str, Any]:
    """Anterior-view lung/heart ratio: mean counts per pixel, lung ROI over myocardial ROI.

    Myocardial ROI: the wall pixels (0.7–1.3 ridge radii) at or above half the wall's
    maximum. Lung ROI: a square of side 0.8 × the LV's short diameter over the left lung,
    centred 1 cm above the top of the LV on the LV centre's column (the left lung above
    the heart in the anterior view), avoiding the heart. Raw counts, no background
    subtraction (as the ratio is defined).
    """
    g = profile.geometry
    smooth = ndimage.gaussian_filter(pixels, 1.0)
    wall = _myocardial_mask(profile, pixels.shape, 0.7, 1.3)
    myo_roi = wall & (smooth >= 0.5 * smooth[wall].max())
    top = g.centre_rc[0] - float(np.max(g.ridge_radius_px)) * 1.3
    side = max(2, round(0.8 * g.semi_axes_px[1] * 2))
    gap = 10.0 / pixel_spacing_mm[0]
    r1 = round(top - gap)
    r0 = r1 - side
    c0 = round(g.centre_rc[1] - side / 2)
    if r0 < 0 or c0 < 0 or c0 + side > pixels.shape[1]:
        return {"value": None, "reason": "the lung ROI falls outside the image"}
    lung = pixels[r0:r1, c0:c0 + side]
    return {
        "value": float(lung.mean() / pixels[myo_roi].mean()),
        "lung_roi_rc": [r0, c0, r1, c0 + side],
        "myocardial_roi_pixels": int(myo_roi.sum()),
    }


def _extracardiac(pixels: Array, profile: Profile, params: PerfusionParams,
                  pixel_spacing_mm: tuple[float, float]) -> dict[str, Any]:
    """Activity below the inferior wall (within 3 cm of it, 120–240° of the display)."""
    g = profile.geometry
    rows, cols = np.indices(pixels.shape, dtype=np.float64)
    dr, dc = rows - g.centre_rc[0], cols - g.centre_rc[1]
    angle = np.degrees(np.arctan2(dc, -dr)) % 360.0
    dist = np.hypot(dr, dc)
    outer = float(np.max(g.ridge_radius_px))
    band = ((angle >= 120) & (angle <= 240) & (dist > 1.45 * outer)
            & (dist <= 1.45 * outer + 30.0 / pixel_spacing_mm[0]))
    smooth = ndimage.gaussian_filter(pixels, 1.5)
    wall = _myocardial_mask(profile, pixels.shape, 0.7, 1.3)
    myo_max = float(smooth[wall].max())
    if not band.any() or myo_max <= 0:
        return {"ratio": None}
    ratio = float(smooth[band].max() / myo_max)
    # Does it reach the profile? Its activity inside the search band of the inferior rays,
    # or on the background box edge below the heart, changes the profile.
    _, r1, c0, c1 = profile.box
    bottom_edge = smooth[min(r1, pixels.shape[0]) - 1, max(c0, 0):min(c1, pixels.shape[1])]
    edge_ratio = float(bottom_edge.max() / myo_max) if bottom_edge.size else 0.0
    affects = bool(ratio >= params.extracardiac_ratio and edge_ratio >= 0.5 * ratio)
    return {"ratio": ratio, "background_edge_ratio": edge_ratio, "affects_profile": affects}


def _analyze_view(vp: ViewProfile, limits: NormalLimits | None, params: PerfusionParams,
                  findings: list[Finding]) -> ViewAnalysis | None:
    image, pixels, flips = vp.image, vp.pixels, vp.flips
    acq = image.acquisition
    name = acq.display_name
    if acq.pixel_spacing_mm is None:
        findings.append(Finding("PERFUSION_NO_SPACING", Level.WARN,
                                f"{name}: pixel spacing unknown: no perfusion profile",
                                acq.series_instance_uid))
        return None
    if any(flips):
        orientation = "\\".join(acq.patient_orientation or ())
        findings.append(Finding(
            "IMAGE_REORIENTED", Level.INFO,
            f"{name}: Patient Orientation {orientation} — image "
            f"{'flipped top-bottom ' if flips[0] else ''}"
            f"{'mirrored left-right ' if flips[1] else ''}to the standard display",
            acq.series_instance_uid))
    if vp.profile is None:
        findings.append(Finding("LV_NOT_FOUND", Level.FAIL,
                                f"{name} ({acq.source_file}): no LV found: {vp.problem}",
                                acq.series_instance_uid))
        return None
    profile = vp.profile
    if vp.ring_rank and vp.ring_score_ratio < UNCERTAIN_RING_RATIO:
        findings.append(Finding(
            "LV_CHOICE_UNCERTAIN", Level.WARN,
            f"{name}: the brightest ring-shaped focus disagreed with the other views on the "
            f"heart's position, and the ring taken instead (no. {vp.ring_rank + 1}) has only "
            f"{vp.ring_score_ratio:.0%} of its score: if the patient or the table moved "
            "between views, this view's LV outline and profile are wrong — check the figure",
            acq.series_instance_uid))
    elif vp.ring_rank:
        findings.append(Finding(
            "LV_CHOSEN_ACROSS_VIEWS", Level.INFO,
            f"{name}: the brightest ring-shaped focus disagreed with the other views on the "
            f"heart's position (liver, gut or breast?); ring no. {vp.ring_rank + 1} was taken",
            acq.series_instance_uid))
    if vp.position_disagreement_mm > POSITION_TOLERANCE_MM * np.sqrt(POSITION_CAP):
        findings.append(Finding(
            "LV_POSITION_DISAGREES", Level.WARN,
            f"{name}: the LVs outlined in the views of this acquisition disagree by "
            f"{vp.position_disagreement_mm:.0f} mm on the heart's position, most in this view "
            f"(tolerance {POSITION_TOLERANCE_MM:g} mm): the patient or the table moved "
            "between views, or one view's LV is not the one outlined — check the figure",
            acq.series_instance_uid))
    wall = _myocardial_mask(profile, pixels.shape, 0.5, 1.6)
    max_counts = float(pixels[wall].max())
    if max_counts < params.low_counts_per_pixel:
        findings.append(Finding(
            "LOW_LV_COUNTS_PERFUSION", Level.WARN,
            f"{name}: maximal LV counts {max_counts:.0f}/pixel, below "
            f"{params.low_counts_per_pixel:g} (Wackers): suboptimal, defects may be noise",
            acq.series_instance_uid))
    view_limits, angle_problem = view_limits_for(limits, acq, params.view_angle_tolerance_deg) \
        if limits else (None, "")
    defects = None
    if view_limits is not None and view_limits.mean.size == profile.values.size:
        defects = score_view(acq.view, profile, view_limits, params.scoring)
        if defects.noise_widening_percent >= params.noise_widening_note_percent:
            findings.append(Finding(
                "PERFUSION_LIMITS_WIDENED_FOR_NOISE", Level.INFO,
                f"{name}: the profile is noisier than the normal limits' studies were (fewer "
                f"counts): its limits were widened by {defects.noise_widening_percent:.0f}% "
                "on average, so a mild defect may stay within them",
                acq.series_instance_uid))
    elif angle_problem:
        findings.append(Finding(
            "VIEW_ANGLE_OUTSIDE_LIMITS", Level.WARN,
            f"{name}: {angle_problem}: profile not compared (a projection changes with the "
            "camera angle; normal limits built from normals at this angle, `planarmpi "
            "normals build`, would score it)", acq.series_instance_uid))
    elif limits is not None and acq.view in VIEW_NAMES:
        findings.append(Finding(
            "NO_VIEW_LIMITS", Level.WARN,
            f"{name}: the normal limits {limits.name!r} hold no {acq.view.value} "
            f"{state_group(acq.state) or acq.state.value} profile of "
            f"{profile.values.size} angles: profile not compared", acq.series_instance_uid))
    elif limits is not None:
        findings.append(Finding(
            "VIEW_WITHOUT_LIMITS", Level.INFO,
            f"{name}: normal limits exist for anterior, LAO and left lateral views only: "
            f"this {acq.label.removesuffix(' ' + acq.state.value)} view's profile is shown, "
            "not compared, and takes no part in the verdict", acq.series_instance_uid))
    area_cm2 = profile.geometry.area_px() * acq.pixel_spacing_mm[0] \
        * acq.pixel_spacing_mm[1] / 100.0
    extracardiac = None
    if acq.view in (View.ANTERIOR, View.LEFT_LATERAL, View.LAO):
        extracardiac = _extracardiac(pixels, profile, params, acq.pixel_spacing_mm)
    return ViewAnalysis(image, pixels, profile, defects, max_counts, area_cm2, extracardiac,
                        vp.ring_rank, vp.ring_score_ratio, vp.position_disagreement_mm)


def _state_summary(views: list[ViewAnalysis], params: PerfusionParams) -> dict[str, Any]:
    scored = [v for v in views if v.defects is not None]
    segments = [s for v in scored for s in v.defects.segments]  # type: ignore[union-attr]
    summed = int(sum(s.score for s in segments))
    weights = territory_weights()
    territory_score: dict[str, float] = {}
    for s in segments:
        if s.score:
            for territory, w in weights.get(s.segment.key, {s.segment.territory: 1.0}).items():
                territory_score[territory] = territory_score.get(territory, 0.0) + w * s.score
    # The territories: the segment deficits explained by the territories' projected
    # signatures (territory.py). ``territory_scores`` (the segment scores shared by the
    # weights of the segment-arc data) is kept as a descriptive figure.
    fit = fit_territories({s.segment.key: s.deficit for s in segments},
                          {s.segment.key: s.score > 0 for s in segments}, params.territory)
    involved = list(fit.named) if summed else []
    if summed >= params.abnormal_summed_score:
        verdict = "abnormal"
    elif summed >= params.equivocal_summed_score:
        verdict = "equivocal"
    else:
        verdict = "normal"
    return {
        "summed_score": summed,
        "reduced_segments": sum(1 for x in segments if x.score),
        "segments_scored": len(segments),
        "extent_percent": float(np.mean([v.defects.extent_percent  # type: ignore[union-attr]
                                         for v in scored])) if scored else None,
        "territory_scores": {t: round(v, 3) for t, v in sorted(territory_score.items())},
        "territories": involved,
        "territory_fit": fit.to_json(),
        "verdict": verdict if scored else "not-assessed",
    }


def _artefacts(rest: dict[str, Any] | None, sex: Sex,
               by_state: dict[str, list[ViewAnalysis]], stress_key: str,
               wall_motion: Sequence[dict[str, Any]],
               induced: frozenset[str] = frozenset(),
               rest_scores: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Attenuation patterns and extracardiac activity, named rather than called defects.

    ``induced``: segments with a stress-induced reduction against the same patient's rest
    images (:func:`_paired_difference`) — attenuation does not come and go, so a pattern
    holding one is not taken for attenuation. ``rest_scores``: the rest images' reduced
    segments (key → score), which a breast shadow deeper than the mild pattern must repeat.
    """
    rest_scores = rest_scores or {}
    out: list[dict[str, Any]] = []
    abnormal = _reduced_scores(by_state.get(stress_key, []))
    motion_normal: dict[str, bool] = {}
    for w in wall_motion:
        t = str(w.get("territory"))
        motion_normal[t] = motion_normal.get(t, True) and w.get("grade") == "normal"
    name = _mild_pattern(abnormal, sex)
    fixed = rest is not None and rest.get("summed_score", 0) >= 1
    shadow = breast_shadow(abnormal, sex) if name is None else None
    if shadow:
        name = "breast attenuation"
        if rest is not None:
            # Deeper than the mild pattern: every reduced segment is reduced at rest too.
            fixed = all(rest_scores.get(k, 0) > 0 for k in abnormal)
    # Attenuation does not come and go: a reversible reduction is not it.
    if name is not None and (rest is None or fixed) and not induced & set(abnormal):
        _, who, territory = ATTENUATION_PATTERNS[name]
        motion = motion_normal.get(territory)
        out.append({
            "artefact": name, "segments": sorted(abnormal),
            "fixed_at_rest": fixed if rest is not None else None,
            "wall_motion_normal": motion,
            "message": (f"{'fixed ' if fixed else ''}reduction confined to {shadow} "
                        f"({', '.join(sorted(abnormal))}), the other views normal, in a "
                        "woman: the shadow of the breast"
                        if shadow else
                        f"mild {'fixed ' if fixed else ''}reduction confined to "
                        f"{', '.join(sorted(abnormal))} in a "
                        f"{'woman' if who is Sex.FEMALE else 'man'}: the pattern of {name}")
                       + ("; wall motion there is normal" if motion else
                          "; no gated wall motion to confirm" if motion is None else
                          "; but wall motion there is reduced"),
        })
    for state_key, views in by_state.items():
        for v in views:
            e = v.extracardiac
            if e and e.get("ratio") is not None and e["ratio"] >= 0.5:
                out.append({
                    "artefact": "extracardiac activity",
                    "view": v.image.acquisition.view.value, "state": state_key,
                    "ratio_to_myocardium": round(float(e["ratio"]), 3),
                    "affects_profile": e["affects_profile"],
                    "message": f"{v.image.acquisition.label}: activity below the inferior "
                               f"wall at {e['ratio']:.0%} of the myocardial maximum; it "
                               + ("reaches the background region and may lower (or, by "
                                  "scatter, raise) the inferior profile"
                                  if e["affects_profile"] else "does not reach the profile"),
                })
    return out


def _view_json(v: ViewAnalysis, limits_used: bool) -> dict[str, Any]:
    acq = v.image.acquisition
    g = v.profile.geometry
    px = float(np.mean(acq.pixel_spacing_mm or (1.0, 1.0)))
    out: dict[str, Any] = {
        "view": acq.view.value, "view_angle_deg": acq.view_angle_deg,
        "series_instance_uid": acq.series_instance_uid, "sop_instance_uid": acq.sop_instance_uid,
        "lv_centre_rc": [round(c, 3) for c in g.centre_rc],
        "lv_semi_axes_mm": [round(a * px, 2) for a in g.semi_axes_px],
        "lv_long_axis_deg": round(g.long_axis_deg, 2),
        "ridge_inlier_fraction": round(g.inlier_fraction, 3),
        "lv_ring_rank": v.ring_rank,
        "lv_ring_score_ratio": round(v.ring_score_ratio, 3),
        "lv_position_disagreement_mm": round(v.position_disagreement_mm, 2),
        "lv_area_cm2": round(v.lv_area_cm2, 3),
        "max_lv_counts_per_pixel": v.max_lv_counts_per_pixel,
        "background_box_rc": list(v.profile.box),
        "profile": {"angles_deg": v.profile.angles_deg.round(3).tolist(),
                    "values": v.profile.values.round(5).tolist(),
                    "normaliser_counts": round(v.profile.normaliser_counts, 3),
                    "noise_sd": None if v.profile.noise_sd is None
                    else v.profile.noise_sd.round(5).tolist()},
        "extracardiac": v.extracardiac,
    }
    if v.defects is not None and limits_used:
        d = v.defects
        out["profile"]["rotation_deg"] = d.rotation_deg
        out["profile"]["aligned_values"] = d.aligned_values.round(5).tolist()
        out["profile"]["lower_limit"] = d.lower_limit.round(5).tolist()
        out["profile"]["abnormal"] = d.abnormal.tolist()
        if d.sd_used is not None:
            out["profile"]["sd_used"] = d.sd_used.round(5).tolist()
        out["noise_widening_percent"] = round(d.noise_widening_percent, 3)
        out.update(extent_percent=d.extent_percent, summed_deficit=d.summed_deficit,
                   mean_depth_percent=d.mean_depth_percent,
                   segments=[s.to_json() for s in d.segments])
    return out


def _washout(stress: ViewAnalysis, delayed: ViewAnalysis) -> dict[str, Any] | None:
    """Tl-201 washout per segment: (stress − delayed) / stress, counts/min, decay-corrected."""
    s_acq, d_acq = stress.image.acquisition, delayed.image.acquisition
    if (stress.image.frame_duration_ms is None or delayed.image.frame_duration_ms is None
            or s_acq.acquisition_datetime is None or d_acq.acquisition_datetime is None
            or stress.defects is None):
        return None
    hours = (d_acq.acquisition_datetime - s_acq.acquisition_datetime).total_seconds() / 3600
    decay = 2.0 ** (hours / TL201_HALF_LIFE_H)
    s_rate = stress.profile.raw_max_counts / (stress.image.frame_duration_ms / 60000.0)
    d_rate = delayed.profile.raw_max_counts / (delayed.image.frame_duration_ms / 60000.0) * decay
    shift = best_shift(delayed.profile.values, stress.profile.values, 2)
    d_rate = np.roll(d_rate, shift)
    arcs = segment_arcs()[VIEW_NAMES[s_acq.view]]
    segs = {s.segment.index: s.segment.key for s in stress.defects.segments}
    per_segment = {}
    for index, start, end in arcs:
        inside = in_arc(stress.profile.angles_deg, start, end)
        s_sum = float(s_rate[inside].sum())
        per_segment[segs[index]] = (round(100.0 * (s_sum - float(d_rate[inside].sum())) / s_sum, 3)
                                    if s_sum > 0 else None)
    return {"hours_between": round(hours, 3), "decay_correction": round(decay, 5),
            "washout_percent": per_segment,
            "note": "no normal limit is applied: washout depends on stress level and time"}


def analyze_perfusion(study: Study, *, params: PerfusionParams | None = None,
                      user_limits: Sequence[NormalLimits] = (),
                      wall_motion: Sequence[dict[str, Any]] = ()) -> PerfusionResult | None:
    """Analyse the static perfusion views of ``study``; None when it has none.

    Parameters
    ----------
    study : Study
    params : PerfusionParams, optional
    user_limits : sequence of NormalLimits
        Site limits, tried before the built-in ones.
    wall_motion : sequence of dict
        Territory wall-motion grades from the gated images (``territory``, ``grade``), used
        to tell attenuation from a defect: the territory grades named by the projected
        signatures (``wall_motion_territories``) when the gated analysis gives them — an
        LAD abnormality also lowers the LAO inferoapical segment, which is mapped to the
        RCA — else the segments' grades under their static territories.
    """
    p = params or PerfusionParams()
    statics = [s for s in study.statics
               if tracer_group(s.acquisition.tracer) is not None
               and s.acquisition.kind is SeriesKind.STATIC]
    findings: list[Finding] = []
    framed, motion = _framed_views(study, p.motion, statics, findings)
    statics += framed
    if not statics:
        return None
    tracer = statics[0].acquisition.tracer
    sex = study.patient.sex
    limits = select_limits((*user_limits, *builtin_limits()), tracer, sex)
    if limits is None:
        findings.append(Finding(
            "NO_NORMAL_LIMITS", Level.WARN,
            f"no normal limits for {tracer.value} in patient sex {sex.value!r}: profiles are "
            "measured but not compared, and no verdict is given"))
    elif int(limits.profile_params.get("n_angles", p.profile.n_angles)) != p.profile.n_angles:
        findings.append(Finding(
            "LIMITS_PARAMS_DIFFER", Level.WARN,
            f"normal limits {limits.name!r} were measured with "
            f"{limits.profile_params.get('n_angles')} angles, this analysis uses "
            f"{p.profile.n_angles}: profiles not compared"))
        limits = None
    by_state: dict[str, list[ViewAnalysis]] = {}
    ordered = sorted(statics, key=lambda s: (not s.acquisition.state.is_stress,
                                             s.acquisition.state.value,
                                             s.acquisition.view.value))
    groups: dict[str, list[StaticImage]] = {}
    for image in ordered:
        groups.setdefault(image.acquisition.state.value, []).append(image)
    measured = {state_value: view_profiles(images, p.profile)
                for state_value, images in groups.items()}
    _rings_from_rest(measured, p, findings)
    for state_value, view_list in measured.items():
        for vp in view_list:
            analysis = _analyze_view(vp, limits, p, findings)
            if analysis is not None:
                by_state.setdefault(state_value, []).append(analysis)
    if not by_state:
        return PerfusionResult({"verdict": "not-assessed", "states": []}, tuple(findings))
    summaries = {k: _state_summary(v, p) for k, v in by_state.items()}
    stress_key = next((k for k in by_state if State(k).is_stress), None)
    rest_key = next((k for k in by_state if state_group(State(k)) == "rest"), None)
    primary = stress_key or next(iter(by_state))
    from planarmpi.analysis.perfusion.settings import perfusion_params_to_mapping

    section: dict[str, Any] = {
        "method": "circumferential count profiles after interpolative background "
                  "subtraction, against normal limits (mean − k·SD)",
        "limits": limits.describe() if limits else None,
        "params": {"n_angles": p.profile.n_angles, "sd_multiplier": p.scoring.sd_multiplier,
                   "min_run_points": p.scoring.min_run_points,
                   "abnormal_summed_score": p.abnormal_summed_score,
                   "equivocal_summed_score": p.equivocal_summed_score},
        # Every setting a site may change (planarmpi analyze --perfusion-settings).
        "settings": perfusion_params_to_mapping(p),
        "angle_convention": "0° = top of the displayed image, clockwise",
        "states": [{"state": k, **summaries[k],
                    "views": [_view_json(v, limits is not None) for v in views]}
                   for k, views in by_state.items()],
        "motion": motion,
    }
    # Lung/heart ratio on the anterior view of each state.
    group = tracer_group(tracer) or "tc99m"
    lhr = []
    for k, views in by_state.items():
        for v in views:
            if v.image.acquisition.view is View.ANTERIOR:
                assert v.image.acquisition.pixel_spacing_mm is not None
                m = lung_heart_ratio(v.pixels, v.profile, v.image.acquisition.pixel_spacing_mm)
                m.update(state=k, upper_limit=LHR_LIMITS[group],
                         source="Wackers, Nuclear Cardiology: The Basics, p.100")
                if m["value"] is not None:
                    m["abnormal"] = bool(m["value"] > LHR_LIMITS[group])
                    if m["abnormal"] and State(k).is_stress:
                        findings.append(Finding(
                            "HIGH_LUNG_HEART_RATIO", Level.INFO,
                            f"{v.image.acquisition.display_name}: lung/heart ratio "
                            f"{m['value']:.2f} above {LHR_LIMITS[group]:.2f} "
                            f"({tracer.value}): stress-induced LV dysfunction or "
                            "multivessel disease (heart-rate dependent)",
                            v.image.acquisition.series_instance_uid))
                lhr.append(m)
    section["lung_heart_ratio"] = lhr

    # Stress ↔ rest: registration, reversibility per segment, TID, washout.
    if stress_key and rest_key and limits is not None:
        section["reversibility"] = _reversibility(by_state[stress_key], by_state[rest_key],
                                                  limits, p, tracer)
    stress_summary = summaries[primary]
    artefacts = _artefacts(summaries.get(rest_key) if rest_key else None,
                           sex, by_state, primary, wall_motion,
                           frozenset((section.get("reversibility") or {})
                                     .get("stress_induced_segments", [])),
                           _reduced_scores(by_state[rest_key]) if rest_key else None)
    artefacts.extend({"artefact": "patient motion", "view": m["view"], "state": m["state"],
                      "corrected": m["corrected"], "max_displacement_mm": m["max_displacement_mm"],
                      "message": m["message"]} for m in motion["views"] if m.get("moved"))
    section["artefacts"] = artefacts
    verdict = stress_summary["verdict"]
    reasons = [f"summed {'stress' if stress_key else primary} score "
               f"{stress_summary['summed_score']} over "
               f"{stress_summary['reduced_segments']} reduced segment(s) (abnormal ≥ "
               f"{p.abnormal_summed_score}, equivocal ≥ {p.equivocal_summed_score})"]
    induced = [g["segment"] for g in (section.get("reversibility") or {}).get("segments", [])
               if g.get("stress_induced") and not g["stress_score"]]
    paired_score = stress_summary["summed_score"] + p.paired_segment_score * len(induced)
    if verdict != "abnormal" and induced and paired_score >= p.abnormal_summed_score:
        seen, compared, needed = _paired_views(
            induced, _reduced_scores(by_state[primary]),
            [g["segment"] for g in (section.get("reversibility") or {}).get("segments", [])],
            p.paired_min_views)
        if len(seen) >= needed:
            verdict = "abnormal"
            reasons.append(f"with {len(induced)} more segment(s) showing a stress-induced "
                           f"reduction against the same patient's rest images "
                           f"({', '.join(induced)}), the score reaches {paired_score}")
        else:
            reasons.append(f"the stress-induced reduction in {', '.join(induced)} is not "
                           f"counted: with the reduced stress segments it lies in "
                           f"{len(seen)} of the {len(compared)} views compared, fewer than "
                           f"{needed} (a difference in one view alone is that view's "
                           "repositioning as often as ischaemia)")
    # A reduction seen at stress and again, in the same segments, on the rest images: two
    # acquisitions agree on a fixed defect that the stress score alone left equivocal or
    # below it. Not when the rest images' reductions have an attenuation pattern.
    confirmed = _confirmed_at_rest(by_state[primary],
                                   by_state[rest_key] if rest_key and stress_key else [],
                                   sex, p.abnormal_summed_score, p.equivocal_summed_score)
    attenuation = [a for a in artefacts if "attenuation" in a["artefact"]]
    if confirmed and (verdict != "abnormal" or attenuation):
        # It makes the verdict abnormal, or keeps an attenuation pattern from making it
        # equivocal: either way it is a reason.
        verdict = "abnormal"
        reasons.append(f"the stress reduction in {', '.join(confirmed['common'])} is seen "
                       f"again on the rest images, summed rest score "
                       f"{confirmed['rest_summed_score']} over "
                       f"{', '.join(confirmed['rest_segments'])} (abnormal ≥ "
                       f"{p.abnormal_summed_score}): a fixed defect"
                       + (f", not {attenuation[0]['artefact']}" if attenuation else ""))
        _set_aside(attenuation, confirmed)
    if verdict in ("abnormal", "equivocal") and attenuation and not confirmed \
            and not induced and p.attenuation_normal_motion_is_normal \
            and all(a.get("wall_motion_normal") is True for a in attenuation):
        verdict = "normal"
        reasons.append(f"the only reductions ({', '.join(attenuation[0]['segments'])}) have "
                       f"the pattern of {attenuation[0]['artefact']} and wall motion there is "
                       "normal on the gated images: attenuation, not a perfusion defect")
    elif verdict == "abnormal" and attenuation and not confirmed \
            and all(a.get("wall_motion_normal") is not False for a in attenuation):
        verdict = "equivocal"
        reasons.append("the only reductions have the pattern of " + attenuation[0]["artefact"])
    # Only an equivocal verdict that the stress score alone made (not one demoted from
    # abnormal by an attenuation pattern).
    unconfirmed = _unconfirmed_by_rest(section.get("reversibility"),
                                       summaries.get(rest_key) if rest_key else None,
                                       stress_summary, p) \
        if verdict == stress_summary["verdict"] == "equivocal" and p.paired_unconfirmed_normal \
        else None
    one_view = ""
    if verdict == stress_summary["verdict"] == "abnormal" and len(reasons) == 1 \
            and not attenuation:
        # An abnormal stress score and no other reason: contradicted in the same way, and
        # confined to one view.
        unconfirmed = _unconfirmed_abnormal(section.get("reversibility"),
                                            summaries.get(rest_key) if rest_key else None,
                                            stress_summary, p)
        one_view = " (it lies in one view, and every territory is seen in two or three)"
    if unconfirmed:
        verdict = "normal"
        reasons.append(f"the stress reduction in {', '.join(unconfirmed)} is not seen on the "
                       "rest images and the stress − rest difference is within its normal "
                       "limits everywhere: the patient's own rest images do not confirm it"
                       + one_view)
    if any(f.code in ("LOW_LV_COUNTS_PERFUSION", "LV_NOT_FOUND", "PATIENT_MOTION_UNCORRECTED")
           for f in findings) and verdict == "normal":
        verdict = "equivocal"
        reasons.append("suboptimal images (low counts, a view without an LV, or "
                       "uncorrected patient motion)")
    section["verdict"] = verdict
    section["abnormal"] = verdict == "abnormal"
    section["verdict_reasons"] = reasons
    section["segments"] = [seg.to_json() for v in by_state[primary] if v.defects
                           for seg in v.defects.segments]
    section["territories"] = list(stress_summary["territories"])
    section["territory_segments"] = {t: list(keys) for t, keys in
                                     stress_summary["territory_fit"]["segments"].items()
                                     if t in stress_summary["territories"]}
    rev_segments = (section.get("reversibility") or {}).get("segments", [])
    # The paired difference's losses explained by the territory signatures (the
    # reversible part of the study).
    paired_fit = fit_territories(
        {g["segment"]: g["induced_deficit"] for g in rev_segments if "induced_deficit" in g},
        {g["segment"]: bool(g.get("stress_induced")) for g in rev_segments},
        p.territory) if any("induced_deficit" in g for g in rev_segments) else None
    if induced and not section["territories"] and verdict == "abnormal" \
            and paired_fit is not None:
        # The stress images named no territory: the paired losses are explained instead.
        section["territories"] = list(paired_fit.named)
        section["territory_segments"] = {t: list(k) for t, k in paired_fit.segments.items()}
        section["territory_fit_paired"] = paired_fit.to_json()
    section["territory_sources"] = {t: "stress" if t in stress_summary["territories"]
                                    else "paired" for t in section["territories"]}
    if verdict == "abnormal" and rest_key and stress_key and p.extra_territory_min_views:
        # A territory the stress fit left unnamed, named by the rest images' fit (the fixed
        # part of a two-vessel study) or by the paired difference's (the reversible part),
        # with reduced segments in enough views to be a defect rather than one view's habitus.
        fits = [("rest", summaries[rest_key]["territory_fit"])]
        if paired_fit is not None:
            fits.append(("paired", paired_fit.to_json()))
        for source, territory, keys in _territories_seen_elsewhere(
                section["territories"], fits, p.extra_territory_min_views):
            section["territories"].append(territory)
            section["territory_segments"][territory] = keys
            section["territory_sources"][territory] = source
    reversibility = section.get("reversibility")
    if reversibility:
        _reversibility_by_territory(reversibility, section["territory_segments"],
                                    p.territory_reversibility)
    section["extent_percent"] = stress_summary["extent_percent"]
    if verdict == "abnormal":
        findings.append(Finding(
            "PERFUSION_ABNORMAL", Level.INFO,
            f"perfusion abnormal: summed score {stress_summary['summed_score']}, "
            f"territories {', '.join(section['territories']) or 'not assigned'}"))
    return PerfusionResult(section, tuple(findings))


def _framed_views(study: Study, params: MotionParams, statics: Sequence[StaticImage],
                  findings: list[Finding]) -> tuple[list[StaticImage], dict[str, Any]]:
    """The perfusion views acquired in time frames, each summed (realigned when the patient
    moved), and the ``motion`` section (``statics``: the single-frame views, listed as not
    assessed). Findings are appended to ``findings``."""
    images: list[StaticImage] = []
    views: list[dict[str, Any]] = []
    for series in study.framed_statics:
        acq = series.acquisition
        if tracer_group(acq.tracer) is None:
            continue
        name, uid = acq.display_name, acq.series_instance_uid
        entry: dict[str, Any] = {"state": acq.state.value, "view": acq.view.value,
                                 "series_instance_uid": uid}
        try:
            image, m = framed_static_view(series, params)
        except ValueError as exc:
            images.append(summed_view(series))
            findings.append(Finding("MOTION_NOT_MEASURED", Level.WARN,
                                    f"{exc} ({acq.source_file}); frames summed as acquired",
                                    uid))
            views.append({**entry, "moved": None, "reason": str(exc)})
            continue
        images.append(image)
        entry.update(m.to_json())
        if m.moved:
            frames = ", ".join(map(str, entry["moved_frames"]))
            text = (f"{name}: the patient moved — frame(s) {frames} of {entry['frames']} "
                    f"displaced up to {m.max_displacement_mm:.1f} mm (threshold "
                    f"{params.threshold_mm:g} mm)")
            if m.corrected:
                text += "; frames realigned before the profile was measured"
                findings.append(Finding("PATIENT_MOTION", Level.WARN, text, uid))
            else:
                text += "; not corrected: a defect in this view may be a motion artefact"
                findings.append(Finding("PATIENT_MOTION_UNCORRECTED", Level.WARN, text, uid))
            entry["message"] = text
        views.append(entry)
    return images, {
        "method": "framed static views: each frame registered to the realigned sum "
                  "(cross-correlation, heart window); moved frames shifted back by whole "
                  "pixels before summing",
        "threshold_mm": params.threshold_mm,
        "views": views,
        "not_assessed": [s.acquisition.display_name for s in statics],
        "not_assessed_reason": "a single-frame static view holds no time: motion during it "
                               "cannot be measured",
    }


def _set_aside(attenuation: list[dict[str, Any]], confirmed: dict[str, Any]) -> None:
    """Mark the stress images' attenuation patterns that a confirmed fixed defect overrules
    (in place: ``set_aside`` and the message say why)."""
    for a in attenuation:
        a["set_aside"] = ("the rest images' reductions "
                          f"({', '.join(confirmed['rest_segments'])}) go beyond the pattern")
        a["message"] += f"; set aside: {a['set_aside']}"


def _paired_views(induced: Iterable[str], stress_reduced: Iterable[str],
                  compared_segments: Iterable[str], min_views: int
                  ) -> tuple[set[str], set[str], int]:
    """Where the paired segments lie: (their views and the reduced stress segments',
    the views compared at stress and rest, the number of views needed).

    The stress-induced segments count towards the verdict when the first set holds at
    least the number needed: ``min_views`` (:attr:`PerfusionParams.paired_min_views`), or
    every view compared when fewer were (a study of one or two views is not refused the
    rule for lacking the others).
    """
    compared = views_of(compared_segments)
    return (views_of([*induced, *stress_reduced]), compared,
            max(1, min(min_views, len(compared))))


def _reduced_scores(views: Sequence[ViewAnalysis]) -> dict[str, int]:
    """Segment key → score of the reduced segments (score > 0) of one state's views."""
    return {s.segment.key: s.score for v in views if v.defects
            for s in v.defects.segments if s.score}


def _unconfirmed_by_rest(reversibility: dict[str, Any] | None, rest: dict[str, Any] | None,
                         stress: dict[str, Any], p: PerfusionParams) -> list[str] | None:
    """The reduced stress segments when the rest images contradict them, else None.

    Contradicted when the rest images are normal (summed score below
    ``equivocal_summed_score``), no reduced stress segment is reduced at rest, the paired
    difference was measured for every reduced stress segment and shows no stress-induced
    reduction in any segment of the study (see :attr:`PerfusionParams.paired_unconfirmed_normal`).
    """
    if not reversibility or not rest or rest.get("summed_score") is None \
            or rest["summed_score"] >= p.equivocal_summed_score:
        return None
    entries = reversibility.get("segments", [])
    reduced = [g for g in entries if g["stress_score"]]
    if len(reduced) != stress["reduced_segments"] or not reduced \
            or any(g["rest_score"] or "stress_induced" not in g for g in reduced) \
            or any(g.get("stress_induced") for g in entries):
        return None
    return [g["segment"] for g in reduced]


def _unconfirmed_abnormal(reversibility: dict[str, Any] | None, rest: dict[str, Any] | None,
                          stress: dict[str, Any], p: PerfusionParams) -> list[str] | None:
    """The reduced stress segments of an abnormal stress score that the rest images
    contradict (:func:`_unconfirmed_by_rest`) when they lie in at most
    ``unconfirmed_abnormal_max_views`` views, else None."""
    if not p.unconfirmed_abnormal_max_views:
        return None
    segments = _unconfirmed_by_rest(reversibility, rest, stress, p)
    if segments and len(views_of(segments)) <= p.unconfirmed_abnormal_max_views:
        return segments
    return None


def _confirmed_at_rest(stress: list[ViewAnalysis], rest: list[ViewAnalysis], sex: Sex,
                       abnormal_summed_score: int, equivocal_summed_score: int
                       ) -> dict[str, Any] | None:
    """A fixed reduction confirmed by the rest images, or None.

    Confirmed when the rest images' summed score reaches ``abnormal_summed_score``, the
    segments reduced both at stress and at rest have a summed stress score of at least
    ``equivocal_summed_score`` (what the stress images alone call equivocal: one mildly
    reduced segment seen again mildly is the same patient's habitus twice), and the rest
    images' reductions do not have an attenuation pattern (:func:`attenuation_pattern`).
    """
    if not rest:
        return None
    stress_scores, rest_scores = _reduced_scores(stress), _reduced_scores(rest)
    common = sorted(set(stress_scores) & set(rest_scores))
    total = sum(rest_scores.values())
    if sum(stress_scores[k] for k in common) < equivocal_summed_score \
            or total < abnormal_summed_score \
            or attenuation_pattern(rest_scores, sex) is not None:
        return None
    return {"common": common, "rest_segments": sorted(rest_scores), "rest_summed_score": total}


def _paired_difference(stress: ViewAnalysis, rest: ViewAnalysis, stress_limits: ViewLimits,
                       difference: ViewLimits, p: PerfusionParams,
                       scale_quantile: float | None) -> dict[str, Any]:
    """Where the stress image lost uptake that the same patient's rest image did not.

    The stress − rest difference (:func:`~.normals.stress_rest_difference`) is compared
    with the normal limits of that difference as the stress profile is with its limits
    (runs of ≥ ``min_run_points`` below mean − k·SD, grown to mean − k_edge·SD); a segment
    with ≥ ``segment_min_fraction`` of its points in such runs shows a stress-induced
    reduction. The rest profile is scaled onto the stress profile as the limits' own
    differences were (``scale_quantile``, :attr:`~.normals.NormalLimits
    .difference_scale_quantile`; None: unscaled, as older files were built). Returns per
    segment key ``{"induced": bool, "loss_percent": …}`` (mean loss below the normal
    difference, % of the normal stress mean), the per-angle arrays and the scale.
    """
    sp = p.scoring
    d, scale = scaled_difference(stress.profile.values, rest.profile.values,
                                 stress_limits.mean, stress_limits.alignment_max_deg,
                                 p.max_registration_deg, scale_quantile)
    if sp.noise_widening:
        difference = difference.widened(difference_noise_sd(
            stress.profile, rest.profile, stress_limits.mean, stress_limits.alignment_max_deg,
            p.max_registration_deg, scale_quantile))
    induced = runs_below(d, difference, sp)
    loss = np.where(induced, np.clip(difference.mean - d, 0.0, None), 0.0)
    angles = stress.profile.angles_deg
    out: dict[str, Any] = {}
    view = stress.image.acquisition.view
    for index, start, end in segment_arcs()[VIEW_NAMES[view]]:
        inside = in_arc(angles, start, end)
        fraction = float(induced[inside].mean()) if inside.any() else 0.0
        out[f"{VIEW_NAMES[view]}-{index}"] = {
            "induced": bool(fraction >= sp.segment_min_fraction),
            "fraction": round(fraction, 4),
            "loss_percent": round(100.0 * float(loss[inside].mean())
                                  / float(stress_limits.mean[inside].mean()), 3)
            if inside.any() else 0.0,
            "deficit": float(loss[inside].mean()) if inside.any() else 0.0,
        }
    return {"segments": out, "difference": d, "induced": induced,
            "lower_limit": difference.lower_limit(sp.sd_multiplier), "rest_scale": scale}


#: A segment's territories, for corroboration across views: those it holds at least this
#: share of in the segment-arc data (``planar_segment_arcs.json``; the smaller shares, 0.1,
#: are the edges of a neighbouring territory).
CORROBORATION_MIN_WEIGHT = 0.2


def _corroborated_at_rest(segments: Sequence[dict[str, Any]],
                          min_views: int) -> list[dict[str, Any]]:
    """The segment entries, each fixed one (``scar``/``mixed``) marked with
    ``corroborated_at_rest``.

    Corroborated when reductions on the rest images (rest score > 0) that share one of
    its territories (weight ≥ :data:`CORROBORATION_MIN_WEIGHT`) lie in at least
    ``min_views`` views, its own included. Returns new entries; none is marked when fewer
    than ``min_views`` views were compared at rest or ``min_views`` ≤ 1.
    """
    out = [dict(g) for g in segments]
    views = views_of(g["segment"] for g in out)
    if min_views <= 1 or len(views) < min_views:
        return out
    weights = territory_weights()

    def territories(key: str, fallback: str) -> set[str]:
        return {t for t, w in weights.get(key, {fallback: 1.0}).items()
                if w >= CORROBORATION_MIN_WEIGHT}

    reduced = [(view_of(g["segment"]), territories(g["segment"], g["territory"]))
               for g in out if g["rest_score"]]
    for g in out:
        if g["stress_score"] and g["classification"] in ("scar", "mixed"):
            own = territories(g["segment"], g["territory"])
            seen = {view for view, ts in reduced if ts & own}
            g["corroborated_at_rest"] = len(seen) >= min_views
    return out


def _territories_seen_elsewhere(named: Sequence[str],
                                fits: Sequence[tuple[str, dict[str, Any]]],
                                min_views: int) -> list[tuple[str, str, list[str]]]:
    """Territories that other fits name and ``named`` lacks, seen in enough views.

    ``fits``: (source, territory fit as JSON — ``named`` and ``segments``), in order of
    preference. A territory is taken from the first fit that names it with its attributed
    reduced segments in at least ``min_views`` views. Returns (source, territory,
    segments) in that order.
    """
    out: list[tuple[str, str, list[str]]] = []
    taken = set(named)
    for source, fit in fits:
        for territory in fit.get("named", []):
            keys = list(fit.get("segments", {}).get(territory, []))
            if territory not in taken and len(views_of(keys)) >= min_views:
                out.append((source, territory, keys))
                taken.add(territory)
    return out


def segment_reversibility(stress_score: int, rest_score: int, improvement_percent: float,
                          induced: bool, p: PerfusionParams) -> str:
    """One segment's class from its stress and rest scores, its rest uptake's improvement
    (percent of the normal mean) and whether the paired difference shows it
    stress-induced: ``normal``, ``rest-only``, ``ischemia``, ``mixed`` or ``scar``.

    Normal at stress: ischaemia when stress-induced, else normal (or rest-only). Abnormal
    at stress and within the limits at rest: ischaemia when it improved by
    ``reversibility_min_improvement_percent`` or is stress-induced, else — with
    ``reversible_needs_improvement`` — scar: it only crossed the rest limits. Abnormal at
    both: mixed when it improved or is stress-induced, else scar.
    """
    improved = improvement_percent >= p.reversibility_min_improvement_percent
    if stress_score == 0:
        return "ischemia" if induced else "normal" if rest_score == 0 else "rest-only"
    if rest_score == 0:
        return "ischemia" if induced or improved or not p.reversible_needs_improvement \
            else "scar"
    return "mixed" if improved or induced else "scar"


def _overall_reversibility(segments: list[dict[str, Any]]) -> str:
    """The study's reversibility from its segment entries: ``none``, ``ischemia``,
    ``scar`` or ``mixed``.

    The classification holding ≥ 70% of the summed stress score, else ``mixed`` (ischaemia
    and scar together, or partly reversible defects). A segment within the population's
    limits at stress but with a stress-induced reduction counts 1. A fixed reduction that
    the rest images show in one view only (``corroborated_at_rest`` false,
    :func:`_corroborated_at_rest`) does not count, unless nothing else would.
    """
    def weight(g: dict[str, Any]) -> int:
        return int(g["stress_score"]) or int(bool(g.get("stress_induced")))

    abnormal = [g for g in segments if weight(g) and g.get("corroborated_at_rest", True)] \
        or [g for g in segments if weight(g)]
    if not abnormal:
        return "none"
    total = sum(weight(g) for g in abnormal)
    share = {k: sum(weight(g) for g in abnormal if g["classification"] == k) / total
             for k in ("ischemia", "scar")}
    if share["ischemia"] >= 0.7:
        return "ischemia"
    if share["scar"] >= 0.7:
        return "scar"
    return "mixed"


def _reversibility_by_territory(reversibility: dict[str, Any],
                                territory_segments: Mapping[str, Sequence[str]],
                                decide: bool) -> None:
    """Add each named territory's own reversibility (``territories``) to the
    ``reversibility`` section, and, when ``decide`` and the territories differ (one
    ischaemic, another scarred or mixed), make the overall ``mixed`` with the reason
    (``overall_reason``).

    A territory's reversibility is that of its attributed segments, by the rule of the
    whole study (:func:`_overall_reversibility`). A reader reports a two-vessel study as
    "reversible LAD defect, fixed RCA defect" — mixed — however small the fixed one; the
    share of the summed score alone calls it by its larger part.
    """
    segments = reversibility["segments"]
    per = {t: kind for t, keys in territory_segments.items()
           if (kind := _overall_reversibility(
               [g for g in segments if g["segment"] in keys])) != "none"}
    reversibility["territories"] = per
    if decide and len(set(per.values())) > 1 and reversibility["overall"] != "mixed":
        reversibility["overall_reason"] = (
            f"the territories differ ({', '.join(f'{t} {k}' for t, k in per.items())}); "
            f"by the summed score alone: {reversibility['overall']}")
        reversibility["overall"] = "mixed"


def _reversibility(stress: list[ViewAnalysis], rest: list[ViewAnalysis], limits: NormalLimits,
                   p: PerfusionParams, tracer: Tracer) -> dict[str, Any]:
    rest_by_view = {v.image.acquisition.view: v for v in rest}
    segments: list[dict[str, Any]] = []
    registration = {}
    paired_views: dict[str, Any] = {}
    tid = None
    washout = {}
    step = 360.0 / p.profile.n_angles
    for s in stress:
        view = s.image.acquisition.view
        r = rest_by_view.get(view)
        if r is None or s.defects is None:
            continue
        shift = best_shift(r.profile.values, s.profile.values,
                                int(p.max_registration_deg // step))
        registration[view.value] = round(shift * step, 3)
        rest_limits, _ = view_limits_for(limits, r.image.acquisition,
                                         p.view_angle_tolerance_deg)
        if rest_limits is None:
            continue
        aligned = replace(r.profile, values=np.roll(r.profile.values, shift),
                          raw_max_counts=np.roll(r.profile.raw_max_counts, shift),
                          radius_px=np.roll(r.profile.radius_px, shift),
                          noise_sd=None if r.profile.noise_sd is None
                          else np.roll(r.profile.noise_sd, shift))
        rest_defects = score_view(view, aligned, rest_limits, p.scoring)
        stress_limits = limits.for_view(view, s.image.acquisition.state)
        difference = limits.difference_for(view)
        paired: dict[str, Any] = {}
        if stress_limits is not None and difference is not None \
                and difference.mean.size == s.profile.values.size:
            result = _paired_difference(s, r, stress_limits, difference, p,
                                        limits.difference_scale_quantile)
            paired = result["segments"]
            paired_views[view.value] = {
                "difference": result["difference"].round(5).tolist(),
                "lower_limit": result["lower_limit"].round(5).tolist(),
                "induced": result["induced"].tolist(),
                "rest_scale": result["rest_scale"]}
        for ss, rs in zip(s.defects.segments, rest_defects.segments, strict=True):
            improvement = 100.0 * (rs.mean_uptake_percent - ss.mean_uptake_percent) \
                / ss.normal_mean_percent
            induced = bool(paired.get(ss.segment.key, {}).get("induced", False))
            kind = segment_reversibility(ss.score, rs.score, improvement, induced, p)
            entry = {"segment": ss.segment.key, "territory": ss.segment.territory,
                     "stress_score": ss.score, "rest_score": rs.score,
                     "improvement_percent": round(improvement, 3),
                     "classification": kind}
            if ss.segment.key in paired:
                info = paired[ss.segment.key]
                entry.update(stress_induced=info["induced"],
                             induced_fraction=info["fraction"],
                             induced_loss_percent=info["loss_percent"],
                             induced_deficit=round(info["deficit"], 5))
            segments.append(entry)
        if view is View.ANTERIOR:
            tid = _planar_tid(s, r, p)
        if tracer is Tracer.TL201:
            w = _washout(s, r)
            if w is not None:
                washout[view.value] = w
    segments = _corroborated_at_rest(segments, p.fixed_min_views)
    overall = _overall_reversibility(segments)
    return {
        "segments": segments,
        "summed_difference_score": int(sum(g["stress_score"] - g["rest_score"] for g in segments
                                           if g["stress_score"] > g["rest_score"])),
        "overall": overall,
        "stress_induced_segments": [g["segment"] for g in segments if g.get("stress_induced")],
        "paired_difference": paired_views or None,
        "registration_rotation_deg": registration,
        "tid": tid,
        "washout": washout or None,
    }
