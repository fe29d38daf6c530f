"""A montage of every series of a study folder, for a person to look at."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from planarmpi.io.outputs import write_figure
from planarmpi.model import GatedSeries, Study


def write_preview(studies: Sequence[Study], png: str | os.PathLike[str]) -> Path:
    """Write a PNG montage of every series of ``studies``.

    Static views are shown as they are; gated series as their first and middle time
    slots; dynamic series as the sum of all frames.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels: list[tuple[str, np.ndarray]] = []
    for study in studies:
        for s in study.series:
            label = s.acquisition.label
            pixels = np.asarray(s.pixels, dtype=float)
            if pixels.ndim == 2:
                panels.append((label, pixels))
            elif isinstance(s, GatedSeries):
                panels.append((f"{label} ED", pixels[0]))
                panels.append((f"{label} ES", pixels[pixels.shape[0] * 35 // 100]))
            else:
                # Right-heart and left-heart phases of a first pass, roughly.
                n = pixels.shape[0]
                panels.append((f"{label} early", pixels[n // 10 : n // 4].sum(axis=0)))
                panels.append((f"{label} late", pixels[3 * n // 10 : n // 2].sum(axis=0)))
    n = max(len(panels), 1)
    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (label, image) in zip(axes.flat, panels, strict=False):
        ax.imshow(image, cmap="gray", interpolation="nearest")
        ax.set_title(label, fontsize=9)
    fig.tight_layout()
    out = Path(png)
    write_figure(out, fig, dpi=90)  # creates the folder
    plt.close(fig)
    return out
