"""User-drawn ROIs from a file: ``planarmpi analyze --rois FILE``.

Format (JSON or YAML), one entry per gated series keyed by Series Instance UID; coordinates
are (row, column) in pixels of that series' matrix::

    {
      "1.2.3.4": {
        "who": "J. Tech",
        "lv": [[[r, c], [r, c], ...], ...],          # one polygon per time slot, or
        "lv_ed": [[r, c], ...], "lv_es": [[r, c], ...],  # only end-diastole and end-systole
        "background": [[r, c], ...]                   # optional
      }
    }
"""

from __future__ import annotations

import os
from typing import Any

from planarmpi.analysis.bloodpool import ManualRois
from planarmpi.analysis.roi import polygon_mask
from planarmpi.errors import InvalidInputError
from planarmpi.io.documents import load_mapping
from planarmpi.model import Study

__all__ = ["read_roi_file", "rois_for_study"]


def read_roi_file(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Parse and check the structure of an ROI file.

    Raises
    ------
    InvalidInputError
        Naming the file and what is wrong.
    """
    name = str(path)
    data = load_mapping(path, "ROIs keyed by Series Instance UID")
    for uid, entry in data.items():
        if not isinstance(entry, dict):
            raise InvalidInputError(f"{name}: entry {uid!r} must be an object")
        has_slots = "lv" in entry
        has_pair = "lv_ed" in entry and "lv_es" in entry
        if has_slots == has_pair:
            raise InvalidInputError(
                f"{name}: entry {uid!r} needs either 'lv' (a polygon per slot) or both "
                "'lv_ed' and 'lv_es'")
    return data


def _mask(polygon: Any, shape: tuple[int, int], where: str) -> Any:
    try:
        return polygon_mask(polygon, shape)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"{where}: {exc}") from exc


def rois_for_study(spec: dict[str, dict[str, Any]], study: Study,
                   source: str = "ROI file") -> dict[str, ManualRois]:
    """Rasterise the file's polygons for the gated series of ``study`` they name."""
    out: dict[str, ManualRois] = {}
    for series in study.gated:
        uid = series.acquisition.series_instance_uid
        entry = spec.get(uid)
        if entry is None:
            continue
        shape = (int(series.pixels.shape[1]), int(series.pixels.shape[2]))
        where = f"{source}, series {uid}"
        if "lv" in entry:
            polygons = entry["lv"]
            if not isinstance(polygons, list) or len(polygons) != series.pixels.shape[0]:
                raise InvalidInputError(f"{where}: 'lv' needs one polygon per time slot "
                                        f"({series.pixels.shape[0]})")
            lv = tuple(_mask(p, shape, where) for p in polygons)
        else:
            lv = (_mask(entry["lv_ed"], shape, where), _mask(entry["lv_es"], shape, where))
        background = _mask(entry["background"], shape, where) if "background" in entry else None
        out[uid] = ManualRois(lv=lv, background=background, who=str(entry.get("who", "")))
    return out
