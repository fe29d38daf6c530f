"""Named clinical pictures for ``planarmpi simulate --preset``, and random populations."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from planarmpi.model import Sex, State, Tracer
from planarmpi.simulate.firstpass import FirstPassSpec
from planarmpi.simulate.gating import BeatModel
from planarmpi.simulate.phantom import Anatomy, Defect
from planarmpi.simulate.study import PatientMotion, SimulationSpec

__all__ = ["PRESETS", "preset", "random_normal_spec", "random_perfusion_spec", "random_spec"]

_STRESS_REST = (State.STRESS_EXERCISE, State.REST)
_FEMALE: dict[str, Any] = {"torso_half_width_mm": 155.0, "torso_half_depth_mm": 100.0,
           "breast_volume_ml": 700.0, "breast_drop_mm": 10.0, "edv_ml": 95.0,
           "rv_edv_ml": 115.0}
_MUGA = {"tracer": Tracer.TC99M_RED_CELLS, "states": (State.REST,), "static_views": (),
         "gated_view": "LAO45", "counts_per_view": 4.0e6, "matrix": 64, "pixel_mm": 6.4,
         "time_slots": 24}

PRESETS: dict[str, SimulationSpec] = {
    "normal-male": SimulationSpec(name="normal-male"),
    "normal-female": SimulationSpec(name="normal-female", sex=Sex.FEMALE,
                                    anatomy=Anatomy(**_FEMALE, lvef_percent=65.0)),
    "lad-ischemia": SimulationSpec(name="lad-ischemia", states=_STRESS_REST,
                                   defects=(Defect("LAD", 0.5, reversible=True),)),
    "lad-scar": SimulationSpec(
        name="lad-scar", states=_STRESS_REST,
        anatomy=Anatomy(lvef_percent=40.0, edv_ml=150.0, wall_motion={"LAD": 0.0}),
        defects=(Defect("LAD", 0.7, reversible=False),)),
    "lcx-ischemia": SimulationSpec(name="lcx-ischemia", states=_STRESS_REST,
                                   defects=(Defect("LCX", 0.5, reversible=True),)),
    "lcx-scar": SimulationSpec(
        name="lcx-scar", states=_STRESS_REST,
        anatomy=Anatomy(lvef_percent=48.0, edv_ml=135.0, wall_motion={"LCX": 0.4}),
        defects=(Defect("LCX", 0.7, reversible=False),)),
    "rca-ischemia": SimulationSpec(name="rca-ischemia", states=_STRESS_REST,
                                   defects=(Defect("RCA", 0.5, reversible=True),)),
    "rca-scar": SimulationSpec(
        name="rca-scar", states=_STRESS_REST,
        anatomy=Anatomy(lvef_percent=45.0, edv_ml=140.0, wall_motion={"RCA": 0.3}),
        defects=(Defect("RCA", 0.7, reversible=False),)),
    "lad-ischemia-high-lung": SimulationSpec(
        name="lad-ischemia-high-lung", tracer=Tracer.TL201, counts_per_view=7.0e5,
        states=(State.STRESS_EXERCISE, State.REDISTRIBUTION), gated_view=None,
        uptake=(("lung", 0.25),), defects=(Defect("LAD", 0.6, 1.3, reversible=True),)),
    # Severe two-vessel ischaemia with transient ischaemic dilation: the LV cavity 10%
    # larger (linear) after stress than at rest.
    "multivessel-ischemia-tid": SimulationSpec(
        name="multivessel-ischemia-tid", states=_STRESS_REST, gated_view=None,
        stress_lv_dilation=1.1,
        defects=(Defect("LAD", 0.5, reversible=True), Defect("LCX", 0.45, reversible=True))),
    "dilated-cardiomyopathy": SimulationSpec(
        name="dilated-cardiomyopathy",
        anatomy=Anatomy(edv_ml=260.0, lvef_percent=22.0, lv_long_short_ratio=1.5)),
    "lbbb-dyssynchrony": SimulationSpec(
        name="lbbb-dyssynchrony", **_MUGA,  # type: ignore[arg-type]
        anatomy=Anatomy(lvef_percent=40.0, edv_ml=170.0,
                        regional_delay_ms={"LCX": 140.0, "RCA": 60.0})),
    "muga-normal": SimulationSpec(name="muga-normal", **_MUGA,  # type: ignore[arg-type]
                                  anatomy=Anatomy(lvef_percent=62.0)),
    "muga-cardiotoxicity": SimulationSpec(
        name="muga-cardiotoxicity", **_MUGA,  # type: ignore[arg-type]
        anatomy=Anatomy(lvef_percent=45.0, edv_ml=140.0)),
    "muga-arrhythmia": SimulationSpec(
        name="muga-arrhythmia", **_MUGA,  # type: ignore[arg-type]
        beats=BeatModel(rr_cv=0.12, premature_fraction=0.1, acceptance_window=0.2)),
    "first-pass-normal": SimulationSpec(
        name="first-pass-normal", states=(State.REST,), static_views=("ANT", "LAO45", "LLAT"),
        gated_view="LAO45", first_pass=FirstPassSpec()),
    "first-pass-shunt": SimulationSpec(
        name="first-pass-shunt", **{**_MUGA, "gated_view": None},  # type: ignore[arg-type]
        first_pass=FirstPassSpec(qp_qs=2.0)),
    "thallium-normal": SimulationSpec(
        name="thallium-normal", tracer=Tracer.TL201, counts_per_view=7.0e5,
        states=(State.STRESS_EXERCISE, State.REDISTRIBUTION), gated_view=None),
    # A normal heart; each view in six time frames; the patient slides 25 mm to the right
    # halfway through the LAO view (uncorrected, a false defect).
    "patient-motion": SimulationSpec(
        name="patient-motion", gated_view=None, static_frames=6,
        motion=(PatientMotion("LAO45", 0.5, (0.0, 25.0)),)),
}


def preset(name: str) -> SimulationSpec:
    """The preset called ``name``.

    Raises
    ------
    KeyError
        With the list of known presets.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}") from None


def random_spec(rng: np.random.Generator, index: int) -> SimulationSpec:
    """A random perfusion study with truth, for benchmarks of the analyses.

    Half women (with breasts of random size), LVEF 20–75%, EDV 70–250 ml, heart rate 50–110,
    heart orientation ±10°, 0–2 defects of random territory, severity, extent and
    reversibility; rest and stress; Tc-99m agents (80%) or Tl-201.
    """
    female = bool(rng.random() < 0.5)
    anatomy_kwargs: dict[str, object] = {
        "edv_ml": float(rng.uniform(70, 250)),
        "lvef_percent": float(rng.uniform(20, 75)),
        "heart_rate_bpm": float(rng.uniform(50, 110)),
        "heart_azimuth_deg": float(45 + rng.uniform(-10, 10)),
        "heart_elevation_deg": float(30 + rng.uniform(-10, 10)),
    }
    if female:
        anatomy_kwargs.update(torso_half_width_mm=float(rng.uniform(140, 170)),
                              torso_half_depth_mm=float(rng.uniform(90, 115)),
                              breast_volume_ml=float(rng.uniform(200, 1200)),
                              breast_drop_mm=float(rng.uniform(-20, 40)))
    else:
        anatomy_kwargs.update(torso_half_width_mm=float(rng.uniform(155, 200)),
                              torso_half_depth_mm=float(rng.uniform(100, 135)))
    defects = tuple(
        Defect(str(rng.choice(["LAD", "LCX", "RCA"])), float(rng.uniform(0.2, 0.8)),
               float(rng.uniform(0.5, 1.3)), bool(rng.random() < 0.6))
        for _ in range(int(rng.choice([0, 0, 1, 1, 2])))
    )
    tl = bool(rng.random() < 0.2)
    spec = SimulationSpec(
        name=f"population-{index:05d}",
        sex=Sex.FEMALE if female else Sex.MALE,
        anatomy=Anatomy(**anatomy_kwargs),  # type: ignore[arg-type]
        tracer=Tracer.TL201 if tl else Tracer(str(rng.choice(
            [Tracer.TC99M_SESTAMIBI.value, Tracer.TC99M_TETROFOSMIN.value]))),
        states=(State.STRESS_EXERCISE, State.REDISTRIBUTION if tl else State.REST),
        defects=defects,
        counts_per_view=float(rng.uniform(6e5, 9e5) if tl else rng.uniform(8e5, 1.5e6)),
        gated_view=None if tl else "LAO45",
        uptake=(("liver", float(rng.uniform(0.05, 0.6))), ("gut", float(rng.uniform(0.05, 0.6)))),
    )
    return replace(spec)


#: Uniform ranges of the defect extent multiplier per territory that give 5–30% of the LV
#: myocardium in the default heart (the territories differ in width).
_EXTENT_RANGE = {"LAD": (0.15, 0.85), "LCX": (0.2, 1.2), "RCA": (0.25, 1.45)}


def _perfusion_anatomy(rng: np.random.Generator, female: bool, *, normal: bool,
                       **overrides: Any) -> Anatomy:
    kwargs: dict[str, Any] = {
        "edv_ml": float(rng.uniform(70, 160) if normal else rng.uniform(70, 220)),
        "lvef_percent": float(rng.uniform(52, 75) if normal else rng.uniform(30, 72)),
        "heart_rate_bpm": float(rng.uniform(55, 100)),
        "heart_azimuth_deg": float(45 + rng.uniform(-10, 10)),
        "heart_elevation_deg": float(30 + rng.uniform(-10, 10)),
        "lv_long_short_ratio": float(rng.uniform(1.6, 2.1)),
        "lv_wall_mm": float(rng.uniform(8, 12)),
        "heart_left_mm": float(25 + rng.uniform(-10, 10)),
        "heart_anterior_mm": float(50 + rng.uniform(-10, 10)),
    }
    if female:
        kwargs.update(torso_half_width_mm=float(rng.uniform(140, 170)),
                      torso_half_depth_mm=float(rng.uniform(90, 115)),
                      breast_volume_ml=float(rng.uniform(150, 1400)),
                      breast_drop_mm=float(rng.uniform(-20, 40)))
    else:
        kwargs.update(torso_half_width_mm=float(rng.uniform(155, 200)),
                      torso_half_depth_mm=float(rng.uniform(100, 135)))
    kwargs.update(overrides)
    return Anatomy(**kwargs)


def _tracer_settings(rng: np.random.Generator, tracer: Tracer) -> dict[str, Any]:
    tl = tracer is Tracer.TL201
    return {
        "tracer": tracer,
        "states": (State.STRESS_EXERCISE, State.REDISTRIBUTION if tl else State.REST),
        "counts_per_view": float(rng.uniform(5e5, 9e5) if tl else rng.uniform(8e5, 1.6e6)),
        "gated_view": None,
        # Hepatobiliary and gut activity: from faint to hotter than the myocardium's half.
        "uptake": (("liver", float(rng.uniform(0.05, 0.7) if not tl else rng.uniform(0.2, 0.4))),
                   ("gut", float(rng.uniform(0.05, 0.7) if not tl else rng.uniform(0.1, 0.2)))),
    }


def random_normal_spec(rng: np.random.Generator, index: int, sex: Sex,
                       tracer: Tracer) -> SimulationSpec:
    """A normal perfusion study (stress and rest/redistribution, three static views).

    For normal limits: body habitus, breast size and position (women), heart size,
    orientation and position, wall thickness, counts and liver/gut activity all vary.
    """
    return SimulationSpec(
        name=f"normal-{sex.value.lower()}-{index:05d}", sex=sex,
        anatomy=_perfusion_anatomy(rng, sex is Sex.FEMALE, normal=True),
        **_tracer_settings(rng, tracer))


def random_perfusion_spec(rng: np.random.Generator, index: int,
                          normal_fraction: float = 0.4) -> SimulationSpec:
    """A study of the perfusion benchmark: normals with their traps, or 1–2 defects.

    Women half of the time (breasts of random size and position), liver and gut from faint
    to hot, Tc-99m agents (80%) or Tl-201; defects of a random territory with severity
    20–70% and extent 5–30% of the LV myocardium, reversible (60%) or fixed; fixed defects
    come with reduced wall motion in their territory.
    """
    female = bool(rng.random() < 0.5)
    tracer = Tracer.TL201 if rng.random() < 0.2 else Tracer(str(rng.choice(
        [Tracer.TC99M_SESTAMIBI.value, Tracer.TC99M_TETROFOSMIN.value])))
    defects: list[Defect] = []
    if rng.random() >= normal_fraction:
        territories = list(rng.choice(["LAD", "LCX", "RCA"], size=int(rng.choice([1, 1, 1, 2])),
                                      replace=False))
        for t in territories:
            lo, hi = _EXTENT_RANGE[str(t)]
            defects.append(Defect(str(t), float(rng.uniform(0.2, 0.7)),
                                  float(rng.uniform(lo, hi)), bool(rng.random() < 0.6)))
    motion = {d.territory: 0.3 for d in defects if not d.reversible and d.severity > 0.4}
    return SimulationSpec(
        name=f"perfusion-{index:05d}", sex=Sex.FEMALE if female else Sex.MALE,
        anatomy=_perfusion_anatomy(rng, female, normal=not defects, wall_motion=motion),
        defects=tuple(defects), **_tracer_settings(rng, tracer))
