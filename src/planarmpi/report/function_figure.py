"""Function figure: LV time–activity (volume) curves of gated blood pool and first pass,
and the phase and amplitude images of the gated blood pool."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from planarmpi.analysis.fourier import first_harmonic_images
from planarmpi.io.outputs import write_figure
from planarmpi.model import Study

__all__ = ["write_function_figure"]


def write_function_figure(result: dict[str, Any], png: str | os.PathLike[str],
                          study: Study | None = None,
                          manual_rois: dict[str, Any] | None = None) -> Path | None:
    """Draw the volume and first-pass curves held in a result's ``function`` entries.

    One panel per curve: the gated blood-pool LV curve (background-corrected counts against
    time in the cycle, ED and ES marked) and the first-pass curves (whole-heart/lung, LV and
    RV regions against time). With the ``study``, each gated blood-pool series adds its
    end-diastolic frame with the ROIs the EF was measured with (ED and ES LV contours,
    background region; ``manual_rois`` — ``ManualRois`` by Series Instance UID — when the
    user drew them) and its first-harmonic amplitude and phase images (phase shown where the
    amplitude exceeds 10% of its maximum). Returns None when the result holds no curve.
    """
    panels: list[tuple[str, Any]] = []
    gated = {s.acquisition.series_instance_uid: s for s in (study.gated if study else ())}
    for entry in result.get("function", []):
        if entry.get("method") == "gated-blood-pool" and entry.get("curve_counts"):
            panels.append(("pool", entry))
            series = gated.get(entry.get("series_instance_uid", ""))
            if series is not None:
                rois = _roi_panel(series, (manual_rois or {}).get(
                    entry.get("series_instance_uid", "")))
                if rois is not None:
                    panels.append(("rois", rois))
                amplitude, phase = first_harmonic_images(
                    np.asarray(series.pixels, dtype=np.float64))
                panels.append(("amplitude", amplitude))
                panels.append(("phase", np.where(amplitude > 0.1 * amplitude.max(), phase,
                                                 np.nan)))
        elif entry.get("method") == "gated-perfusion" and entry.get("volume_ml"):
            panels.append(("volumes", entry))
            series = gated.get(entry.get("series_instance_uid", ""))
            if series is not None:
                border = _border_panel(series)
                if border is not None:
                    panels.append(("border", border))
        elif entry.get("method") == "first-pass" and entry.get("curves"):
            panels.append(("first-pass", entry))
    if not panels:
        return None
    import matplotlib
    from skimage import measure

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    widths = [1.0 if kind in ("amplitude", "phase", "rois", "border") else 1.6
              for kind, _ in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * sum(widths), 3.4), squeeze=False,
                             gridspec_kw={"width_ratios": widths})
    for ax, (kind, entry) in zip(axes[0], panels, strict=True):
        if kind in ("pool", "volumes"):
            # The LV curve over the cycle with ED and ES marked: counts (blood pool) or
            # area–length volumes (gated perfusion).
            key, ylabel, method = (("curve_counts", "LV counts (background corrected)",
                                    "Gated blood pool") if kind == "pool" else
                                   ("volume_ml", "LV volume, area–length (ml)",
                                    "Gated perfusion"))
            ax.plot(entry["frame_mid_ms"], entry[key], "o-", color="#1f3b5a", ms=3)
            ax.axvline(entry["ed_time_ms"], color="#2ca02c", ls="--", lw=1, label="ED")
            ax.axvline(entry["es_time_ms"], color="#d62728", ls="--", lw=1, label="ES")
            ax.set_xlabel("time in cycle (ms)")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{method}: LVEF {entry['lvef_percent']:.0f}%", fontsize=10)
            ax.legend(fontsize=8)
        elif kind == "border":
            frame, lines = entry
            ax.imshow(frame, cmap="gray")
            for (rows, cols), colour, label in lines:
                ax.plot(cols, rows, color=colour, lw=1.2, label=label)
            ax.set_title("Endocardial border", fontsize=10)
            ax.legend(fontsize=7, loc="lower right")
            ax.set_axis_off()
            continue
        elif kind == "rois":
            frame, contours = entry
            ax.imshow(frame, cmap="gray")
            for mask, colour, label in contours:
                for c in measure.find_contours(mask.astype(float), 0.5):
                    ax.plot(c[:, 1], c[:, 0], color=colour, lw=1.2, label=label)
                    label = None
            ax.set_title("ROIs on the ED frame", fontsize=10)
            ax.legend(fontsize=7, loc="lower right")
            ax.set_axis_off()
            continue
        elif kind == "amplitude":
            ax.imshow(entry, cmap="gray")
            ax.set_title("First-harmonic amplitude", fontsize=10)
            ax.set_axis_off()
            continue
        elif kind == "phase":
            shown = ax.imshow(entry, cmap="hsv", vmin=0, vmax=360)
            ax.set_title("Phase (0° = R wave)", fontsize=10)
            ax.set_axis_off()
            fig.colorbar(shown, ax=ax, fraction=0.046, label="degrees")
            continue
        else:
            curves = entry["curves"]
            t = curves.get("time_s") or list(range(len(next(iter(curves.values())))))
            for key, colour in (("heart_counts", "#7f7f7f"), ("lv_roi_counts", "#d62728"),
                                ("rv_roi_counts", "#1f77b4")):
                if curves.get(key):
                    ax.plot(t[:len(curves[key])], curves[key], color=colour, lw=1.2,
                            label=key.replace("_counts", "").replace("_", " "))
            lv = entry.get("lv") or {}
            title = "First pass" + (f": LVEF {lv['ef_percent']:.0f}%" if lv else "")
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("time (s)")
            ax.set_ylabel("counts per frame")
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(png)
    write_figure(path, fig, dpi=110)
    plt.close(fig)
    return path


def _border_panel(series: Any) -> tuple[Any, list[tuple[Any, str, str]]] | None:
    """The summed frame with the ED and ES endocardial borders of the geometric EF."""
    from planarmpi.analysis.gated_perfusion import analyze_gated_perfusion, border_points_rc

    try:
        gp = analyze_gated_perfusion(series)
    except ValueError:
        return None
    ed = int(np.argmax(gp.volume_ml))
    es = int(np.argmin(gp.volume_ml))
    spacing = series.acquisition.pixel_spacing_mm
    lines = []
    for index, colour, label in ((ed, "#2ca02c", "ED"), (es, "#d62728", "ES")):
        pts = border_points_rc(gp.radius_mm[index], gp.centre_rc, spacing)
        closed = np.vstack([pts, pts[:1]])
        lines.append(((closed[:, 0], closed[:, 1]), colour, label))
    frame = np.asarray(series.pixels, dtype=np.float64).sum(axis=0)
    # Crop to the LV with a margin of 2.5 end-diastolic radii.
    reach = 2.5 * float(gp.radius_mm[ed].max()) / float(min(spacing))
    r0 = max(int(gp.centre_rc[0] - reach), 0)
    c0 = max(int(gp.centre_rc[1] - reach), 0)
    r1 = min(int(gp.centre_rc[0] + reach) + 1, frame.shape[0])
    c1 = min(int(gp.centre_rc[1] + reach) + 1, frame.shape[1])
    lines = [((rows - r0, cols - c0), colour, label) for (rows, cols), colour, label in lines]
    return frame[r0:r1, c0:c1], lines


def _roi_panel(series: Any, manual: Any) -> tuple[Any, list[tuple[Any, str, str]]] | None:
    """The ED frame and the ROIs of the blood-pool analysis (ED, ES LV; background)."""
    from planarmpi.analysis.bloodpool import analyze_blood_pool

    try:
        bp = analyze_blood_pool(series, manual=manual)
    except ValueError:
        return None
    ed, _, ed_mask, es_mask = bp.ed_es_rois()
    frame = np.asarray(series.pixels[ed], dtype=np.float64)
    return frame, [(ed_mask, "#2ca02c", "LV ED"), (es_mask, "#d62728", "LV ES"),
                   (bp.background, "#f2b33d", "background")]
