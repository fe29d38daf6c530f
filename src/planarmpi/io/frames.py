"""The frame index of a multi-frame NM image, built from its Frame Increment Pointer.

PS3.3 C.8.4.8 orders NM frames by the vectors named in Frame Increment Pointer
(0028,0009). Nothing here assumes an order: each frame is placed by its own vector values,
and the vectors are checked against the counts they index (Number of Energy Windows,
Number of Detectors, ...). Pure functions over plain values; the reader feeds them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planarmpi.model.enums import SeriesKind

__all__ = ["REQUIRED_VECTORS", "VECTOR_COUNTS", "FrameGroup", "index_frames"]

#: Vector keyword → keyword of the count its values run over (1..count).
VECTOR_COUNTS: dict[str, str] = {
    "EnergyWindowVector": "NumberOfEnergyWindows",
    "DetectorVector": "NumberOfDetectors",
    "PhaseVector": "NumberOfPhases",
    "RRIntervalVector": "NumberOfRRIntervals",
    "TimeSlotVector": "NumberOfTimeSlots",
}

#: Vectors each planar kind needs (PS3.3 C.8.4.8.1.x, table in docs/conventions.md).
REQUIRED_VECTORS: dict[SeriesKind, tuple[str, ...]] = {
    SeriesKind.STATIC: ("EnergyWindowVector", "DetectorVector"),
    SeriesKind.WHOLE_BODY: ("EnergyWindowVector", "DetectorVector"),
    SeriesKind.DYNAMIC: ("EnergyWindowVector", "DetectorVector", "PhaseVector"),
    SeriesKind.GATED: (
        "EnergyWindowVector",
        "DetectorVector",
        "RRIntervalVector",
        "TimeSlotVector",
    ),
}


@dataclass(frozen=True, slots=True)
class FrameGroup:
    """The frames of one image: one energy window, detector and R-R interval.

    Attributes
    ----------
    energy_window, detector, rr_interval : int
        1-based indices.
    frames : ndarray of shape (n,)
        0-based positions in Pixel Data, in temporal order (time slot or phase order).
    phases : ndarray of shape (n,)
        1-based phase of each frame (all 1 except for dynamic images).
    """

    energy_window: int
    detector: int
    rr_interval: int
    frames: NDArray[np.intp]
    phases: NDArray[np.intp]


class FrameIndexError(ValueError):
    """The vectors do not describe a consistent set of frames."""


def _vector(
    name: str,
    vectors: Mapping[str, Sequence[int] | None],
    counts: Mapping[str, int | None],
    n_frames: int,
    listed: bool,
) -> NDArray[np.intp]:
    count_name = VECTOR_COUNTS[name]
    count = counts.get(count_name)
    values = vectors.get(name)
    if values is None:
        if listed:
            raise FrameIndexError(f"Frame Increment Pointer names {name} but it is absent")
        if count not in (None, 1):
            raise FrameIndexError(
                f"{count_name} is {count} but {name} is absent: frames cannot be placed"
            )
        return np.ones(n_frames, dtype=np.intp)
    try:
        arr = np.asarray([int(v) for v in values], dtype=np.intp)
    except (TypeError, ValueError) as exc:
        raise FrameIndexError(f"{name} holds non-integer values") from exc
    if arr.shape != (n_frames,):
        raise FrameIndexError(
            f"{name} has {arr.size} values but Number of Frames is {n_frames}"
        )
    upper = count if count is not None else int(arr.max(initial=1))
    if upper < 1 or arr.min(initial=1) < 1 or arr.max(initial=1) > upper:
        raise FrameIndexError(
            f"{name} values must run 1–{upper} ({count_name}), got "
            f"{int(arr.min(initial=0))}–{int(arr.max(initial=0))}"
        )
    return arr


def index_frames(
    kind: SeriesKind,
    n_frames: int,
    frame_increment_pointer: Sequence[str],
    vectors: Mapping[str, Sequence[int] | None],
    counts: Mapping[str, int | None],
    frames_per_phase: Sequence[int] | None = None,
) -> list[FrameGroup]:
    """Group and order the frames of an NM image.

    Parameters
    ----------
    kind : SeriesKind
    n_frames : int
        Number of Frames (0028,0008).
    frame_increment_pointer : sequence of str
        Keywords the Frame Increment Pointer lists (may be empty for a 1-frame image).
    vectors : mapping of str to sequence of int or None
        Vector keyword → values (one per frame), None when absent.
    counts : mapping of str to int or None
        Count keyword (``NumberOfDetectors``, ...) → value, None when absent.
    frames_per_phase : sequence of int, optional
        Number of Frames in Phase of each Phase Information Sequence item (dynamic only).

    Returns
    -------
    list of FrameGroup
        Sorted by energy window, detector, R-R interval.

    Raises
    ------
    FrameIndexError
        When a vector is missing, has the wrong length, runs outside its count, or when
        frames collide (two frames for one static image or one time slot) or are missing.
    """
    if n_frames < 1:
        raise FrameIndexError(f"Number of Frames must be ≥ 1, got {n_frames}")
    listed = set(frame_increment_pointer)
    if n_frames > 1 and not listed:
        missing = [v for v in REQUIRED_VECTORS[kind] if vectors.get(v) is None]
        if missing:
            raise FrameIndexError(
                f"{n_frames} frames but no Frame Increment Pointer and no "
                f"{', '.join(missing)}: the frame order is unknown"
            )
    unknown = listed - set(VECTOR_COUNTS)
    if unknown:
        raise FrameIndexError(
            f"Frame Increment Pointer lists {', '.join(sorted(unknown))}, which a planar "
            f"{kind.value} image does not use"
        )
    needed = REQUIRED_VECTORS[kind]
    v = {name: _vector(name, vectors, counts, n_frames, name in listed) for name in needed}
    ew = v["EnergyWindowVector"]
    det = v["DetectorVector"]
    rr = v.get("RRIntervalVector", np.ones(n_frames, dtype=np.intp))
    phase = v.get("PhaseVector", np.ones(n_frames, dtype=np.intp))

    groups: list[FrameGroup] = []
    keys = sorted({(int(a), int(b), int(c)) for a, b, c in zip(ew, det, rr, strict=True)})
    for key in keys:
        members = np.flatnonzero((ew == key[0]) & (det == key[1]) & (rr == key[2]))
        where = f"energy window {key[0]}, detector {key[1]}"
        if kind in (SeriesKind.STATIC, SeriesKind.WHOLE_BODY):
            if members.size != 1:
                raise FrameIndexError(f"{members.size} frames share {where}")
            order = members
        elif kind is SeriesKind.GATED:
            slots = v["TimeSlotVector"][members]
            n_slots = counts.get("NumberOfTimeSlots") or int(slots.max())
            if sorted(slots.tolist()) != list(range(1, n_slots + 1)):
                raise FrameIndexError(
                    f"time slots of {where}, R-R interval {key[2]} are "
                    f"{sorted(slots.tolist())[:20]}, expected each of 1–{n_slots} once"
                )
            order = members[np.argsort(slots, kind="stable")]
        else:
            # Within one phase the standard stores frames in temporal order: keep file order.
            order = members[np.argsort(phase[members], kind="stable")]
            if frames_per_phase is not None:
                got = np.bincount(phase[members], minlength=len(frames_per_phase) + 1)[1:]
                if got.tolist() != list(frames_per_phase):
                    raise FrameIndexError(
                        f"{where}: frames per phase are {got.tolist()} but the Phase "
                        f"Information Sequence says {list(frames_per_phase)}"
                    )
        groups.append(
            FrameGroup(key[0], key[1], key[2], order.astype(np.intp), phase[order])
        )
    return groups
