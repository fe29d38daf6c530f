"""A site's perfusion settings: the thresholds of :class:`PerfusionParams` from a mapping.

The verdict thresholds, the limit's SD multiplier, the segment score thresholds and the
reversibility and territory rules are ours, chosen on simulated development populations
(docs/validation.md) — a site that validates its own choice on its own patients sets them
in a settings file (``planarmpi analyze --perfusion-settings FILE``), YAML or JSON::

    abnormal_summed_score: 4
    scoring:
      sd_multiplier: 2.75
    territory:
      relative: 0.4

Top-level keys are :class:`PerfusionParams` fields; ``scoring`` and ``territory`` hold
:class:`ScoringParams` and :class:`TerritoryParams` fields. The profile settings (number of
angles, smoothing) are not settable here: they must match the normal limits', which record
them. Every key is checked: an unknown key, a value of the wrong type or out of range is an
error naming the source and the key, never ignored.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.scoring import ScoringParams
from planarmpi.analysis.perfusion.territory import TerritoryParams
from planarmpi.errors import InvalidInputError
from planarmpi.io.documents import load_mapping, setting_value

__all__ = ["SETTABLE_SECTIONS", "perfusion_params_from_mapping", "perfusion_params_to_mapping",
           "read_perfusion_settings"]

#: The nested sections a settings mapping may hold, and their classes.
SETTABLE_SECTIONS: dict[str, type] = {"scoring": ScoringParams, "territory": TerritoryParams}
#: Fields of PerfusionParams that are not settable from a file, and why.
_NOT_SETTABLE = {
    "profile": "the profile settings must match the normal limits' (they record them)",
    "motion": "patient-motion settings are not site thresholds",
    "tid_measure": "the TID measurement's method settings are not site thresholds "
                   "(tid_limit is)",
}


def _build(cls: type, doc: Mapping[str, Any], base: Any, where: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    changes: dict[str, Any] = {}
    for key, raw in doc.items():
        name = f"{where}.{key}" if where else str(key)
        if key in _NOT_SETTABLE and cls is PerfusionParams:
            raise InvalidInputError(f"{name}: {_NOT_SETTABLE[key]}")
        if key not in fields:
            known = ", ".join(sorted(k for k in fields if k not in _NOT_SETTABLE))
            raise InvalidInputError(f"{name}: unknown setting (known: {known})")
        if cls is PerfusionParams and key in SETTABLE_SECTIONS:
            if not isinstance(raw, Mapping):
                raise InvalidInputError(f"{name}: expected a mapping of "
                                        f"{SETTABLE_SECTIONS[key].__name__} settings")
            changes[key] = _build(SETTABLE_SECTIONS[key], raw, getattr(base, key), name)
        else:
            changes[key] = setting_value(raw, str(fields[key].type), name)
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as exc:  # the class's own range checks
        raise InvalidInputError(f"{where or 'settings'}: {exc}") from None


def perfusion_params_from_mapping(doc: Mapping[str, Any], source: str = "<settings>",
                                  base: PerfusionParams | None = None) -> PerfusionParams:
    """The perfusion settings of ``base`` (the defaults) with those of ``doc`` applied.

    Raises
    ------
    InvalidInputError
        Naming ``source`` and the key: unknown, not settable, wrong type or out of range.
    """
    try:
        params: PerfusionParams = _build(PerfusionParams, doc, base or PerfusionParams(), "")
        return params
    except InvalidInputError as exc:
        raise InvalidInputError(f"{source}: {exc}") from None


def perfusion_params_to_mapping(params: PerfusionParams) -> dict[str, Any]:
    """The settable settings of ``params`` (round-trips through
    :func:`perfusion_params_from_mapping`; recorded in result.json)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(PerfusionParams):
        if f.name in _NOT_SETTABLE:
            continue
        value = getattr(params, f.name)
        if f.name in SETTABLE_SECTIONS:
            value = {k: list(v) if isinstance(v, tuple) else v
                     for k, v in dataclasses.asdict(value).items()}
        out[f.name] = value
    return out


def read_perfusion_settings(path: str | os.PathLike[str]) -> PerfusionParams:
    """Read a settings file (YAML or JSON) into :class:`PerfusionParams`.

    Raises
    ------
    InvalidInputError
        Naming the file: unreadable, not a mapping, or a key as in
        :func:`perfusion_params_from_mapping`.
    """
    return perfusion_params_from_mapping(load_mapping(path, "perfusion settings"), str(path))
