"""Settings of the perfusion analysis of a study (:class:`PerfusionParams`): the nested
settings of each step and the study-level thresholds, each configurable
(``planarmpi analyze --perfusion-settings``, :mod:`.settings`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from planarmpi.analysis.perfusion.motion import MotionParams
from planarmpi.analysis.perfusion.profiles import ProfileParams
from planarmpi.analysis.perfusion.scoring import ScoringParams
from planarmpi.analysis.perfusion.territory import TerritoryParams
from planarmpi.analysis.perfusion.tid import TIDParams

__all__ = ["PerfusionParams"]


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
        maximum, both above the body background around the heart, is reported as
        extracardiac activity (raw counts over the raw maximum before 2026-12-03).
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
        With stress and rest images and limits of the paired difference, each segment with a
        significant stress-induced reduction (the stress − rest difference below its normal
        limits, :func:`~.reversibility.paired_difference`) that the stress score did not
        count adds this to the summed score for the abnormal verdict: the patient is his own
        control, so a reduction hidden by the population's spread (breasts, habitus) can
        still be seen. 1 (a mildly reduced segment); 0 turns it off. Chosen on the
        development populations (docs/validation.md).
    paired_min_views : int
        The segments of ``paired_segment_score`` count only when they and the reduced
        stress segments lie in at least this many views. Every coronary territory has walls
        seen edge-on in two or three of the planar views, so a stress-induced reduction of
        a territory shows in more than one view; a difference confined to one view is that
        view's repositioning (a breast lying differently at stress and at rest) as often
        as ischaemia. On 1310 simulated development studies, 5 of the 10 normals that the
        paired segments made abnormal had them in one view alone, against 1 of 44 studies
        with a significant defect (docs/validation.md). 1 turns it off; a study with
        fewer views compared at stress and rest needs them all (:func:`~.verdict.paired_views`).
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
        shares of the summed score (:func:`~.reversibility.reversibility_by_territory`;
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
        (:func:`~.verdict.unconfirmed_by_rest`): a reduction that is neither fixed nor reversible is
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
        A segment reduced at stress and at rest (classified ``scar`` or ``mixed``) counts in
        the overall reversibility only when the rest images show a reduction sharing one of
        its territories in at least this many views
        (:func:`~.reversibility.corroborated_at_rest`). A fixed defect of a few percent of
        the LV projects onto two or three of the planar views; a reduction seen at rest in
        one view alone is that view's habitus (breast, diaphragm) as often as scar: on 326
        detected stress/rest studies of our simulated populations, 136 of the 184 one-view
        fixed segments lay outside the territories of the true fixed defects, against 74 of
        340 seen in two or more views (docs/validation.md). 1 turns it off. Such a segment
        keeps its classification and is marked ``corroborated_at_rest: false``.
    extra_territory_min_views : int
        With stress and rest images and an abnormal verdict, a territory that the stress
        images' fit did not name is added when the rest images' fit (a fixed defect beside a
        reversible one) or the paired difference's fit (a reversible one beside a fixed one)
        names it with its reduced segments in at least this many views
        (:func:`~.verdict.territories_seen_elsewhere`; ``territory_sources`` says
        which). The stress fit names the larger loss and often misses a second vessel; the
        rest and paired images each hold one part of a mixed study. Over 326 detected
        studies of six simulated populations the territories were right in 240 without it,
        252 with it (docs/validation.md). 0 turns it off.
    attenuation_normal_motion_is_normal : bool
        When the only reductions have an attenuation pattern (breast, diaphragm, the
        breast's lateral shadow: :func:`~.artefacts.find_artefacts`; fixed at rest, none
        stress-induced), the rest images do not confirm a fixed defect there, and the gated
        images show normal wall motion in the territory the pattern mimics, the verdict is
        normal, the artefact named with the reason: the attenuation pattern with normal wall
        motion is what the issue and the domain notes call an artefact, not a defect ("a
        good system names the likely artefact instead of calling a defect"; gated planar
        sestamibi wall motion agrees with echocardiography in ≥ 93%, JACC 1994;23:141).
        Without gated wall motion, or with it reduced there, such a study stays equivocal.
        False keeps it equivocal whatever the wall motion.
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
