"""A site's quality-control limits: :class:`QCLimits` from a settings file.

The defaults are the published values cited on :class:`QCLimits` (Wackers, Bacharach,
the IAEA manual, ASNC 2016) and two planarmpi defaults that are not guideline values (the
rejected-beat share and the late-frame fall-off). A site that has validated other limits
on its own cameras sets them in a settings file (``planarmpi analyze --qc-settings FILE``),
YAML or JSON, every key a :class:`QCLimits` field::

    min_view_counts_tc99m: 800000
    max_rejected_beat_fraction: 0.10

Every key is checked: an unknown key, a value of the wrong type or a limit ≤ 0 is an error
naming the file and the key, never ignored. The limits applied are recorded in result.json
(``qc.limits``), so a result says which limits judged it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from planarmpi.errors import InvalidInputError
from planarmpi.io.documents import load_mapping, setting_value
from planarmpi.qc.limits import QCLimits

__all__ = ["qc_limits_from_mapping", "qc_limits_to_mapping", "read_qc_settings"]


def qc_limits_from_mapping(doc: Mapping[str, Any], source: str = "<qc settings>",
                           base: QCLimits | None = None) -> QCLimits:
    """The limits of ``base`` (the defaults) with those of ``doc`` applied.

    Raises
    ------
    InvalidInputError
        Naming ``source`` and the key: unknown, of the wrong type, or not > 0.
    """
    fields = {f.name: f for f in dataclasses.fields(QCLimits)}
    changes: dict[str, float] = {}
    for key, raw in doc.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise InvalidInputError(f"{source}: {key}: unknown QC limit (known: {known})")
        changes[str(key)] = setting_value(raw, str(fields[key].type), f"{source}: {key}")
    try:
        return dataclasses.replace(base or QCLimits(), **changes)
    except ValueError as exc:  # QCLimits' own range check
        raise InvalidInputError(f"{source}: {exc}") from None


def qc_limits_to_mapping(limits: QCLimits) -> dict[str, float]:
    """Every limit of ``limits`` by name (round-trips through
    :func:`qc_limits_from_mapping`; recorded in result.json)."""
    return {f.name: float(getattr(limits, f.name)) for f in dataclasses.fields(QCLimits)}


def read_qc_settings(path: str | os.PathLike[str]) -> QCLimits:
    """Read a QC settings file (YAML or JSON) into :class:`QCLimits`.

    Raises
    ------
    InvalidInputError
        Naming the file: unreadable, not a mapping, or a key as in
        :func:`qc_limits_from_mapping`.
    """
    return qc_limits_from_mapping(load_mapping(path, "QC limits"), str(path))
