"""Normal limits from a folder of normal studies (``planarmpi normals build``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from planarmpi.analysis.perfusion.images import one_image_per_view
from planarmpi.analysis.perfusion.normals import (
    VIEW_NAMES,
    NormalLimits,
    align_to_template,
    build_limits,
    state_group,
    tracer_group,
)
from planarmpi.analysis.perfusion.profiles import Profile, ProfileParams
from planarmpi.analysis.perfusion.rings import view_profiles
from planarmpi.errors import InvalidInputError
from planarmpi.model import Sex, State, StaticImage, Study, Tracer, View

__all__ = ["BuildReport", "build_from_studies", "outlier_scores", "study_profiles"]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What :func:`build_from_studies` used and skipped (with reasons)."""

    limits: NormalLimits
    used: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


def study_profiles(study: Study, params: ProfileParams
                   ) -> tuple[list[tuple[View, State, Profile]], list[str]]:
    """Profiles of a study's anterior, LAO and left-lateral static views, and problems."""
    out: list[tuple[View, State, Profile]] = []
    problems: list[str] = []
    groups: dict[State, list[StaticImage]] = {}
    # Energy windows of one acquisition summed, a repeated view's last acquisition taken,
    # as for a patient (:func:`~.images.one_image_per_view`).
    images_used, _ = one_image_per_view(study.statics)
    for image in images_used:
        acq = image.acquisition
        if acq.view in VIEW_NAMES and state_group(acq.state) is not None:
            groups.setdefault(acq.state, []).append(image)
    for state, images in groups.items():
        for vp in view_profiles(images, params):
            acq = vp.image.acquisition
            if vp.profile is None:
                problems.append(f"{acq.display_name} ({acq.source_file}): {vp.problem}")
            else:
                out.append((acq.view, state, vp.profile))
    return out, problems


#: A normal study whose profile in some view lies farther than this from the population's
#: median, as the mean over angles of |deviation| / robust SD, is left out of the limits.
OUTLIER_MEAN_ABS_Z = 5.0


def outlier_scores(profiles: dict[str, list[tuple[View, State, Profile]]],
                   alignment_max_deg: float = 12.0) -> dict[str, tuple[float, str]]:
    """Per study: the largest (over its views) mean robust |z| of its profile, and where.

    For each view and state the profiles are aligned as for the limits, and each is
    compared, angle by angle, with the median of all in units of the robust SD (1.4826 ×
    median absolute deviation, at least 0.02); the mean over angles is the profile's
    distance. A misplaced LV ring or an abnormal study stands out by several units; normal
    variation (breasts, liver, orientation) stays within ~4 in our simulated populations.
    """
    by_key: dict[tuple[str, str], list[tuple[str, np.ndarray]]] = {}
    for label, items in profiles.items():
        for view, state, profile in items:
            key = (VIEW_NAMES.get(view), state_group(state))
            if key[0] is not None and key[1] is not None:
                by_key.setdefault((str(key[0]), str(key[1])), []).append((label,
                                                                          profile.values))
    scores: dict[str, tuple[float, str]] = {label: (0.0, "") for label in profiles}
    for (view_name, group_name), rows in by_key.items():
        if len(rows) < 3:
            continue
        stack = align_to_template(np.stack([v for _, v in rows]), alignment_max_deg)
        median = np.median(stack, axis=0)
        robust_sd = np.maximum(1.4826 * np.median(np.abs(stack - median), axis=0), 0.02)
        distance = np.mean(np.abs(stack - median) / robust_sd, axis=1)
        for (label, _), d in zip(rows, distance, strict=True):
            if d > scores[label][0]:
                scores[label] = (float(d), f"{view_name}/{group_name}")
    return scores


def build_from_studies(studies: Iterable[Study], *, tracer: Tracer, sex: Sex, name: str,
                       source: str, params: ProfileParams | None = None,
                       min_studies: int = 10,
                       outlier_mean_abs_z: float = OUTLIER_MEAN_ABS_Z,
                       tail_probability: float | None = None) -> BuildReport:
    """Build limits from normal studies of one tracer group and sex.

    A study whose DICOM names another tracer group or another sex is skipped (and said
    so): mixing them would blur exactly the differences the limits exist for. A study in
    which a view has no LV is skipped whole, so every view's limits come from the same
    patients. So is a study whose profile in some view is an outlier
    (:func:`outlier_scores` above ``outlier_mean_abs_z``): a misplaced LV ring or a
    study that is not normal would widen the limits everywhere.

    Raises
    ------
    InvalidInputError
        When fewer than ``min_studies`` usable studies remain for a view and state.
    """
    p = params or ProfileParams()
    group = tracer_group(tracer)
    if group is None:
        raise InvalidInputError(f"tracer {tracer.value}: limits exist only for Tc-99m "
                                "perfusion agents and Tl-201")
    collected: dict[str, list[tuple[View, State, Profile]]] = {}
    lao_angles: dict[str, list[float]] = {}
    skipped: list[tuple[str, str]] = []
    for study in studies:
        label = f"study {study.study_instance_uid}"
        statics = study.statics
        tracers = {tracer_group(s.acquisition.tracer) for s in statics}
        if not statics:
            skipped.append((label, "no static views"))
            continue
        if tracers != {group}:
            skipped.append((label, f"tracer {sorted(map(str, tracers))} is not {group}"))
            continue
        if study.patient.sex not in (sex, Sex.UNKNOWN):
            skipped.append((label, f"patient sex {study.patient.sex.value} is not {sex.value}"))
            continue
        profiles, problems = study_profiles(study, p)
        if problems:
            skipped.append((label, "; ".join(problems)))
            continue
        if not profiles:
            skipped.append((label, "no anterior, LAO or left-lateral stress/rest view"))
            continue
        collected[label] = profiles
        lao_angles[label] = [a for s in statics if s.acquisition.view is View.LAO
                             and (a := s.acquisition.view_angle_deg) is not None]
    scores = outlier_scores(collected)
    for label, (distance, where) in scores.items():
        if distance > outlier_mean_abs_z:
            skipped.append((label, f"its {where} profile lies {distance:.1f} robust SDs (mean "
                                   f"over angles) from the other normals' median, above "
                                   f"{outlier_mean_abs_z:g}: LV ring misplaced or not a normal "
                                   "study — check it"))
            del collected[label]
    used = list(collected)
    pairs = []
    for items in collected.values():
        stress = {v: prof for v, st, prof in items if state_group(st) == "stress"}
        rest = {v: prof for v, st, prof in items if state_group(st) == "rest"}
        pairs += [(v, stress[v], rest[v]) for v in stress if v in rest]
    # The LAO angles of the normals used: a patient's LAO view at another angle is not
    # compared with these limits.
    angles = [a for label in used for a in lao_angles[label]]
    limits = build_limits([item for items in collected.values() for item in items], name=name,
                          tracer=tracer, sex=sex, params=p, source=source,
                          min_studies=min_studies, pairs=pairs,
                          tail_probability=tail_probability,
                          view_angle_ranges_deg={"LAO": (min(angles), max(angles))}
                          if angles else None)
    return BuildReport(limits, tuple(used), tuple(skipped))
