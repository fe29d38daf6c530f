"""The planarmpi domain model: frozen, validated dataclasses and enums."""

from planarmpi.model.enums import Chamber, Level, SeriesKind, Sex, State, Tracer, View
from planarmpi.model.findings import Finding, overall_status
from planarmpi.model.patient import Patient, StudyHeader
from planarmpi.model.series import (
    Acquisition,
    DynamicPhase,
    DynamicSeries,
    EnergyWindow,
    GatedSeries,
    GatingInfo,
    Radiopharmaceutical,
    StaticImage,
)
from planarmpi.model.study import DeclinedObject, Series, Study

__all__ = [
    "Acquisition",
    "Chamber",
    "DeclinedObject",
    "DynamicPhase",
    "DynamicSeries",
    "EnergyWindow",
    "Finding",
    "GatedSeries",
    "GatingInfo",
    "Level",
    "Patient",
    "Radiopharmaceutical",
    "Series",
    "SeriesKind",
    "Sex",
    "State",
    "StaticImage",
    "Study",
    "StudyHeader",
    "Tracer",
    "View",
    "overall_status",
]
