"""Planar NM series: static images, gated series and dynamic series.

Every pixel array is read-only, shaped ``(frames, rows, columns)`` for gated and dynamic
series and ``(rows, columns)`` for a static image, and holds counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from planarmpi.model.enums import SeriesKind, State, Tracer, View

__all__ = [
    "FRAMED_STATIC_MIN_FRAME_MS",
    "Acquisition",
    "DynamicPhase",
    "DynamicSeries",
    "EnergyWindow",
    "GatedSeries",
    "GatingInfo",
    "Radiopharmaceutical",
    "StaticImage",
]


def _readonly(array: NDArray[np.generic], ndim: int, what: str) -> NDArray[np.generic]:
    arr = np.asarray(array)
    if arr.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimensions, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{what} must hold numbers, got dtype {arr.dtype}")
    if arr.flags.writeable:
        arr = arr.copy() if arr.base is not None else arr
        arr.setflags(write=False)
    return arr


@dataclass(frozen=True, slots=True)
class EnergyWindow:
    """One energy window (Energy Window Information Sequence item).

    A window may hold several ranges (Tl-201 is often acquired in a 70 keV and a 167 keV
    range summed into one image).
    """

    index: int
    ranges_kev: tuple[tuple[float, float], ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if self.index < 1:
            raise ValueError(f"energy window index is 1-based, got {self.index}")
        ranges = tuple((float(lo), float(hi)) for lo, hi in self.ranges_kev)
        for lo, hi in ranges:
            if not 0 < lo < hi:
                raise ValueError(
                    f"energy window {self.index}: lower {lo} keV must be below upper {hi} keV"
                )
        object.__setattr__(self, "ranges_kev", ranges)

    def contains_kev(self, energy_kev: float) -> bool:
        """True when a photopeak at ``energy_kev`` falls inside one of the ranges."""
        return any(lo <= energy_kev <= hi for lo, hi in self.ranges_kev)


@dataclass(frozen=True, slots=True)
class Radiopharmaceutical:
    """Tracer administration (Radiopharmaceutical Information Sequence item)."""

    tracer: Tracer = Tracer.UNKNOWN
    name: str = ""
    dose_mbq: float | None = None
    injection_datetime: dt.datetime | None = None
    source: str = "none"  # which attribute told the tracer (for the reader's findings)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tracer", Tracer(self.tracer))
        if self.dose_mbq is not None and not 0 <= self.dose_mbq < 1e5:
            raise ValueError(f"radionuclide dose must be within 0–1e5 MBq, got {self.dose_mbq}")


@dataclass(frozen=True, slots=True)
class Acquisition:
    """What every planar series knows about how and where it was acquired.

    One instance per (detector, energy window[, R-R interval]) image of a file: a
    two-detector static file yields two images, each with its own view.
    """

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    kind: SeriesKind
    view: View = View.UNKNOWN
    view_angle_deg: float | None = None
    view_source: str = "none"
    state: State = State.UNKNOWN
    state_source: str = "none"
    radiopharmaceutical: Radiopharmaceutical = field(default_factory=Radiopharmaceutical)
    detector: int = 1
    energy_window: EnergyWindow = field(default_factory=lambda: EnergyWindow(1))
    pixel_spacing_mm: tuple[float, float] | None = None
    series_description: str = ""
    protocol_name: str = ""
    series_number: int | None = None
    acquisition_datetime: dt.datetime | None = None
    manufacturer: str = ""
    model_name: str = ""
    source_file: str = ""
    patient_orientation: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", SeriesKind(self.kind))
        object.__setattr__(self, "view", View(self.view))
        object.__setattr__(self, "state", State(self.state))
        if self.detector < 1:
            raise ValueError(f"detector index is 1-based, got {self.detector}")
        if self.pixel_spacing_mm is not None:
            row, col = (float(v) for v in self.pixel_spacing_mm)
            if not (0 < row < 100 and 0 < col < 100):
                raise ValueError(f"pixel spacing must be within 0–100 mm, got {row}, {col}")
            object.__setattr__(self, "pixel_spacing_mm", (row, col))
        if self.view_angle_deg is not None and not -360 <= self.view_angle_deg <= 360:
            raise ValueError(f"view angle must be within ±360°, got {self.view_angle_deg}")

    @property
    def tracer(self) -> Tracer:
        """The tracer, as far as the data tell."""
        return self.radiopharmaceutical.tracer

    @property
    def display_name(self) -> str:
        """How findings name the image: ``series 3 (REST ANT, detector 1)``."""
        number = self.series_number if self.series_number is not None else "?"
        text = self.series_description or self.label
        return f"series {number} ({text}, detector {self.detector})"

    @property
    def label(self) -> str:
        """Short human label: ``LAO 45° rest`` style."""
        view = self.view.value
        if self.view_angle_deg is not None and self.view in (View.LAO, View.RAO, View.LPO,
                                                              View.RPO):
            view = f"{view} {self.view_angle_deg:g}°"
        return f"{view} {self.state.value}"


def _check_positive(values: NDArray[np.float64], what: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{what} must be finite and > 0 ms, got {arr.tolist()[:8]}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, slots=True)
class StaticImage:
    """A static planar view.

    Parameters
    ----------
    acquisition : Acquisition
    pixels : ndarray of shape (rows, columns)
        Counts.
    frame_duration_ms : float or None
        Actual Frame Duration (0018,1242).
    """

    acquisition: Acquisition
    pixels: NDArray[np.generic]
    frame_duration_ms: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pixels", _readonly(self.pixels, 2, "static pixels"))
        if self.frame_duration_ms is not None and not self.frame_duration_ms > 0:
            raise ValueError(f"frame duration must be > 0 ms, got {self.frame_duration_ms}")
        if self.acquisition.kind not in (SeriesKind.STATIC, SeriesKind.WHOLE_BODY):
            raise ValueError(f"a StaticImage cannot be of kind {self.acquisition.kind}")

    @property
    def total_counts(self) -> float:
        """Sum of all pixel values."""
        return float(self.pixels.sum(dtype=np.float64))


@dataclass(frozen=True, slots=True)
class DynamicPhase:
    """One phase of a dynamic acquisition (Phase Information Sequence item)."""

    frame_duration_ms: float
    number_of_frames: int
    phase_delay_ms: float = 0.0
    pause_between_frames_ms: float = 0.0

    def __post_init__(self) -> None:
        if not self.frame_duration_ms > 0:
            raise ValueError(f"phase frame duration must be > 0 ms, got {self.frame_duration_ms}")
        if self.number_of_frames < 1:
            raise ValueError(f"a phase needs ≥ 1 frame, got {self.number_of_frames}")
        if self.phase_delay_ms < 0 or self.pause_between_frames_ms < 0:
            raise ValueError("phase delay and pause between frames must be ≥ 0 ms")


#: Frames at least this long (ms) make a dynamic series a *framed static view*: one planar
#: view acquired as a sequence of time frames so that patient motion can be seen and
#: corrected. A first-pass or other bolus study uses frames of 25–50 ms (domain notes,
#: procedure.md), never seconds.
FRAMED_STATIC_MIN_FRAME_MS = 5_000.0


@dataclass(frozen=True, slots=True)
class DynamicSeries:
    """A dynamic (e.g. first-pass) acquisition of one detector and energy window.

    Parameters
    ----------
    acquisition : Acquisition
    pixels : ndarray of shape (frames, rows, columns)
        Counts, in acquisition order.
    phases : tuple of DynamicPhase
    frame_start_ms, frame_duration_ms : ndarray of shape (frames,)
        Start of each frame from the start of acquisition and its duration, in ms; derived
        from ``phases`` by :meth:`from_phases`.
    """

    acquisition: Acquisition
    pixels: NDArray[np.generic]
    phases: tuple[DynamicPhase, ...]
    frame_start_ms: NDArray[np.float64]
    frame_duration_ms: NDArray[np.float64]

    def __post_init__(self) -> None:
        object.__setattr__(self, "pixels", _readonly(self.pixels, 3, "dynamic pixels"))
        object.__setattr__(self, "phases", tuple(self.phases))
        duration = _check_positive(self.frame_duration_ms, "frame durations")
        start = np.asarray(self.frame_start_ms, dtype=np.float64)
        start.setflags(write=False)
        object.__setattr__(self, "frame_duration_ms", duration)
        object.__setattr__(self, "frame_start_ms", start)
        n = self.pixels.shape[0]
        if sum(p.number_of_frames for p in self.phases) != n:
            raise ValueError(
                f"phases describe {sum(p.number_of_frames for p in self.phases)} frames "
                f"but the series has {n}"
            )
        if duration.shape != (n,) or start.shape != (n,):
            raise ValueError(f"frame times must have {n} entries")
        if np.any(np.diff(start) < duration[:-1] - 1e-6):
            raise ValueError("dynamic frames overlap in time")
        if self.acquisition.kind is not SeriesKind.DYNAMIC:
            raise ValueError(f"a DynamicSeries cannot be of kind {self.acquisition.kind}")

    @classmethod
    def from_phases(
        cls,
        acquisition: Acquisition,
        pixels: NDArray[np.generic],
        phases: tuple[DynamicPhase, ...] | list[DynamicPhase],
    ) -> DynamicSeries:
        """Build a series whose frame times follow from its phases.

        Each phase starts ``phase_delay_ms`` after the previous one ended; frames within a
        phase are separated by ``pause_between_frames_ms`` (PS3.3 C.8.4.14).
        """
        starts: list[float] = []
        durations: list[float] = []
        t = 0.0
        for phase in phases:
            t += phase.phase_delay_ms
            for i in range(phase.number_of_frames):
                if i:
                    t += phase.pause_between_frames_ms
                starts.append(t)
                durations.append(phase.frame_duration_ms)
                t += phase.frame_duration_ms
        return cls(
            acquisition,
            pixels,
            tuple(phases),
            np.array(starts, dtype=np.float64),
            np.array(durations, dtype=np.float64),
        )

    @property
    def frame_mid_ms(self) -> NDArray[np.float64]:
        """Mid-time of each frame in ms."""
        return np.asarray(self.frame_start_ms + self.frame_duration_ms / 2.0)

    @property
    def is_framed_static(self) -> bool:
        """A static view acquired in time frames (every frame ≥
        :data:`FRAMED_STATIC_MIN_FRAME_MS`), not a bolus study."""
        return bool(np.min(self.frame_duration_ms) >= FRAMED_STATIC_MIN_FRAME_MS)


@dataclass(frozen=True, slots=True)
class GatingInfo:
    """ECG gating of one R-R interval window (Gated Information / Data Information items).

    Times in ms; ``heart_rate_bpm`` in beats per minute.
    """

    nominal_interval_ms: float | None = None
    low_rr_ms: float | None = None
    high_rr_ms: float | None = None
    intervals_acquired: int | None = None
    intervals_rejected: int | None = None
    heart_rate_bpm: float | None = None
    framing_type: str = ""
    trigger_time_ms: float | None = None
    beat_rejection: bool | None = None

    def __post_init__(self) -> None:
        for name in ("nominal_interval_ms", "low_rr_ms", "high_rr_ms", "heart_rate_bpm"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"gating {name} must be > 0, got {value}")
        for name in ("intervals_acquired", "intervals_rejected"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"gating {name} must be ≥ 0, got {value}")
        if (
            self.low_rr_ms is not None
            and self.high_rr_ms is not None
            and self.low_rr_ms > self.high_rr_ms
        ):
            raise ValueError(
                f"Low R-R Value {self.low_rr_ms} ms exceeds High R-R Value {self.high_rr_ms} ms"
            )

    @property
    def rejected_fraction(self) -> float | None:
        """Rejected / (acquired + rejected) beats, or None when not recorded."""
        if self.intervals_acquired is None or self.intervals_rejected is None:
            return None
        total = self.intervals_acquired + self.intervals_rejected
        return None if total == 0 else self.intervals_rejected / total


@dataclass(frozen=True, slots=True)
class GatedSeries:
    """An ECG-gated planar view: the time slots of the averaged cardiac cycle.

    Parameters
    ----------
    acquisition : Acquisition
    pixels : ndarray of shape (frames, rows, columns)
        Counts per time slot, time slot 1 first.
    frame_duration_ms : ndarray of shape (frames,)
        Duration of each time slot in ms (Frame Time, or Time Slot Time when given).
    gating : GatingInfo
    rr_interval : int
        1-based R-R interval window index (R-R Interval Vector).
    """

    acquisition: Acquisition
    pixels: NDArray[np.generic]
    frame_duration_ms: NDArray[np.float64]
    gating: GatingInfo = field(default_factory=GatingInfo)
    rr_interval: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "pixels", _readonly(self.pixels, 3, "gated pixels"))
        duration = _check_positive(self.frame_duration_ms, "time slot durations")
        object.__setattr__(self, "frame_duration_ms", duration)
        if duration.shape != (self.pixels.shape[0],):
            raise ValueError(
                f"{duration.shape[0]} time slot durations for {self.pixels.shape[0]} frames"
            )
        if self.rr_interval < 1:
            raise ValueError(f"R-R interval index is 1-based, got {self.rr_interval}")
        if self.acquisition.kind is not SeriesKind.GATED:
            raise ValueError(f"a GatedSeries cannot be of kind {self.acquisition.kind}")

    @property
    def frame_start_ms(self) -> NDArray[np.float64]:
        """Start of each time slot after the R wave, in ms."""
        return np.concatenate([[0.0], np.cumsum(self.frame_duration_ms)[:-1]])

    @property
    def frame_mid_ms(self) -> NDArray[np.float64]:
        """Mid-time of each time slot after the R wave, in ms."""
        return np.asarray(self.frame_start_ms + self.frame_duration_ms / 2.0)
