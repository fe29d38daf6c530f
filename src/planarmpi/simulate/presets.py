"""Named clinical pictures for ``planarmpi simulate --preset``, and random populations."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from planarmpi.model import Sex, State, Tracer
from planarmpi.simulate.firstpass import FirstPassSpec
from planarmpi.simulate.gating import BeatModel
from planarmpi.simulate.phantom import Anatomy, Defect
from planarmpi.simulate.study import SimulationSpec

__all__ = ["PRESETS", "preset", "random_spec"]

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
