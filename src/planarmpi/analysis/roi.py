"""Regions of interest given as polygons (user-drawn ROIs) and their masks."""

from __future__ import annotations

import numpy as np
from matplotlib.path import Path
from numpy.typing import NDArray

__all__ = ["mask_outline", "polygon_mask"]


def polygon_mask(vertices_rc: NDArray[np.float64] | list[list[float]],
                 shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Pixels whose centre lies inside a polygon.

    Parameters
    ----------
    vertices_rc : array of shape (n, 2)
        Vertices as (row, column) in pixel units, n ≥ 3, in either winding.
    shape : tuple of int
        (rows, columns) of the image.

    Raises
    ------
    ValueError
        For fewer than 3 vertices or non-finite values.
    """
    v = np.asarray(vertices_rc, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != 2 or v.shape[0] < 3 or not np.all(np.isfinite(v)):
        raise ValueError(f"a polygon needs ≥ 3 finite (row, column) vertices, got shape {v.shape}")
    rr, cc = np.indices(shape)
    points = np.column_stack([cc.ravel(), rr.ravel()]).astype(np.float64)
    inside = Path(v[:, ::-1]).contains_points(points)
    return np.asarray(inside.reshape(shape))


def mask_outline(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Pixels of ``mask`` with at least one 4-neighbour outside it (for drawing)."""
    m = np.asarray(mask, dtype=bool)
    padded = np.pad(m, 1)
    interior = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    return np.asarray(m & ~interior)
