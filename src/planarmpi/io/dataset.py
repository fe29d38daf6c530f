"""Tolerant decoding of one NM dataset into the domain model.

Decode tolerantly, encode strictly: a missing Type 3 attribute becomes ``None`` (and a
finding where it matters), a malformed one raises :class:`InvalidDicomError` naming the
attribute and its value. Nothing here touches the file system.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID, NuclearMedicineImageStorage, SecondaryCaptureImageStorage

from planarmpi.errors import DeclinedInputError, InvalidDicomError
from planarmpi.io.codes import tracer_from_code, view_from_code
from planarmpi.io.frames import FrameIndexError, index_frames
from planarmpi.io.text import state_from_text, tracer_from_text, view_from_text
from planarmpi.model import (
    Acquisition,
    DynamicPhase,
    DynamicSeries,
    EnergyWindow,
    Finding,
    GatedSeries,
    GatingInfo,
    Level,
    Patient,
    Radiopharmaceutical,
    SeriesKind,
    Sex,
    State,
    StaticImage,
    StudyHeader,
    Tracer,
    View,
)
from planarmpi.model.study import Series

__all__ = [
    "MAX_FRAMES",
    "MAX_MATRIX",
    "decline_reason",
    "patient_from_dataset",
    "series_from_dataset",
    "study_header_from_dataset",
    "tracer_and_state",
]

#: Largest Rows / Columns accepted (a 4096 matrix is beyond any gamma camera).
MAX_MATRIX = 4096
#: Largest Number of Frames accepted.
MAX_FRAMES = 100_000
#: Largest decoded pixel array accepted, in bytes.
MAX_PIXEL_BYTES = 2 * 1024**3

_SPECT_TYPES = {"TOMO", "GATED TOMO", "RECON TOMO", "RECON GATED TOMO"}
_PLANAR_TYPES = {kind.value: kind for kind in SeriesKind}
_TC99M_KEV = 140.5
_TL201_XRAY_KEV = (69.0, 83.0)  # Hg K x-rays of Tl-201


# --------------------------------------------------------------------------- values
def _str(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    return str(value).strip()


def _float(ds: Dataset, keyword: str, path: str) -> float | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidDicomError(path, f"{keyword} is {value!r}, expected a number") from exc
    if not np.isfinite(number):
        raise InvalidDicomError(path, f"{keyword} is {value!r}, expected a finite number")
    return number


def _int(ds: Dataset, keyword: str, path: str) -> int | None:
    number = _float(ds, keyword, path)
    if number is None:
        return None
    if number != int(number):
        raise InvalidDicomError(path, f"{keyword} is {number}, expected an integer")
    return int(number)


def _positive_ms(ds: Dataset, keyword: str, path: str) -> float | None:
    value = _float(ds, keyword, path)
    if value is not None and value <= 0:
        raise InvalidDicomError(path, f"{keyword} is {value:g} ms, expected > 0 ms")
    return value


def _date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text[:8], "%Y%m%d").date() if len(text) >= 8 else None
    except ValueError:
        return None


def _time(text: str) -> dt.time | None:
    match = re.fullmatch(r"(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?", text.replace(":", ""))
    if not match:
        return None
    hh, mm, ss, frac = match.groups()
    try:
        return dt.time(
            int(hh), int(mm or 0), int(ss or 0), int((frac or "0").ljust(6, "0"))
        )
    except ValueError:
        return None


def _datetime(date_text: str, time_text: str) -> dt.datetime | None:
    day = _date(date_text)
    clock = _time(time_text) if time_text else None
    if day is None or clock is None:
        return None
    return dt.datetime.combine(day, clock)


def _items(ds: Dataset, keyword: str) -> list[Dataset]:
    value = ds.get(keyword)
    if value is None:
        return []
    try:
        return list(value)
    except TypeError:
        return []


# --------------------------------------------------------------------------- identity
def decline_reason(ds: Dataset) -> str | None:
    """Why planar analysis does not handle this object, or None if it does.

    NM Image Storage with a planar Image Type is accepted, and so is Secondary Capture
    with Modality NM (PS3.3 A.8; some workstations store planar NM that way).
    """
    sop_class = _str(ds, "SOPClassUID")
    modality = _str(ds, "Modality").upper()
    image_type = [str(v).upper().strip() for v in (ds.get("ImageType") or [])]
    if "PixelData" not in ds and "FloatPixelData" not in ds and sop_class not in (
        NuclearMedicineImageStorage,
        SecondaryCaptureImageStorage,
    ):
        return f"not an image (SOP class {_sop_name(sop_class)}, Modality {modality or '?'})"
    if sop_class == SecondaryCaptureImageStorage:
        if modality != "NM":
            return f"Secondary Capture of Modality {modality or '(none)'}, not NM"
    elif sop_class != NuclearMedicineImageStorage:
        return (
            f"SOP class {_sop_name(sop_class)} (Modality {modality or '?'}) is not NM Image "
            "Storage"
        )
    elif modality and modality != "NM":
        return f"Modality is {modality}, expected NM"
    kind = image_type[2] if len(image_type) > 2 else ""
    if kind in _SPECT_TYPES:
        return (
            f"SPECT ({kind}): tomographic studies are another procedure (CPT 78451/78452) "
            "and are not analysed by planar methods"
        )
    if kind and kind not in _PLANAR_TYPES and sop_class == NuclearMedicineImageStorage:
        return f"Image Type value 3 is {kind!r}, not a planar NM kind"
    return None


def _sop_name(uid: str) -> str:
    name = UID(uid).name if uid else "(none)"
    return name if name != uid else uid or "(none)"


def _kind(ds: Dataset, path: str, findings: list[Finding]) -> SeriesKind:
    image_type = [str(v).upper().strip() for v in (ds.get("ImageType") or [])]
    if len(image_type) > 2 and image_type[2] in _PLANAR_TYPES:
        return _PLANAR_TYPES[image_type[2]]
    if "GatedInformationSequence" in ds or ds.get("TimeSlotVector") is not None:
        kind = SeriesKind.GATED
    elif "PhaseInformationSequence" in ds or ds.get("PhaseVector") is not None:
        kind = SeriesKind.DYNAMIC
    else:
        kind = SeriesKind.STATIC
    shown = "\\".join(image_type) or "(absent)"
    findings.append(
        Finding(
            "IMAGE_TYPE_MISSING",
            Level.WARN,
            f"{path}: Image Type {shown} does not name a planar "
            f"kind; read as {kind.value} from the attributes present",
            _str(ds, "SeriesInstanceUID") or None,
        )
    )
    return kind


# --------------------------------------------------------------------------- patient
def _age_years(text: str) -> float | None:
    match = re.fullmatch(r"(\d{1,3})([DWMY])", text.strip().upper())
    if not match:
        return None
    value = int(match.group(1))
    per_year = {"D": 365.25, "W": 52.1775, "M": 12.0, "Y": 1.0}[match.group(2)]
    return value / per_year


def patient_from_dataset(ds: Dataset, path: str) -> Patient:
    """Patient from the Patient and Patient Study modules."""
    sex_text = _str(ds, "PatientSex").upper()
    sex = Sex(sex_text) if sex_text in ("M", "F", "O") else Sex.UNKNOWN
    birth = _date(_str(ds, "PatientBirthDate"))
    age = _age_years(_str(ds, "PatientAge"))
    study_date = _date(_str(ds, "StudyDate"))
    if age is None and birth is not None and study_date is not None:
        age = (study_date - birth).days / 365.25
    weight = _float(ds, "PatientWeight", path)
    height = _float(ds, "PatientSize", path)
    try:
        return Patient(
            patient_id=_str(ds, "PatientID"),
            name=_str(ds, "PatientName"),
            sex=sex,
            birth_date=birth,
            age_years=age if age is not None and 0 <= age <= 150 else None,
            weight_kg=weight or None,
            height_m=height or None,
        )
    except ValueError as exc:
        raise InvalidDicomError(path, str(exc)) from exc


def study_header_from_dataset(ds: Dataset, path: str) -> StudyHeader:
    """Study identification from the General Study module."""
    uid = _str(ds, "StudyInstanceUID")
    if not uid:
        raise InvalidDicomError(path, "Study Instance UID (0020,000D) is missing")
    return StudyHeader(
        study_instance_uid=uid,
        study_date=_date(_str(ds, "StudyDate")),
        study_time=_time(_str(ds, "StudyTime")),
        description=_str(ds, "StudyDescription"),
        accession_number=_str(ds, "AccessionNumber"),
        study_id=_str(ds, "StudyID"),
        referring_physician=_str(ds, "ReferringPhysicianName"),
    )


# --------------------------------------------------------------------------- isotope
def _energy_windows(ds: Dataset, path: str) -> dict[int, EnergyWindow]:
    windows: dict[int, EnergyWindow] = {}
    for i, item in enumerate(_items(ds, "EnergyWindowInformationSequence"), start=1):
        ranges = []
        for r in _items(item, "EnergyWindowRangeSequence"):
            lo = _float(r, "EnergyWindowLowerLimit", path)
            hi = _float(r, "EnergyWindowUpperLimit", path)
            if lo is not None and hi is not None and 0 < lo < hi:
                ranges.append((lo, hi))
        windows[i] = EnergyWindow(i, tuple(ranges), _str(item, "EnergyWindowName"))
    return windows


def _tracer_from_windows(windows: Iterable[EnergyWindow]) -> Tracer:
    windows = list(windows)
    has_tc = any(w.contains_kev(_TC99M_KEV) for w in windows)
    has_tl = any(
        w.contains_kev(sum(_TL201_XRAY_KEV) / 2) and not w.contains_kev(_TC99M_KEV)
        for w in windows
    )
    if has_tc and not has_tl:
        return Tracer.TC99M
    if has_tl and not has_tc:
        return Tracer.TL201
    return Tracer.UNKNOWN


def _radiopharmaceutical(
    ds: Dataset, path: str, windows: dict[int, EnergyWindow], descriptions: str
) -> Radiopharmaceutical:
    items = _items(ds, "RadiopharmaceuticalInformationSequence")
    item = items[0] if items else Dataset()
    tracer, source = Tracer.UNKNOWN, "none"
    for seq in _items(item, "RadiopharmaceuticalCodeSequence"):
        tracer = tracer_from_code(_str(seq, "CodeValue"))
        if tracer is not Tracer.UNKNOWN:
            source = "RadiopharmaceuticalCodeSequence"
            break
    name = _str(item, "Radiopharmaceutical")
    if tracer is Tracer.UNKNOWN and name:
        tracer = tracer_from_text(name)
        source = "Radiopharmaceutical" if tracer is not Tracer.UNKNOWN else source
    if tracer is Tracer.UNKNOWN:
        tracer = tracer_from_text(descriptions)
        source = "description" if tracer is not Tracer.UNKNOWN else source
    if tracer is Tracer.UNKNOWN:
        for seq in _items(item, "RadionuclideCodeSequence"):
            tracer = tracer_from_code(_str(seq, "CodeValue"), radionuclide=True)
            if tracer is not Tracer.UNKNOWN:
                source = "RadionuclideCodeSequence"
                break
    if tracer is Tracer.UNKNOWN:
        tracer = _tracer_from_windows(windows.values())
        source = "EnergyWindowRangeSequence" if tracer is not Tracer.UNKNOWN else source
    if tracer is Tracer.TC99M and tracer_from_text(descriptions) in (
        Tracer.TC99M_SESTAMIBI,
        Tracer.TC99M_TETROFOSMIN,
        Tracer.TC99M_RED_CELLS,
    ):
        tracer = tracer_from_text(descriptions)
        source += "+description"
    dose = _float(item, "RadionuclideTotalDose", path)
    if dose is not None and not 0 <= dose < 1e5:
        raise InvalidDicomError(path, f"Radionuclide Total Dose is {dose} MBq, out of range")
    if dose == 0:
        # Cameras write 0 when no dose was entered: not recorded, not an injection of 0.
        dose = None
    injection = None
    start_dt = _str(item, "RadiopharmaceuticalStartDateTime")
    if start_dt:
        injection = _datetime(start_dt[:8], start_dt[8:])
    if injection is None:
        injection = _datetime(
            _str(ds, "StudyDate"), _str(item, "RadiopharmaceuticalStartTime")
        )
    return Radiopharmaceutical(tracer, name, dose, injection, source)


# --------------------------------------------------------------------------- view, state
def _detector_view(
    ds: Dataset, detector: int, descriptions: list[tuple[str, str]]
) -> tuple[View, float | None, str, str]:
    """View of one detector: View Code Sequence first, then description patterns.

    Returns view, angle, source and a note explaining an unknown view.
    """
    items = _items(ds, "DetectorInformationSequence")
    item = items[detector - 1] if 0 < detector <= len(items) else Dataset()
    notes = []
    start_angle = _float(item, "StartAngle", "")
    # Start Angle is measured from anterior; an oblique's angle is its distance from it,
    # whichever way the gantry counts (LAO 45° is written 45 by some cameras, 315 by others).
    folded = None if start_angle is None else min(start_angle % 360, 360 - start_angle % 360)
    for code in _items(item, "ViewCodeSequence"):
        view = view_from_code(_str(code, "CodeValue"), _str(code, "CodeMeaning"))
        if view is not View.UNKNOWN:
            angle = None
            if view in (View.LAO, View.RAO, View.LPO, View.RPO):
                angle = folded
                for _, text in descriptions:
                    text_view, text_angle, _ = view_from_text(text)
                    if text_view is view and text_angle is not None:
                        angle = text_angle
            return view, angle, "ViewCodeSequence", ""
        notes.append(f"View Code Sequence holds unknown code {_str(code, 'CodeValue')!r}")
    for keyword, text in descriptions:
        view, angle, note = view_from_text(text)
        if view is not View.UNKNOWN:
            if angle is None and view in (View.LAO, View.RAO, View.LPO, View.RPO):
                angle = folded
            return view, angle, keyword, ""
        if note:
            notes.append(f"{keyword} {text!r} {note}")
    return View.UNKNOWN, None, "none", "; ".join(notes)


def _state(ds: Dataset, descriptions: list[tuple[str, str]]) -> tuple[State, str, str]:
    notes = []
    drugs = _items(ds, "InterventionDrugInformationSequence")
    for keyword, text in descriptions:
        state, note = state_from_text(text)
        if state is not State.UNKNOWN:
            if state is State.STRESS and drugs:
                return State.STRESS_PHARMACOLOGIC, keyword + "+InterventionDrug", ""
            return state, keyword, ""
        if note:
            notes.append(f"{keyword} {text!r} {note}")
    if drugs:
        return State.STRESS_PHARMACOLOGIC, "InterventionDrugInformationSequence", ""
    return State.UNKNOWN, "none", "; ".join(notes)


# --------------------------------------------------------------------------- pixels
def _pixels(ds: Dataset, path: str) -> NDArray[np.generic]:
    if "PixelData" not in ds:
        raise InvalidDicomError(
            path, "no Pixel Data (7FE0,0010) — missing, or the file is truncated before it"
        )
    rows = _int(ds, "Rows", path)
    cols = _int(ds, "Columns", path)
    frames = _int(ds, "NumberOfFrames", path) or 1
    bits = _int(ds, "BitsAllocated", path)
    if rows is None or cols is None or bits is None:
        raise InvalidDicomError(path, "Rows, Columns or Bits Allocated is missing")
    if not (1 <= rows <= MAX_MATRIX and 1 <= cols <= MAX_MATRIX):
        raise InvalidDicomError(
            path, f"matrix {rows}×{cols} is implausible for NM (1–{MAX_MATRIX} expected)"
        )
    if not 1 <= frames <= MAX_FRAMES:
        raise InvalidDicomError(path, f"Number of Frames {frames} is outside 1–{MAX_FRAMES}")
    if bits not in (8, 16, 32):
        raise InvalidDicomError(path, f"Bits Allocated is {bits}, expected 8, 16 or 32")
    if _int(ds, "SamplesPerPixel", path) not in (None, 1):
        raise InvalidDicomError(
            path, f"Samples per Pixel is {ds.SamplesPerPixel}: NM counts are single-sample"
        )
    expected = rows * cols * frames * bits // 8
    if expected > MAX_PIXEL_BYTES:
        raise InvalidDicomError(path, f"pixel data of {expected} bytes is implausibly large")
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax is None or not syntax.is_compressed:
        got = len(ds.PixelData)
        if got < expected:
            raise InvalidDicomError(
                path,
                f"pixel data truncated: {got} bytes, expected {expected} for {frames} "
                f"frame(s) of {rows}×{cols} at {bits} bits",
            )
    try:
        array = ds.pixel_array
    # Decoders (pydicom, pylibjpeg, RLE) raise many unrelated types on corrupt data.
    except Exception as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidDicomError(path, f"pixel data cannot be decoded: {message}") from exc
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.shape != (frames, rows, cols):
        raise InvalidDicomError(
            path, f"decoded pixels have shape {array.shape}, expected {(frames, rows, cols)}"
        )
    slope = _float(ds, "RescaleSlope", path)
    intercept = _float(ds, "RescaleIntercept", path)
    if (slope not in (None, 1.0)) or (intercept not in (None, 0.0)):
        array = array.astype(np.float64) * (slope or 1.0) + (intercept or 0.0)
    return array


# --------------------------------------------------------------------------- timing
def _phases(ds: Dataset, path: str, n_frames_per_image: int) -> list[DynamicPhase]:
    phases = []
    for i, item in enumerate(_items(ds, "PhaseInformationSequence"), start=1):
        duration = _positive_ms(item, "ActualFrameDuration", path)
        count = _int(item, "NumberOfFramesInPhase", path)
        if duration is None or count is None or count < 1:
            raise InvalidDicomError(
                path,
                f"Phase Information Sequence item {i} needs Actual Frame Duration > 0 and "
                f"Number of Frames in Phase ≥ 1 (got {duration}, {count})",
            )
        delay = _float(item, "PhaseDelay", path) or 0.0
        pause = _float(item, "PauseBetweenFrames", path) or 0.0
        if delay < 0 or pause < 0:
            raise InvalidDicomError(
                path, f"phase {i}: Phase Delay {delay} / Pause Between Frames {pause} < 0 ms"
            )
        phases.append(DynamicPhase(duration, count, delay, pause))
    if phases:
        return phases
    vector = ds.get("FrameTimeVector")
    if vector is not None:
        return _phases_from_frame_time_vector(list(vector), path, n_frames_per_image)
    frame_time = _positive_ms(ds, "FrameTime", path) or _positive_ms(
        ds, "ActualFrameDuration", path
    )
    if frame_time is None:
        raise InvalidDicomError(
            path, "dynamic image without Phase Information Sequence, Frame Time or Actual "
            "Frame Duration: frame timing unknown"
        )
    return [DynamicPhase(frame_time, n_frames_per_image)]


def _phases_from_frame_time_vector(
    vector: list[Any], path: str, n_frames: int
) -> list[DynamicPhase]:
    """Phases equivalent to a Frame Time Vector (PS3.3 C.7.6.5.1.2).

    The vector holds the time increment before each frame (0 for the first): frame *i*
    lasts until frame *i+1* starts, and the last frame as long as the one before it.
    Consecutive frames of equal duration form one phase.
    """
    try:
        increments = [float(v) for v in vector]
    except (TypeError, ValueError) as exc:
        raise InvalidDicomError(path, "Frame Time Vector holds non-numbers") from exc
    if len(increments) != n_frames:
        raise InvalidDicomError(
            path, f"Frame Time Vector has {len(increments)} values but there are {n_frames} "
            "frames"
        )
    durations = increments[1:] + increments[-1:] if n_frames > 1 else []
    if not durations or any(not d > 0 for d in durations):
        raise InvalidDicomError(
            path, f"Frame Time Vector increments must be > 0 ms, got {increments[:8]}"
        )
    phases: list[DynamicPhase] = []
    for duration in durations:
        if phases and phases[-1].frame_duration_ms == duration:
            last = phases[-1]
            phases[-1] = DynamicPhase(duration, last.number_of_frames + 1)
        else:
            phases.append(DynamicPhase(duration, 1))
    return phases


def _gating(ds: Dataset, path: str, rr_interval: int) -> tuple[GatingInfo, list[float]]:
    """Gating description of one R-R window and its time-slot durations (may be empty)."""
    gated_items = _items(ds, "GatedInformationSequence")
    g = gated_items[min(rr_interval, len(gated_items)) - 1] if gated_items else Dataset()
    data_items = _items(g, "DataInformationSequence")
    d = data_items[0] if data_items else Dataset()
    frame_time = _positive_ms(d, "FrameTime", path) or _positive_ms(ds, "FrameTime", path)
    slot_times = [
        _positive_ms(item, "TimeSlotTime", path)
        for item in _items(d, "TimeSlotInformationSequence")
    ]
    slots = [t for t in slot_times if t is not None]
    flag = _str(ds, "BeatRejectionFlag").upper()
    info = GatingInfo(
        nominal_interval_ms=_positive_ms(d, "NominalInterval", path),
        low_rr_ms=_positive_ms(d, "LowRRValue", path),
        high_rr_ms=_positive_ms(d, "HighRRValue", path),
        intervals_acquired=_int(d, "IntervalsAcquired", path),
        intervals_rejected=_int(d, "IntervalsRejected", path),
        heart_rate_bpm=_positive_ms(ds, "HeartRate", path),
        framing_type=_str(g, "CardiacFramingType"),
        trigger_time_ms=_float(g, "TriggerTime", path),
        beat_rejection={"Y": True, "N": False}.get(flag),
    )
    if info.low_rr_ms and info.high_rr_ms and info.low_rr_ms > info.high_rr_ms:
        raise InvalidDicomError(path, "Low R-R Value exceeds High R-R Value")
    return info, ([frame_time] if frame_time and not slots else slots)


# --------------------------------------------------------------------------- series
def _patient_orientation(ds: Dataset) -> tuple[str, str] | None:
    """Patient Orientation (0020,0020): directions of the columns and rows, if valid."""
    value = ds.get("PatientOrientation")
    if value is None or isinstance(value, str | bytes):
        return None
    parts = [str(v).strip().upper() for v in value]
    if len(parts) != 2 or not all(p and set(p) <= set("LRAPHF") for p in parts):
        return None
    return parts[0], parts[1]


def _descriptions(ds: Dataset) -> list[tuple[str, str]]:
    return [(k, _str(ds, k)) for k in ("SeriesDescription", "ProtocolName", "ImageComments")
            if _str(ds, k)]


def _tracer_and_state(ds: Dataset, path: str, windows: dict[int, EnergyWindow]
                      ) -> tuple[Radiopharmaceutical, tuple[State, str, str]]:
    descriptions = _descriptions(ds)
    all_text = " ".join(t for _, t in descriptions) + " " + _str(ds, "StudyDescription")
    pharm = _radiopharmaceutical(ds, path, windows, all_text)
    return pharm, _state(
        ds, [*descriptions, ("StudyDescription", _str(ds, "StudyDescription"))])


def tracer_and_state(ds: Dataset, path: str) -> tuple[Tracer, State]:
    """The tracer and the state (rest, stress, ...) of one dataset, from its header alone
    (read without pixel data), as :func:`series_from_dataset` finds them.

    Raises
    ------
    DeclinedInputError
        For SPECT, other modalities and non-image objects.
    InvalidDicomError
        For an unreadable energy window or dose.
    """
    reason = decline_reason(ds)
    if reason is not None:
        raise DeclinedInputError(path, reason)
    pharm, (state, _, _) = _tracer_and_state(ds, path, _energy_windows(ds, path))
    return pharm.tracer, state


def series_from_dataset(ds: Dataset, path: str) -> tuple[list[Series], list[Finding]]:
    """All planar images of one NM (or NM Secondary Capture) dataset.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with pixel data.
    path : str
        Where it came from, named in every message.

    Returns
    -------
    series : list of StaticImage, GatedSeries or DynamicSeries
        One per detector × energy window (× R-R interval).
    findings : list of Finding
        What the reader noticed (unknown view, view from a description, ...).

    Raises
    ------
    DeclinedInputError
        For SPECT, other modalities and non-image objects.
    InvalidDicomError
        For anything inconsistent: vectors, timing, pixel data.
    """
    reason = decline_reason(ds)
    if reason is not None:
        raise DeclinedInputError(path, reason)
    findings: list[Finding] = []
    series_uid = _str(ds, "SeriesInstanceUID")
    sop_uid = _str(ds, "SOPInstanceUID")
    if not series_uid or not sop_uid:
        raise InvalidDicomError(path, "Series or SOP Instance UID is missing")
    sop_class = _str(ds, "SOPClassUID")
    if sop_class == SecondaryCaptureImageStorage:
        findings.append(
            Finding(
                "NM_AS_SECONDARY_CAPTURE",
                Level.INFO,
                f"{path}: NM image stored as Secondary Capture; acquisition attributes may be "
                "incomplete",
                series_uid,
            )
        )
    kind = _kind(ds, path, findings)
    pixels = _pixels(ds, path)
    n_frames = pixels.shape[0]
    fip = ds.get("FrameIncrementPointer")
    if fip is None:
        pointer: list[str] = []
    else:
        tags = list(fip) if isinstance(fip, MultiValue | list | tuple) else [fip]
        pointer = [keyword_for_tag(t) or f"{int(t):08X}" for t in tags]
    counts = {
        name: _int(ds, name, path)
        for name in (
            "NumberOfEnergyWindows",
            "NumberOfDetectors",
            "NumberOfPhases",
            "NumberOfRRIntervals",
            "NumberOfTimeSlots",
        )
    }
    vectors: dict[str, Any] = {}
    for name in (
        "EnergyWindowVector",
        "DetectorVector",
        "PhaseVector",
        "RRIntervalVector",
        "TimeSlotVector",
    ):
        value = ds.get(name)
        vectors[name] = None if value is None else ([value] if isinstance(value, int) else value)
    if sop_class == SecondaryCaptureImageStorage and n_frames == 1:
        pointer = []
    phases = _phases(ds, path, n_frames) if kind is SeriesKind.DYNAMIC else None
    try:
        groups = index_frames(
            kind,
            n_frames,
            [p for p in pointer if p != "FrameTime"],
            vectors,
            counts,
            [p.number_of_frames for p in phases]
            if phases and "PhaseInformationSequence" in ds else None,
        )
    except FrameIndexError as exc:
        raise InvalidDicomError(path, str(exc)) from exc

    windows = _energy_windows(ds, path)
    descriptions = _descriptions(ds)
    pharm, (state, state_source, state_note) = _tracer_and_state(ds, path, windows)
    if state is State.UNKNOWN:
        findings.append(
            Finding(
                "STATE_UNKNOWN",
                Level.WARN,
                f"{path}: rest or stress is not stated"
                + (f" ({state_note})" if state_note else ""),
                series_uid,
            )
        )
    spacing = ds.get("PixelSpacing")
    try:
        spacing_mm = (float(spacing[0]), float(spacing[1])) if spacing else None
        if spacing_mm is not None and not all(0 < v < 100 for v in spacing_mm):
            raise ValueError
    except (TypeError, ValueError, IndexError) as exc:
        raise InvalidDicomError(path, f"Pixel Spacing is {spacing!r}, expected two mm > 0") from exc
    if spacing_mm is None:
        findings.append(
            Finding("PIXEL_SPACING_MISSING", Level.WARN,
                    f"{path}: Pixel Spacing is absent; sizes in mm are unavailable", series_uid)
        )
    acq_dt = _datetime(_str(ds, "AcquisitionDate") or _str(ds, "SeriesDate"),
                       _str(ds, "AcquisitionTime") or _str(ds, "SeriesTime"))
    series_number = _int(ds, "SeriesNumber", path)
    frame_duration = _positive_ms(ds, "ActualFrameDuration", path)

    out: list[Series] = []
    view_notes_done: set[int] = set()
    for group in groups:
        view, angle, view_source, view_note = _detector_view(ds, group.detector, descriptions)
        if view is View.UNKNOWN and group.detector not in view_notes_done:
            view_notes_done.add(group.detector)
            findings.append(
                Finding(
                    "VIEW_UNKNOWN",
                    Level.WARN,
                    f"{path}: the view of detector {group.detector} is not stated"
                    + (f" ({view_note})" if view_note else "")
                    + "; view-specific analyses will not use it",
                    series_uid,
                )
            )
        window = windows.get(group.energy_window, EnergyWindow(group.energy_window))
        acquisition = Acquisition(
            study_instance_uid=_str(ds, "StudyInstanceUID"),
            series_instance_uid=series_uid,
            sop_instance_uid=sop_uid,
            sop_class_uid=sop_class,
            kind=kind,
            view=view,
            view_angle_deg=angle,
            view_source=view_source,
            state=state,
            state_source=state_source,
            radiopharmaceutical=pharm,
            detector=group.detector,
            energy_window=window,
            pixel_spacing_mm=spacing_mm,
            series_description=_str(ds, "SeriesDescription"),
            protocol_name=_str(ds, "ProtocolName"),
            series_number=series_number,
            acquisition_datetime=acq_dt,
            manufacturer=_str(ds, "Manufacturer"),
            model_name=_str(ds, "ManufacturerModelName"),
            source_file=path,
            patient_orientation=_patient_orientation(ds),
        )
        frames = pixels[group.frames]
        try:
            if kind in (SeriesKind.STATIC, SeriesKind.WHOLE_BODY):
                out.append(StaticImage(acquisition, frames[0], frame_duration))
            elif kind is SeriesKind.DYNAMIC:
                assert phases is not None
                out.append(DynamicSeries.from_phases(acquisition, frames, phases))
            else:
                gating, slot_ms = _gating(ds, path, group.rr_interval)
                n = frames.shape[0]
                if len(slot_ms) == 1:
                    durations = np.full(n, slot_ms[0])
                elif len(slot_ms) == n:
                    durations = np.asarray(slot_ms)
                elif gating.nominal_interval_ms:
                    durations = np.full(n, gating.nominal_interval_ms / n)
                    findings.append(
                        Finding("GATED_FRAME_TIME_DERIVED", Level.INFO,
                                f"{path}: no Frame Time; time slots taken as Nominal Interval "
                                f"/ {n}", series_uid)
                    )
                else:
                    raise InvalidDicomError(
                        path, "gated image without Frame Time, Time Slot Time or Nominal "
                        "Interval: time slot durations unknown"
                    )
                out.append(GatedSeries(acquisition, frames, durations, gating,
                                       group.rr_interval))
        except ValueError as exc:
            if isinstance(exc, InvalidDicomError):
                raise
            raise InvalidDicomError(path, str(exc)) from exc
    return out, findings
