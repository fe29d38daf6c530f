"""One image per view and state for the perfusion analysis.

A camera can store one planar view as several images: one per energy window (Tl-201 is
acquired in its 68–80 keV mercury X-ray window and its 135 / 167 keV γ windows, which
cameras usually add into one image but may store apart, as frames of one instance or as
separate series), or again when the technologist repeats a view (after patient motion, a
poorly positioned breast). Profiles and segments are per view: analysed side by side, two
images of one view would score each segment twice. So, before the analysis:

1. The photopeak windows of one acquisition — images of the same state, view and angle,
   matrix and pixel size, from the same SOP instance or with the same acquisition date and
   time — are summed, as the camera would have summed them. A window that holds none of
   the tracer's photopeaks (a scatter window) is left out.
2. Of two or more acquisitions of one view and state, the last one (acquisition date and
   time, then series number) is analysed: a repeat is acquired because the first was not
   usable. The others are named in a warning, never dropped silently. Two detectors of one
   acquisition labelled with the same view (descriptions that name one view for a
   dual-head series) are not summed: detector 1 is analysed, with the same warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from planarmpi.model import EnergyWindow, Finding, Level, State, StaticImage, Tracer, View

__all__ = ["PHOTOPEAKS_KEV", "is_photopeak_window", "one_image_per_view", "summed_parts"]

#: Photopeak energies (keV) a perfusion tracer's image window should contain: Tc-99m's
#: 140.5 keV γ; Tl-201's Hg K X-rays (68.9–82.6 keV, the most abundant emission) and its
#: 135.3 and 167.4 keV γ.
PHOTOPEAKS_KEV: dict[str, tuple[float, ...]] = {
    "Tc-99m": (140.5,),
    "Tl-201": (70.8, 80.3, 135.3, 167.4),
}


def _peaks(tracer: Tracer) -> tuple[float, ...]:
    return PHOTOPEAKS_KEV["Tl-201" if tracer is Tracer.TL201 else "Tc-99m"]


def is_photopeak_window(window: EnergyWindow, tracer: Tracer) -> bool | None:
    """Whether one of the window's ranges holds a photopeak of the tracer; None when the
    window's ranges are not recorded."""
    if not window.ranges_kev:
        return None
    return any(lo <= e <= hi for lo, hi in window.ranges_kev for e in _peaks(tracer))


def _same_acquisition(a: StaticImage, b: StaticImage) -> bool:
    """Two windows of one acquisition: same matrix and pixel size, and the same SOP instance
    or the same (recorded) acquisition date and time."""
    qa, qb = a.acquisition, b.acquisition
    if a.pixels.shape != b.pixels.shape or qa.pixel_spacing_mm != qb.pixel_spacing_mm \
            or qa.detector != qb.detector:
        # Two detectors see two views: labelled alike, they are not windows to add.
        return False
    if qa.sop_instance_uid == qb.sop_instance_uid:
        return True
    return qa.acquisition_datetime is not None \
        and qa.acquisition_datetime == qb.acquisition_datetime


def summed_parts(images: Sequence[StaticImage]
                 ) -> list[tuple[StaticImage, list[StaticImage]]]:
    """The images :func:`one_image_per_view` sums, each with the windows it was summed
    from (for checks that must judge a view as the analysis reads it, such as its counts)."""
    return _resolve(images)[2]


def _window_text(window: EnergyWindow) -> str:
    ranges = " + ".join(f"{lo:g}–{hi:g}" for lo, hi in window.ranges_kev)
    return f"window {window.index}" + (f" ({ranges} keV)" if ranges else "")


def _summed(images: list[StaticImage]) -> StaticImage:
    """The windows' images added into one, under the first one's acquisition record with
    every window's ranges."""
    first = images[0]
    ranges = tuple(r for im in images for r in im.acquisition.energy_window.ranges_kev)
    names = [im.acquisition.energy_window.name for im in images
             if im.acquisition.energy_window.name]
    window = EnergyWindow(first.acquisition.energy_window.index, ranges, "+".join(names))
    pixels = np.sum([np.asarray(im.pixels, dtype=np.float64) for im in images], axis=0)
    durations = {im.frame_duration_ms for im in images}
    return StaticImage(replace(first.acquisition, energy_window=window), pixels,
                       durations.pop() if len(durations) == 1 else first.frame_duration_ms)


def _order(image: StaticImage) -> tuple[bool, str, int, int]:
    """Acquisition order: by date and time when recorded, then series number; of two
    detectors of one acquisition labelled with one view, detector 1 counts as the last."""
    a = image.acquisition
    when = a.acquisition_datetime.isoformat() if a.acquisition_datetime else ""
    return (a.acquisition_datetime is not None, when, a.series_number or 0, -a.detector)


def one_image_per_view(images: Sequence[StaticImage]
                       ) -> tuple[list[StaticImage], list[Finding]]:
    """The images to analyse, one per view and state, and the findings that say how.

    Images of an unknown view are passed through as they are. The order of the input is
    kept (each view at the place of its first image).
    """
    out, findings, _ = _resolve(images)
    return out, findings


def _resolve(images: Sequence[StaticImage]
             ) -> tuple[list[StaticImage], list[Finding],
                        list[tuple[StaticImage, list[StaticImage]]]]:
    """:func:`one_image_per_view`'s images and findings, and each sum with its parts."""
    sums: list[tuple[StaticImage, list[StaticImage]]] = []
    findings: list[Finding] = []
    groups: dict[tuple[str, str, float | None], list[StaticImage]] = {}
    order: list[tuple[str, str, float | None] | int] = []
    for i, image in enumerate(images):
        a = image.acquisition
        if a.view is View.UNKNOWN:
            order.append(i)
            continue
        angle = None if a.view_angle_deg is None else round(float(a.view_angle_deg), 1)
        key = (a.state.value, a.view.value, angle)
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append(image)
    chosen: dict[tuple[str, str, float | None], StaticImage] = {}
    for key, group in groups.items():
        if len(group) == 1:
            chosen[key] = group[0]
            continue
        acquisitions: list[list[StaticImage]] = []
        for image in group:
            home = next((acq for acq in acquisitions if _same_acquisition(acq[0], image)), None)
            if home is None:
                acquisitions.append([image])
            else:
                home.append(image)
        candidates: list[StaticImage] = []
        for acq in acquisitions:
            if len(acq) == 1:
                candidates.append(acq[0])
                continue
            tracer = acq[0].acquisition.tracer
            peaks = [im for im in acq
                     if is_photopeak_window(im.acquisition.energy_window, tracer) is not False]
            left_out = [im for im in acq if im not in peaks]
            label = acq[0].acquisition.display_name
            if left_out:
                findings.append(Finding(
                    "PERFUSION_WINDOW_NOT_PHOTOPEAK", Level.INFO,
                    f"{label}: " + ", ".join(_window_text(im.acquisition.energy_window)
                                             for im in left_out)
                    + f" holds no {tracer.value} photopeak (a scatter window?): not used",
                    acq[0].acquisition.series_instance_uid))
            if not peaks:
                peaks = acq  # nothing better to analyse; the finding says why
            if len(peaks) > 1:
                findings.append(Finding(
                    "PERFUSION_WINDOWS_SUMMED", Level.INFO,
                    f"{label}: {len(peaks)} energy windows of one acquisition ("
                    + ", ".join(_window_text(im.acquisition.energy_window) for im in peaks)
                    + ") summed into one image, as the camera sums them",
                    acq[0].acquisition.series_instance_uid))
                summed = _summed(peaks)
                sums.append((summed, peaks))
                candidates.append(summed)
            else:
                candidates.append(peaks[0])
        if len(candidates) > 1:
            ordered = sorted(candidates, key=_order)
            last, earlier = ordered[-1], ordered[:-1]
            unknown = last.acquisition.state is State.UNKNOWN
            findings.append(Finding(
                "PERFUSION_VIEW_REPEATED", Level.WARN,
                f"{len(candidates)} images of the {last.acquisition.view.value} view "
                + ("whose state (stress or rest) is not recorded — name it in the series "
                   "description or protocol name" if unknown
                   else f"({last.acquisition.state.value})")
                + ": the last, "
                f"{last.acquisition.display_name}, is analysed; not analysed: "
                + "; ".join(f"{im.acquisition.display_name}"
                            + (f" ({im.acquisition.source_file})"
                               if im.acquisition.source_file else "") for im in earlier)
                + " — a repeated view replaces the first (two detectors labelled with one "
                "view: detector 1 is taken); check that it is the one to read",
                last.acquisition.series_instance_uid))
            chosen[key] = last
        else:
            chosen[key] = candidates[0]
    out = [images[item] if isinstance(item, int) else chosen[item] for item in order]
    return out, findings, sums
