"""Normal limits from a folder of normal studies (``planarmpi normals build``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from planarmpi.analysis.perfusion.normals import (
    VIEW_NAMES,
    NormalLimits,
    build_limits,
    state_group,
    tracer_group,
)
from planarmpi.analysis.perfusion.profiles import Profile, ProfileParams
from planarmpi.analysis.perfusion.study import view_profiles
from planarmpi.errors import InvalidInputError
from planarmpi.model import Sex, State, StaticImage, Study, Tracer, View

__all__ = ["BuildReport", "build_from_studies", "study_profiles"]


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
    for image in study.statics:
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


def build_from_studies(studies: Iterable[Study], *, tracer: Tracer, sex: Sex, name: str,
                       source: str, params: ProfileParams | None = None,
                       min_studies: int = 10) -> BuildReport:
    """Build limits from normal studies of one tracer group and sex.

    A study whose DICOM names another tracer group or another sex is skipped (and said
    so): mixing them would blur exactly the differences the limits exist for. A study in
    which a view has no LV is skipped whole, so every view's limits come from the same
    patients.

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
    collected: list[tuple[View, State, Profile]] = []
    used: list[str] = []
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
        collected.extend(profiles)
        used.append(label)
    limits = build_limits(collected, name=name, tracer=tracer, sex=sex, params=p,
                          source=source, min_studies=min_studies)
    return BuildReport(limits, tuple(used), tuple(skipped))
