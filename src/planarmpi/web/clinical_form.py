"""The report editor's clinical-context form: fields ↔ the ``planarmpi/clinical@1`` mapping.

The form covers what a department fills for most studies; anything else (injections,
sessions, several priors, limits) goes in the advanced YAML box, which, when not empty, is
used as the whole document instead of the fields.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FIELDS", "form_to_mapping", "mapping_to_form"]

#: (form name, path in the mapping, kind) — kind: text, number, list, bp.
FIELDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("indication_text", ("indication", "text"), "text"),
    ("indication_icd10", ("indication", "icd10"), "text"),
    ("referring_physician", ("referring_physician",), "text"),
    ("interpreting_physician", ("interpreting_physician",), "text"),
    ("place_of_service", ("place_of_service",), "text"),
    ("history", ("history",), "list"),
    ("medications", ("medications",), "list"),
    ("height_cm", ("height_cm",), "number"),
    ("weight_kg", ("weight_kg",), "number"),
    ("stress_type", ("stress", "type"), "text"),
    ("protocol", ("stress", "protocol"), "text"),
    ("stages_completed", ("stress", "stages_completed"), "number"),
    ("duration_min", ("stress", "duration_min"), "number"),
    ("mets", ("stress", "mets"), "number"),
    ("agent", ("stress", "agent"), "text"),
    ("dose", ("stress", "dose"), "number"),
    ("dose_unit", ("stress", "dose_unit"), "text"),
    ("infusion_min", ("stress", "infusion_min"), "number"),
    ("side_effects", ("stress", "side_effects"), "text"),
    ("rest_hr_bpm", ("stress", "rest_hr_bpm"), "number"),
    ("peak_hr_bpm", ("stress", "peak_hr_bpm"), "number"),
    ("rest_bp_mmhg", ("stress", "rest_bp_mmhg"), "bp"),
    ("peak_bp_mmhg", ("stress", "peak_bp_mmhg"), "bp"),
    ("angina", ("stress", "angina"), "text"),
    ("st_deviation_mm", ("stress", "st_deviation_mm"), "number"),
    ("symptoms", ("stress", "symptoms"), "text"),
    ("termination_reason", ("stress", "termination_reason"), "text"),
    ("arrhythmias", ("stress", "arrhythmias"), "text"),
    ("supervision", ("stress", "roles", "supervision"), "text"),
    ("tracing", ("stress", "roles", "tracing"), "text"),
    ("interpretation", ("stress", "roles", "interpretation"), "text"),
    ("prior_date", ("priors", "0", "date"), "text"),
    ("prior_description", ("priors", "0", "description"), "text"),
    ("prior_lvef_percent", ("priors", "0", "lvef_percent"), "number"),
)
_EXERCISE_ONLY = {"protocol", "stages_completed", "duration_min", "mets", "angina",
                  "termination_reason"}
_PHARMACOLOGIC_ONLY = {"agent", "dose", "dose_unit", "infusion_min", "side_effects"}


def _value(raw: str, kind: str) -> Any:
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw  # left as text: the validator names the field and the value
    if kind == "list":
        return [x.strip() for x in raw.split(";") if x.strip()]
    return raw


def form_to_mapping(form: dict[str, Any]) -> dict[str, Any] | None:
    """The clinical mapping the filled fields describe; None when nothing was filled.

    Fields of the other stress kind (exercise vs pharmacologic) and of no stress are
    ignored, so a form switched between kinds does not carry stale values.
    """
    stress_type = str(form.get("stress_type", "")).strip()
    doc: dict[str, Any] = {}
    for name, path, kind in FIELDS:
        raw = str(form.get(name, "")).strip()
        if not raw:
            continue
        if path[0] == "stress" and name != "stress_type" and stress_type in ("", "none"):
            continue
        if name in _EXERCISE_ONLY and stress_type != "exercise":
            continue
        if name in _PHARMACOLOGIC_ONLY and stress_type != "pharmacologic":
            continue
        node: Any = doc
        for key in path[:-1]:
            if key == "0":
                if not node:
                    node.append({})
                node = node[0]
                continue
            node = node.setdefault(key, [] if key == "priors" else {})
        node[path[-1]] = _value(raw, kind)
    if list(doc) == ["stress"] and doc["stress"].get("type") in (None, "none"):
        return None
    return doc or None


def mapping_to_form(doc: dict[str, Any] | None) -> dict[str, str]:
    """The fields' values for a stored mapping (first prior only)."""
    out: dict[str, str] = {}
    for name, path, kind in FIELDS:
        node: Any = doc or {}
        for key in path:
            if key == "0":
                node = node[0] if isinstance(node, list) and node else {}
            elif isinstance(node, dict):
                node = node.get(key)
            else:
                node = None
            if node is None:
                break
        if node is None:
            continue
        if kind == "list" and isinstance(node, list):
            out[name] = "; ".join(str(x) for x in node)
        elif isinstance(node, float) and node.is_integer():
            out[name] = str(int(node))
        else:
            out[name] = str(node)
    return out
