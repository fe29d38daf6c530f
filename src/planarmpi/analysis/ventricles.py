"""Finding the ventricles of a gated blood-pool study (LAO best-septal view).

The end-diastolic image is divided into basins (a watershed of its counts) around its
count maxima. A maximum whose pixels beat in ventricular phase — first harmonic peaking near
end-diastole, where atria and great vessels peak in systole, ~180° away (the project's
domain notes, "Phase analysis") — is a ventricle. In the LAO best-septal view the septum
separates the two ventricles and the LV lies on the image right (the patient's left and
posterior), so the LV is the rightmost ventricular basin and the RV the leftmost one. The
LV is *not* assumed to be the brightest structure: the RV, nearer the camera, often is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.segmentation import watershed

from planarmpi.analysis.fourier import first_harmonic_images

__all__ = ["VentricleMap", "circular_distance_deg", "find_ventricles"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
Pixel = tuple[int, int]


def circular_distance_deg(a: Array | float, b: Array | float) -> Array:
    """Smallest absolute difference between angles in degrees (0–180)."""
    return np.asarray(np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0))


@dataclass(frozen=True, slots=True)
class VentricleMap:
    """Functional images and the basins of the end-diastolic image.

    Attributes
    ----------
    amplitude, phase_deg : ndarray of shape (rows, columns)
        First-harmonic images.
    ventricular_phase_deg : float
        Amplitude-weighted mean phase of the strongly beating pixels.
    lv_seed_rc, rv_seed_rc : tuple of int, or None
        Count maxima of the two ventricles (RV None when only one ventricle was found).
    lv_territory, rv_territory : ndarray of bool
        Their basins: the LV's own pixels end at the septum, the valve plane and wherever
        another structure's counts take over.
    other : ndarray of bool
        Basins of maxima that do not beat in ventricular phase (atria, vessels, spleen).
    moved : tuple of VentricleMap
        The maps drawn again from seeds moved by ``find_ventricles(seed_offsets_px=…)``.
    """

    amplitude: Array
    phase_deg: Array
    ventricular_phase_deg: float
    lv_seed_rc: Pixel | None
    rv_seed_rc: Pixel | None
    lv_territory: Mask
    rv_territory: Mask
    other: Mask
    moved: tuple[VentricleMap, ...] = ()


def _weighted_circular_mean(phase_deg: Array, weights: Array) -> float:
    a = np.radians(phase_deg)
    return float(np.degrees(np.arctan2((weights * np.sin(a)).sum(),
                                       (weights * np.cos(a)).sum())) % 360.0)


def _beating_part(basin: Mask, seed: Pixel | None, amplitude: Array, phase: Array,
                  v_phase: float, beating_fraction: float) -> Mask:
    """The part of a ventricle's basin that beats in ventricular phase.

    Relative to the basin's own strongest beat, so that a poorly contracting LV keeps its
    pixels; what merely lies in the basin (a static atrium, tissue) is cut away, with one
    pixel of margin.
    """
    if seed is None or not basin.any():
        return np.zeros_like(basin)
    own_max = float(amplitude[basin].max())
    beats = basin & (amplitude >= beating_fraction * own_max) & (
        circular_distance_deg(phase, v_phase) <= 90.0)
    labels, _ = ndimage.label(ndimage.binary_dilation(beats, iterations=1) & basin)
    keep = labels == labels[seed] if labels[seed] else labels > 0
    return np.asarray(ndimage.binary_fill_holes(keep))


def find_ventricles(frames: Array, pixel_mm: float, *, functional_sigma_px: float = 1.5,
                    peak_separation_mm: float = 20.0, min_amplitude_fraction: float = 0.05,
                    phase_window_deg: float = 60.0, floor_fraction: float = 0.3,
                    beating_fraction: float = 0.1, search_fraction: float = 0.6,
                    blob_sigma_mm: float = 12.0,
                    seed_offsets_px: Sequence[tuple[int, int]] = ()) -> VentricleMap:
    """Locate the ventricles in gated frames.

    Parameters
    ----------
    frames : ndarray of shape (n, rows, columns)
        Smoothed, coverage-normalised frames of one cycle, slot 0 at the R wave.
    pixel_mm : float
        Pixel size (mm).
    functional_sigma_px : float
        Extra smoothing (pixels) for the first-harmonic images.
    peak_separation_mm : float
        Count maxima closer than this are one structure.
    min_amplitude_fraction, phase_window_deg : float
        A ventricular maximum beats with at least this fraction of the largest amplitude
        and within this distance of the ventricular phase.
    floor_fraction : float
        Pixels below this fraction of the LV's end-diastolic maximum belong to no basin.
    beating_fraction : float
        A ventricle keeps the pixels of its basin that beat with at least this fraction of
        its own largest amplitude.
    search_fraction : float
        Central part of the field of view searched for maxima.
    blob_sigma_mm : float
        Scale of the Laplacian of Gaussian that finds the chambers' centres.
    seed_offsets_px : sequence of (int, int)
        (rows, columns) shifts of the ventricles' seeds (the watershed markers) after they
        are found: the map is drawn again from each moved pair and returned in
        ``VentricleMap.moved`` (the ROI-seed sensitivity of the EF).
    """
    functional = ndimage.gaussian_filter(frames, (0, functional_sigma_px, functional_sigma_px),
                                         mode="nearest")
    amplitude, phase = first_harmonic_images(functional)
    ed = frames[0]
    rows, cols = ed.shape
    r0, c0 = int(rows * (1 - search_fraction) / 2), int(cols * (1 - search_fraction) / 2)
    central = np.zeros(ed.shape, dtype=bool)
    central[r0 : rows - r0, c0 : cols - c0] = True
    empty = np.zeros(ed.shape, dtype=bool)
    a_max = float(amplitude[central].max()) if central.any() else 0.0
    if a_max <= 0 or float(ed[central].max()) <= 0:
        return VentricleMap(amplitude, phase, 0.0, None, None, empty, empty, empty)
    strong = central & (amplitude >= 0.3 * a_max)
    v_phase = _weighted_circular_mean(phase[strong], amplitude[strong])

    # Blob centres rather than plain maxima: a small or dim LV beside a bright RV shows as
    # a shoulder on the RV's slope, not as a maximum of its own, but it is still a minimum
    # of the Laplacian of Gaussian at the scale of a ventricle.
    blob = ndimage.gaussian_laplace(ed, blob_sigma_mm / pixel_mm)
    footprint = max(3, round(peak_separation_mm / pixel_mm) | 1)
    peaks = (blob == ndimage.minimum_filter(blob, size=footprint)) & central & (blob < 0)
    peaks &= ed >= 0.3 * float(ed[central].max())
    local_amp = ndimage.uniform_filter(amplitude, 3)
    local_phase = phase
    ventricular: list[Pixel] = []
    others: list[Pixel] = []
    for r, c in np.argwhere(peaks):
        px = (int(r), int(c))
        beats = local_amp[px] >= min_amplitude_fraction * a_max
        in_phase = circular_distance_deg(local_phase[px], v_phase) <= phase_window_deg
        (ventricular if beats and in_phase else others).append(px)
    if not ventricular:
        return VentricleMap(amplitude, phase, v_phase, None, None, empty, empty, empty)
    lv_seed = max(ventricular, key=lambda rc: (rc[1], -blob[rc]))
    left = [rc for rc in ventricular
            if rc[1] < lv_seed[1]
            and np.hypot(rc[0] - lv_seed[0], rc[1] - lv_seed[1]) * pixel_mm >= peak_separation_mm]
    rv_seed = min(left, key=lambda rc: (rc[1], blob[rc])) if left else None
    def basins(lv: Pixel, rv: Pixel | None) -> tuple[Mask, Mask, Mask]:
        markers = np.zeros(ed.shape, dtype=np.int32)
        markers[(ed < floor_fraction * ed[lv]) | ~central] = 3
        for px in others:
            markers[px] = 4
        markers[lv] = 1
        if rv is not None:
            markers[rv] = 2
        regions = watershed(blob, markers)
        beating = (amplitude, phase, v_phase, beating_fraction)
        return (_beating_part(np.asarray(regions == 1), lv, *beating),
                _beating_part(np.asarray(regions == 2), rv, *beating), np.asarray(regions == 4))

    def shifted(rc: Pixel, offset: tuple[int, int]) -> Pixel:
        return (min(max(rc[0] + offset[0], 0), rows - 1),
                min(max(rc[1] + offset[1], 0), cols - 1))

    moved = []
    for offset in seed_offsets_px:
        lv_m = shifted(lv_seed, offset)
        rv_m = shifted(rv_seed, offset) if rv_seed is not None else None
        moved.append(VentricleMap(amplitude, phase, v_phase, lv_m, rv_m, *basins(lv_m, rv_m)))
    return VentricleMap(amplitude, phase, v_phase, lv_seed, rv_seed, *basins(lv_seed, rv_seed),
                        moved=tuple(moved))
