"""Procedure coding (CPT, HCPCS) of nuclear cardiology encounters; rules are yearly data."""

from planarmpi.coding.encounter import encounter_from_result
from planarmpi.coding.engine import (
    CodeLine,
    CodingResult,
    Encounter,
    available_years,
    code_encounter,
    load_rules,
)

__all__ = [
    "CodeLine",
    "CodingResult",
    "Encounter",
    "available_years",
    "code_encounter",
    "encounter_from_result",
    "load_rules",
]
