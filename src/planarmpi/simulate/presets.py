"""Named clinical pictures for ``planarmpi simulate --preset``."""

from __future__ import annotations

from dataclasses import replace

from planarmpi.model import Sex, State, Tracer
from planarmpi.simulate.phantom import Anatomy, Defect
from planarmpi.simulate.study import SimulationSpec

__all__ = ["PRESETS", "preset"]

_STRESS_REST = (State.STRESS_EXERCISE, State.REST)

PRESETS: dict[str, SimulationSpec] = {
    "normal-male": SimulationSpec(name="normal-male"),
    "normal-female": SimulationSpec(
        name="normal-female", sex=Sex.FEMALE,
        anatomy=Anatomy(torso_half_width_mm=155.0, torso_half_depth_mm=100.0,
                        breast_volume_ml=700.0, breast_drop_mm=10.0, edv_ml=95.0,
                        lvef_percent=65.0),
    ),
    "lad-ischemia": SimulationSpec(
        name="lad-ischemia", states=_STRESS_REST,
        defects=(Defect("LAD", 0.5, 1.0, reversible=True),),
    ),
    "lad-scar": SimulationSpec(
        name="lad-scar", states=_STRESS_REST,
        anatomy=Anatomy(lvef_percent=40.0, edv_ml=150.0, wall_motion={"LAD": 0.0}),
        defects=(Defect("LAD", 0.7, 1.0, reversible=False),),
    ),
    "lcx-ischemia": SimulationSpec(
        name="lcx-ischemia", states=_STRESS_REST,
        defects=(Defect("LCX", 0.5, 1.0, reversible=True),),
    ),
    "rca-ischemia": SimulationSpec(
        name="rca-ischemia", states=_STRESS_REST,
        defects=(Defect("RCA", 0.5, 1.0, reversible=True),),
    ),
    "rca-scar": SimulationSpec(
        name="rca-scar", states=_STRESS_REST,
        anatomy=Anatomy(lvef_percent=45.0, edv_ml=140.0, wall_motion={"RCA": 0.2}),
        defects=(Defect("RCA", 0.7, 1.0, reversible=False),),
    ),
    "dilated-cardiomyopathy": SimulationSpec(
        name="dilated-cardiomyopathy",
        anatomy=Anatomy(edv_ml=260.0, lvef_percent=22.0, lv_long_short_ratio=1.5),
    ),
    "muga-normal": SimulationSpec(
        name="muga-normal", tracer=Tracer.TC99M_RED_CELLS, states=(State.REST,),
        static_views=(), gated_view="LAO45", counts_per_view=4.0e6, matrix=64, pixel_mm=6.4,
        anatomy=Anatomy(lvef_percent=62.0),
    ),
    "muga-cardiotoxicity": SimulationSpec(
        name="muga-cardiotoxicity", tracer=Tracer.TC99M_RED_CELLS, states=(State.REST,),
        static_views=(), gated_view="LAO45", counts_per_view=4.0e6, matrix=64, pixel_mm=6.4,
        anatomy=Anatomy(lvef_percent=45.0, edv_ml=140.0),
    ),
    "thallium-normal": SimulationSpec(
        name="thallium-normal", tracer=Tracer.TL201, counts_per_view=7.0e5,
        states=(State.STRESS_EXERCISE, State.REDISTRIBUTION), gated_view=None,
    ),
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


def with_view_encoding(spec: SimulationSpec, encoding: str) -> SimulationSpec:
    """The same spec with the view written as ``code``, ``description`` or ``none``."""
    return replace(spec, view_encoding=encoding)  # type: ignore[arg-type]
