"""Perfusion figure: each view with its LV ring and scored segments, and its profile
against the normal limits — for the report and the workstation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from planarmpi.analysis.perfusion.images import one_image_per_view
from planarmpi.analysis.perfusion.motion import summed_view
from planarmpi.analysis.perfusion.rings import oriented_pixels
from planarmpi.analysis.perfusion.scoring import segment_arcs
from planarmpi.io.outputs import write_figure
from planarmpi.model import StaticImage, Study

__all__ = ["figure_title", "write_perfusion_figure"]

#: Segment colours by score 0–4 (normal → absent).
SCORE_COLOURS = ("#2ca02c", "#ffd92f", "#ff7f0e", "#d62728", "#4b0000")


def figure_title(section: dict[str, Any]) -> str:
    """The figure's title: the verdict, and the territories as the report words them.

    A study read *normal* can still list territories (segments reduced below the limits
    but not read as a defect: a score below the equivocal one, an attenuation pattern with
    normal wall motion, a reduction the rest images do not confirm); the written report
    says so, and the title must not read as "normal" with a defect beside it.
    """
    verdict = section.get("verdict", "")
    named = list(section.get("territories") or [])
    if not named:
        return f"Planar perfusion: {verdict}"
    territories = ", ".join(named)
    if verdict == "normal":
        word = "territory" if len(named) == 1 else "territories"
        return (f"Planar perfusion: normal (segments reduced in the {territories} {word}, "
                "not read as a defect)")
    return f"Planar perfusion: {verdict} (territories: {territories})"


def _image(study: Study, sop_uid: str, series_uid: str,
           section: dict[str, Any]) -> StaticImage | None:
    """The static view a profile was measured on; for a view acquired in time frames, its
    frames summed as the analysis did (realigned by the displacements it recorded); energy
    windows of one acquisition summed as the analysis did (:func:`one_image_per_view`)."""
    for s in one_image_per_view(study.statics)[0]:
        if (s.acquisition.sop_instance_uid == sop_uid
                and s.acquisition.series_instance_uid == series_uid):
            return s
    for d in study.framed_statics:
        acq = d.acquisition
        if acq.sop_instance_uid == sop_uid and acq.series_instance_uid == series_uid:
            recorded = (section.get("motion") or {}).get("views", [])
            motion: dict[str, Any] = next(
                (m for m in recorded if m.get("series_instance_uid") == series_uid), {})
            return summed_view(d, motion["displacement_mm"] if motion.get("corrected")
                               else None)
    return None


def _paired_row(axes: Any, paired: dict[str, Any], section: dict[str, Any]) -> None:
    """Last row (one plot across it): each view's stress − rest difference against its
    normal lower limit."""
    grid = axes[0].get_gridspec()
    fig = axes[0].figure
    for old in axes:
        old.remove()
    ax = fig.add_subplot(grid[-1, :])
    for view, data in paired.items():
        d = np.asarray(data["difference"], dtype=float)
        angles = np.arange(d.size) * (360.0 / d.size)
        scale = data.get("rest_scale")  # the rest profile's scale (absent before 2026-12-02)
        label = view if scale is None or scale == 1.0 else f"{view} (rest × {scale:.2f})"
        line = ax.plot(angles, d, lw=1.2, label=label)[0]
        ax.plot(angles, data["lower_limit"], ls="--", lw=0.8, color=line.get_color())
        induced = np.asarray(data["induced"], dtype=bool)
        ax.plot(angles[induced], d[induced], "x", color=line.get_color(), ms=4)
    ax.axhline(0.0, color="#888888", lw=0.5)
    ax.set_xlim(0, 360)
    ax.set_xticks([0, 90, 180, 270, 360])
    ax.set_xlabel("angle (°, stress template)", fontsize=7)
    segments = (section.get("reversibility") or {}).get("stress_induced_segments") or []
    ax.set_title("stress − rest of the same patient, normal lower limit (dashed); "
                 f"stress-induced: {', '.join(segments) or 'none'}", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right")


def write_perfusion_figure(study: Study, section: dict[str, Any],
                           png: str | os.PathLike[str]) -> Path | None:
    """Write the figure of a perfusion result (``StudyResult.perfusion``) as PNG.

    One row per state: each view with the fitted LV ridge and its five segments coloured
    by score (green normal, yellow mild, orange moderate, red severe, dark absent), then
    the views' profiles (solid) with the normal mean (dotted) and lower limit (dashed);
    points in defects are marked. With stress and rest images and paired limits, a last row
    shows the stress − rest difference of each view against its lower limit (points of a
    stress-induced reduction marked). Returns None when there is nothing to draw.
    """
    states = [s for s in section.get("states", []) if s.get("views")]
    if not states:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arcs = segment_arcs()
    paired = (section.get("reversibility") or {}).get("paired_difference") or {}
    n_cols = max(len(s["views"]) for s in states) + 1
    heights = [1.0] * len(states) + ([0.7] if paired else [])
    fig, axes = plt.subplots(len(heights), n_cols,
                             figsize=(3.2 * n_cols, 3.3 * sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for row, state in enumerate(states):
        profile_ax = axes[row, -1]
        for col, view in enumerate(state["views"]):
            ax = axes[row, col]
            ax.set_axis_off()
            image = _image(study, view["sop_instance_uid"], view["series_instance_uid"],
                           section)
            if image is None:
                continue
            pixels, _ = oriented_pixels(image)
            cr, cc = view["lv_centre_rc"]
            px = float(np.mean(image.acquisition.pixel_spacing_mm or (1.0, 1.0)))
            half = max(view["lv_semi_axes_mm"]) / px * 2.6
            ax.imshow(pixels, cmap="gray", interpolation="nearest")
            ax.set_xlim(cc - half, cc + half)
            ax.set_ylim(cr + half, cr - half)
            angles = np.radians(np.asarray(view["profile"]["angles_deg"]))
            values = np.asarray(view["profile"]["values"])
            # Ridge drawn from the ellipse: semi-axes and long-axis direction.
            a, b = (v / px for v in view["lv_semi_axes_mm"])
            phi = np.radians(view["lv_long_axis_deg"])
            t = np.radians(np.arange(0, 361, 4.0))
            ux, uy = a * np.cos(t), b * np.sin(t)
            rows = cr - ux * np.cos(phi) - uy * np.sin(phi)
            cols = cc + ux * np.sin(phi) - uy * np.cos(phi)
            ax.plot(cols, rows, color="white", lw=0.6, alpha=0.7)
            scores = {s["segment"]: s["score"] for s in view.get("segments", [])}
            key = view["view"]
            for index, start, end in arcs.get(key, []):
                span = (end - start) % 360
                theta = np.radians(start + np.linspace(0, span, 20))
                radius = 1.25 * max(a, b)
                score = scores.get(f"{key}-{index}")
                colour = SCORE_COLOURS[score] if score is not None else "#888888"
                ax.plot(cc + radius * np.sin(theta), cr - radius * np.cos(theta),
                        color=colour, lw=3.5, solid_capstyle="butt")
                mid = np.radians(start + span / 2)
                ax.text(cc + 1.5 * max(a, b) * np.sin(mid), cr - 1.5 * max(a, b) * np.cos(mid),
                        str(index), color="white", fontsize=7, ha="center", va="center")
            title = f"{state['state']} {view['view']}"
            if "extent_percent" in view:
                title += f"\nextent {view['extent_percent']:.0f}%"
            ax.set_title(title, fontsize=8)
            shown = np.asarray(view["profile"].get("aligned_values", values))
            line = profile_ax.plot(np.degrees(angles), shown, lw=1.2, label=view["view"])[0]
            if "lower_limit" in view["profile"]:
                profile_ax.plot(np.degrees(angles), view["profile"]["lower_limit"], ls="--",
                                lw=0.8, color=line.get_color())
                abnormal = np.asarray(view["profile"]["abnormal"], dtype=bool)
                profile_ax.plot(np.degrees(angles)[abnormal], shown[abnormal], "x",
                                color=line.get_color(), ms=4)
        for col in range(len(state["views"]), n_cols - 1):
            axes[row, col].set_axis_off()
        profile_ax.set_xlim(0, 360)
        profile_ax.set_ylim(0, 1.1)
        profile_ax.set_xticks([0, 90, 180, 270, 360])
        profile_ax.set_xlabel("angle (°, 0 = top, clockwise)", fontsize=7)
        profile_ax.set_title(f"{state['state']}: profiles, limits (dashed)\n"
                             f"summed score {state['summed_score']}", fontsize=8)
        profile_ax.tick_params(labelsize=7)
        profile_ax.legend(fontsize=7, loc="lower left")
    if paired:
        _paired_row(axes[-1], paired, section)
    fig.suptitle(figure_title(section), fontsize=10)
    fig.tight_layout()
    out = Path(png)
    write_figure(out, fig, dpi=110)
    plt.close(fig)
    return out
