"""Coded domain values: views, physiological states, tracers, sex, series kinds.

Public functions accept either the enum member or its string value and coerce once with
``Enum(value)`` at the boundary.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Chamber", "Level", "SeriesKind", "Sex", "State", "Tracer", "View"]


class SeriesKind(StrEnum):
    """What a planar NM image holds, after DICOM Image Type value 3 (PS3.3 C.8.4.8)."""

    STATIC = "STATIC"
    WHOLE_BODY = "WHOLE BODY"
    DYNAMIC = "DYNAMIC"
    GATED = "GATED"


class View(StrEnum):
    """Planar projection, named from the camera's position relative to the patient.

    The angle of an oblique view is kept separately (``view_angle_deg``), so that LAO 30°,
    LAO 45° and LAO 70° are all ``View.LAO``.
    """

    ANTERIOR = "ANT"
    POSTERIOR = "POST"
    LAO = "LAO"
    RAO = "RAO"
    LPO = "LPO"
    RPO = "RPO"
    LEFT_LATERAL = "LLAT"
    RIGHT_LATERAL = "RLAT"
    UNKNOWN = "UNKNOWN"


class State(StrEnum):
    """Physiological state at tracer injection."""

    REST = "rest"
    STRESS = "stress"  # stress, modality not stated
    STRESS_EXERCISE = "stress-exercise"
    STRESS_PHARMACOLOGIC = "stress-pharmacologic"
    REDISTRIBUTION = "redistribution"
    REINJECTION = "reinjection"
    UNKNOWN = "unknown"

    @property
    def is_stress(self) -> bool:
        """True for every stress state."""
        return self in (State.STRESS, State.STRESS_EXERCISE, State.STRESS_PHARMACOLOGIC)


class Tracer(StrEnum):
    """Radiopharmaceutical, as far as the data tell."""

    TC99M_SESTAMIBI = "Tc-99m sestamibi"
    TC99M_TETROFOSMIN = "Tc-99m tetrofosmin"
    TC99M_RED_CELLS = "Tc-99m red blood cells"
    TC99M_PERFUSION = "Tc-99m perfusion agent"  # named Tc-99m cardiac agent, which unknown
    TC99M = "Tc-99m"  # known from the 140 keV window only
    TL201 = "Tl-201"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def is_technetium(self) -> bool:
        """True for every Tc-99m labelled agent."""
        return self.value.startswith("Tc-99m")

    @property
    def is_perfusion_agent(self) -> bool:
        """True for the myocardial perfusion tracers (sestamibi, tetrofosmin, a Tc-99m
        cardiac agent not named, Tl-201)."""
        return self in (Tracer.TC99M_SESTAMIBI, Tracer.TC99M_TETROFOSMIN,
                        Tracer.TC99M_PERFUSION, Tracer.TL201)

    @property
    def half_life_h(self) -> float | None:
        """Physical half-life of the nuclide in hours (Tc-99m 6.0067 h, Tl-201 73.01 h;
        NNDC/ENSDF), None when the nuclide is not known."""
        if self.is_technetium:
            return 6.0067
        if self is Tracer.TL201:
            return 73.01
        return None


class Sex(StrEnum):
    """Patient's Sex (0010,0040)."""

    MALE = "M"
    FEMALE = "F"
    OTHER = "O"
    UNKNOWN = "unknown"


class Chamber(StrEnum):
    """Cardiac chamber an ejection fraction refers to."""

    LV = "LV"
    RV = "RV"


class Level(StrEnum):
    """Severity of a quality-control finding."""

    INFO = "info"
    WARN = "warn"
    FAIL = "fail"
