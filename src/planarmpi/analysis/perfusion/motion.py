"""Patient motion during a static view acquired in time frames, measured and corrected.

A single-frame static view cannot show when the patient moved: the image is the time sum
of every position. A view acquired as a sequence of time frames (a *framed static view*,
:attr:`planarmpi.model.DynamicSeries.is_framed_static`) can: each frame is registered to
the sum of all frames and the patient's position over time follows.

1. The heart is located on the sum of the frames — its LV myocardial ring
   (:func:`~planarmpi.analysis.localize.locate_lv_ring`), else the hottest central focus
   (:func:`~planarmpi.analysis.localize.locate_heart`; until 2026-12-03 always that one,
   which a hot liver or gut loop can outshine); registration uses a window
   of ``window_mm`` around it, flat over the heart and tapered beyond (a Tukey window), so
   that the gut (whose activity moves by itself) and the edges of the field weigh little.
2. Each frame, band-passed (a Gaussian of ``smoothing_mm`` minus one four times as wide:
   a frame holds a fraction of the view's counts, and the broad body background would
   make the window itself a feature), is registered by cross-correlation with sub-pixel
   refinement (:func:`skimage.registration.phase_cross_correlation`, unnormalised —
   robust to Poisson noise): first against the first frame, then three times against the
   sum of the realigned frames, each frame moved back by its current estimate before it
   is windowed (a window that stays put while the image moves biases towards no shift).
   The reference position is where the patient lay longest (the largest group of frames
   within half the threshold of each other; on a tie the group of the earliest frame,
   the position the previous views were acquired in); displacements are measured from it.
3. The patient moved when a frame's displacement reaches ``threshold_mm``. Then, unless
   ``correct`` is off, each frame is shifted back by its displacement rounded to whole
   pixels (counts stay integers and Poisson; the residual is below half a pixel) before the
   frames are summed into the view that the profiles are measured on.

The threshold is ours (the domain notes name motion as an artefact but give no size),
configurable: 6 mm, about two pixels of a 128 matrix; the measurement's error is far
below it (``bench/perfusion_motion.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from planarmpi.analysis.localize import locate_heart, locate_lv_ring
from planarmpi.model import DynamicSeries, SeriesKind, StaticImage

__all__ = ["FrameMotion", "MotionParams", "frame_displacements", "framed_static_view",
           "realign_frames", "summed_view"]

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class MotionParams:
    """Settings of the motion measurement (see the module docstring).

    Attributes
    ----------
    threshold_mm : float
        A frame displaced this far (or more) from the patient's usual position is motion.
    correct : bool
        Realign moved frames before summing them.
    smoothing_mm : float
        Gaussian σ applied to each frame before registration.
    window_mm : float
        Side of the square around the heart where the registration weighs every pixel
        fully (it tapers to zero over another quarter of this on each side).
    upsample : int
        Sub-pixel precision of the registration (1/upsample pixel).
    """

    threshold_mm: float = 6.0
    correct: bool = True
    smoothing_mm: float = 4.0
    window_mm: float = 160.0
    upsample: int = 10

    def __post_init__(self) -> None:
        if not self.threshold_mm > 0:
            raise ValueError(f"threshold_mm must be > 0, got {self.threshold_mm}")
        if not self.smoothing_mm >= 0 or not self.window_mm > 0 or self.upsample < 1:
            raise ValueError("smoothing_mm must be ≥ 0, window_mm > 0 and upsample ≥ 1")


@dataclass(frozen=True, slots=True)
class FrameMotion:
    """The patient's motion during one framed static view.

    Attributes
    ----------
    displacement_mm : ndarray of shape (frames, 2)
        Each frame's (down, right) displacement on the displayed image from the reference
        position (where the patient lay longest), mm.
    corrected : bool
        The frames were realigned before summing.
    threshold_mm : float
        A frame displaced this far (or more) moved.
    """

    displacement_mm: Array
    corrected: bool
    threshold_mm: float

    @property
    def distance_mm(self) -> Array:
        """Each frame's distance from the reference position, mm."""
        return np.asarray(np.hypot(self.displacement_mm[:, 0], self.displacement_mm[:, 1]))

    @property
    def max_displacement_mm(self) -> float:
        """Largest distance of a frame from the reference position, mm."""
        return float(np.max(self.distance_mm))

    @property
    def moved_frames(self) -> list[int]:
        """Indices (0-based) of the frames displaced by the threshold or more."""
        return [int(i) for i in np.flatnonzero(self.distance_mm >= self.threshold_mm)]

    @property
    def moved(self) -> bool:
        """Some frame is displaced by the threshold or more."""
        return bool(self.moved_frames)

    def to_json(self) -> dict[str, Any]:
        return {
            "frames": int(self.displacement_mm.shape[0]),
            "displacement_mm": [[round(float(a), 2), round(float(b), 2)]
                                for a, b in self.displacement_mm],
            "displacement_axes": "(down, right) on the displayed image",
            "max_displacement_mm": round(self.max_displacement_mm, 2),
            "threshold_mm": self.threshold_mm,
            "moved": self.moved,
            "moved_frames": [i + 1 for i in self.moved_frames],
            "corrected": self.corrected,
        }


def _window(shape: tuple[int, int], centre_rc: tuple[float, float], half_px: float) -> Array:
    """Weights 1 within ``half_px`` of ``centre_rc`` (a square), falling to 0 over another
    ``half_px / 2`` by a cosine (a Tukey window: flat where the heart is, so that it does
    not bias the registration towards no shift)."""
    rows, cols = np.indices(shape, dtype=np.float64)
    out = np.ones(shape)
    for coord, c in ((rows, centre_rc[0]), (cols, centre_rc[1])):
        u = np.clip((np.abs(coord - c) - half_px) / (half_px / 2), 0.0, 1.0)
        out *= 0.5 * (1.0 + np.cos(np.pi * u))
    return out


def frame_displacements(frames: NDArray[np.generic], pixel_spacing_mm: tuple[float, float],
                        params: MotionParams | None = None,
                        centre_rc: tuple[float, float] | None = None) -> Array:
    """Each frame's (down, right) displacement from the patient's usual position, mm.

    Parameters
    ----------
    frames : ndarray (frames, rows, columns)
        Counts.
    pixel_spacing_mm : tuple of float
        (row, column) spacing.
    params : MotionParams, optional
    centre_rc : tuple of float, optional
        Centre of the registration window (pixels); the heart found on the sum otherwise,
        the image centre when no heart is found.
    """
    p = params or MotionParams()
    stack = np.asarray(frames, dtype=np.float64)
    if stack.ndim != 3 or stack.shape[0] < 2:
        raise ValueError(f"need ≥ 2 frames of (rows, columns), got shape {stack.shape}")
    spacing = np.asarray(pixel_spacing_mm, dtype=np.float64)
    total = stack.sum(axis=0)
    if centre_rc is None:
        region = locate_lv_ring(total, tuple(spacing)).region \
            or locate_heart(total, tuple(spacing)).region
        centre_rc = region.centre_rc if region is not None else \
            ((total.shape[0] - 1) / 2, (total.shape[1] - 1) / 2)
    taper = _window(total.shape, centre_rc, p.window_mm / 2 / float(np.mean(spacing)))
    sigma = tuple(p.smoothing_mm / spacing)
    broad = tuple(4 * p.smoothing_mm / spacing)

    def prepared(image: Array) -> Array:
        # Band-pass (the broad body background removed) before the taper, so the taper
        # itself, which does not move, is no feature to register on.
        band = ndimage.gaussian_filter(image, sigma) - ndimage.gaussian_filter(image, broad)
        return np.asarray(band * taper)

    def register(reference: Array, images: list[Array]) -> Array:
        return np.array([-phase_cross_correlation(reference, prepared(f),
                                                  upsample_factor=p.upsample,
                                                  normalization=None)[0] for f in images])

    # First against one frame (the sum of two positions would pull every frame towards
    # the middle); then each frame, moved back by its estimate (so that the window sees
    # every frame where it sees the reference: a window that stays put while the image
    # moves biases towards no shift), against the sum of the realigned frames.
    position = register(prepared(stack[0]), list(stack))
    for _ in range(3):
        aligned = [ndimage.shift(f, -d, order=1, mode="nearest")
                   for f, d in zip(stack, position, strict=True)]
        position = position + register(prepared(np.sum(aligned, axis=0)), aligned)
    position_mm = position * spacing
    return np.asarray(position_mm - _reference(position_mm, p.threshold_mm / 2))


def _reference(position_mm: Array, radius_mm: float) -> Array:
    """Where the patient lay longest: the mean position of the largest group of frames
    within ``radius_mm`` of one frame — on a tie, the group of the earliest frame (the
    position the previous views were acquired in)."""
    gap = np.hypot(*(position_mm[:, None, :] - position_mm[None, :, :]).transpose(2, 0, 1))
    near = gap <= radius_mm
    support = near.sum(axis=1)
    first = int(np.flatnonzero(support == support.max())[0])
    return np.asarray(position_mm[near[first]].mean(axis=0))


def realign_frames(frames: NDArray[np.generic], displacement_px: Array) -> NDArray[np.int64]:
    """Sum of the frames, each shifted back by its displacement rounded to whole pixels
    (counts moved off the matrix are lost, none are invented)."""
    stack = np.asarray(frames)
    out = np.zeros(stack.shape[1:], dtype=np.int64)
    rows, cols = stack.shape[1:]
    for frame, (dr, dc) in zip(stack, np.rint(displacement_px).astype(int), strict=True):
        src_r = slice(max(dr, 0), rows + min(dr, 0))
        dst_r = slice(max(-dr, 0), rows + min(-dr, 0))
        src_c = slice(max(dc, 0), cols + min(dc, 0))
        dst_c = slice(max(-dc, 0), cols + min(-dc, 0))
        out[dst_r, dst_c] += np.asarray(frame[src_r, src_c], dtype=np.int64)
    return out


def summed_view(series: DynamicSeries, displacement_mm: Array | None = None) -> StaticImage:
    """The static view of a framed acquisition: its frames summed, each first moved back by
    its (down, right) displacement in mm (:func:`realign_frames`) when one is given."""
    acq = series.acquisition
    frames = np.asarray(series.pixels)
    if displacement_mm is None:
        summed = frames.sum(axis=0, dtype=np.int64)
    elif acq.pixel_spacing_mm is None:
        raise ValueError(f"{acq.display_name}: pixel spacing unknown: frames not realigned")
    else:
        summed = realign_frames(frames, np.asarray(displacement_mm, dtype=np.float64)
                                / np.asarray(acq.pixel_spacing_mm))
    return StaticImage(replace(acq, kind=SeriesKind.STATIC), summed,
                       float(np.sum(series.frame_duration_ms)))


def framed_static_view(series: DynamicSeries, params: MotionParams | None = None
                       ) -> tuple[StaticImage, FrameMotion]:
    """The static view of a framed acquisition (frames realigned when the patient moved)
    and the motion measured.

    Raises
    ------
    ValueError
        The series has no pixel spacing or fewer than two frames (the message says which).
    """
    p = params or MotionParams()
    acq = series.acquisition
    if acq.pixel_spacing_mm is None:
        raise ValueError(f"{acq.display_name}: pixel spacing unknown: motion not measured")
    if series.pixels.shape[0] < 2:
        raise ValueError(f"{acq.display_name}: one frame: motion cannot be measured")
    displacement_mm = frame_displacements(series.pixels, acq.pixel_spacing_mm, p)
    motion = FrameMotion(displacement_mm, corrected=False, threshold_mm=p.threshold_mm)
    if motion.moved and p.correct:
        motion = replace(motion, corrected=True)
    return summed_view(series, displacement_mm if motion.corrected else None), motion
