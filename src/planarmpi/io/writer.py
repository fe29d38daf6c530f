"""Strict writers for planar NM Image Storage objects: STATIC, DYNAMIC and GATED.

One file holds one series: several detectors (each with its own view) and several energy
windows, in any frame order the caller asks for (tests use this to check that the reader
places frames by their vectors). Every Type 1 and Type 2 attribute of the NM Image IOD
(PS3.3 A.5) is written; ``tests/io/test_dciodvfy.py`` checks the output with dciodvfy.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.sr.coding import Code
from pydicom.tag import Tag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ExplicitVRLittleEndian,
    NuclearMedicineImageStorage,
)

from planarmpi._version import __version__
from planarmpi.errors import WriterError
from planarmpi.io.codes import RADIONUCLIDE_CODES, TRACER_CODES, VIEW_CODES
from planarmpi.model import (
    DynamicSeries,
    GatedSeries,
    Patient,
    SeriesKind,
    State,
    StaticImage,
    StudyHeader,
    Tracer,
    View,
)
from planarmpi.model.study import Series

__all__ = ["ViewEncoding", "nm_dataset", "write_nm"]

ViewEncoding = Literal["code", "description", "none"]

_STATE_TEXT = {
    State.REST: "REST",
    State.STRESS: "STRESS",
    State.STRESS_EXERCISE: "EX STRESS",
    State.STRESS_PHARMACOLOGIC: "PHARM STRESS",
    State.REDISTRIBUTION: "REDIST",
    State.REINJECTION: "REINJ",
    State.UNKNOWN: "",
}
_OBLIQUE = (View.LAO, View.RAO, View.LPO, View.RPO)
# Patient Orientation (0020,0020) of the column direction for views seen from the front
# or the left; the row direction is always towards the feet.
_ORIENTATION = {
    View.ANTERIOR: "L",
    View.POSTERIOR: "R",
    View.LAO: "LP",
    View.RAO: "LA",
    View.LEFT_LATERAL: "P",
    View.RIGHT_LATERAL: "A",
}


def _code_item(code: Code) -> Dataset:
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    return item


def _da(value: dt.date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def _tm(value: dt.time | None) -> str:
    return value.strftime("%H%M%S") if value else ""


def _ds(value: float) -> str:
    """A Decimal String of at most 16 characters."""
    text = f"{value:.6g}"
    return text if len(text) <= 16 else f"{value:.8e}"[:16]


def _view_text(image: Series) -> str:
    acq = image.acquisition
    if acq.view is View.UNKNOWN:
        return ""
    if acq.view in _OBLIQUE and acq.view_angle_deg is not None:
        return f"{acq.view.value} {acq.view_angle_deg:g}"
    return acq.view.value


def _check_images(images: Sequence[Series]) -> tuple[SeriesKind, list[int], list[int], list[int]]:
    if not images:
        raise WriterError("write_nm needs at least one image")
    first = images[0]
    kind = first.acquisition.kind
    shape = first.pixels.shape
    for image in images:
        acq = image.acquisition
        if type(image) is not type(first) or acq.kind is not kind:
            raise WriterError("all images of one NM file must be of one kind")
        if image.pixels.shape != shape:
            raise WriterError(
                f"all images of one file need one shape; got {image.pixels.shape} and {shape}"
            )
        for attr in ("series_instance_uid", "sop_instance_uid", "study_instance_uid"):
            if getattr(acq, attr) != getattr(first.acquisition, attr):
                raise WriterError(f"all images of one file need one {attr}")
        if acq.pixel_spacing_mm != first.acquisition.pixel_spacing_mm:
            raise WriterError("all images of one file need one pixel spacing")
        if acq.radiopharmaceutical != first.acquisition.radiopharmaceutical:
            raise WriterError("all images of one file need one radiopharmaceutical")
        if acq.state is not first.acquisition.state:
            raise WriterError("all images of one file need one state")
        pixels = np.asarray(image.pixels)
        if pixels.size and (pixels.min() < 0 or pixels.max() > 65535):
            raise WriterError(
                f"counts must lie within 0–65535 for 16-bit NM pixels, got "
                f"{pixels.min()}–{pixels.max()}"
            )
        if np.issubdtype(pixels.dtype, np.floating) and not np.all(pixels == np.round(pixels)):
            raise WriterError("NM pixels hold integer counts; got non-integer values")
        if isinstance(image, GatedSeries) and isinstance(first, GatedSeries):
            if not np.array_equal(image.frame_duration_ms, first.frame_duration_ms):
                raise WriterError("all gated images of one file need the same time slots")
            if image.gating != first.gating:
                raise WriterError("all gated images of one file need the same gating")
        if (isinstance(image, DynamicSeries) and isinstance(first, DynamicSeries)
                and image.phases != first.phases):
                raise WriterError("all dynamic images of one file need the same phases")
    detectors = sorted({i.acquisition.detector for i in images})
    windows = sorted({i.acquisition.energy_window.index for i in images})
    rrs = sorted({i.rr_interval if isinstance(i, GatedSeries) else 1 for i in images})
    for name, values in (("detector", detectors), ("energy window", windows),
                         ("R-R interval", rrs)):
        if values != list(range(1, len(values) + 1)):
            raise WriterError(f"{name} indices must run 1…n without gaps, got {values}")
    keys = {
        (i.acquisition.energy_window.index, i.acquisition.detector,
         i.rr_interval if isinstance(i, GatedSeries) else 1)
        for i in images
    }
    if len(keys) != len(images) or len(keys) != len(detectors) * len(windows) * len(rrs):
        raise WriterError(
            "images must cover every energy window × detector (× R-R interval) exactly once"
        )
    for det in detectors:
        views = {
            (i.acquisition.view, i.acquisition.view_angle_deg)
            for i in images
            if i.acquisition.detector == det
        }
        if len(views) != 1:
            raise WriterError(f"detector {det} has more than one view: {views}")
    return kind, detectors, windows, rrs


def nm_dataset(
    images: Sequence[Series],
    *,
    patient: Patient,
    header: StudyHeader,
    frame_order: Sequence[int] | NDArray[np.integer] | None = None,
    view_encoding: ViewEncoding = "code",
    manufacturer: str = "planarmpi",
    model_name: str = "planarmpi simulator",
    series_description: str | None = None,
    instance_number: int = 1,
    content_datetime: dt.datetime | None = None,
) -> Dataset:
    """Build an NM Image Storage dataset holding ``images``.

    Parameters
    ----------
    images : sequence of StaticImage, GatedSeries or DynamicSeries
        All of one kind, shape, series, state and tracer; together they must cover every
        energy window × detector (× R-R interval) index once.
    patient, header : Patient, StudyHeader
    frame_order : sequence of int, optional
        Permutation applied to the canonical order (energy window, detector, R-R interval,
        time): stored frame ``i`` is canonical frame ``frame_order[i]``. For dynamic
        images the frames of one energy window, detector and phase must stay in temporal
        order (nothing else orders them).
    view_encoding : {"code", "description", "none"}
        Where the view is written: View Code Sequence (and Series Description), Series
        Description only (as many cameras do), or nowhere.
    content_datetime : datetime, optional
        Content Date/Time; defaults to the acquisition time, then the study date.

    Raises
    ------
    WriterError
        When the images are inconsistent or the counts do not fit 16-bit NM pixels.
    """
    kind, detectors, windows, rrs = _check_images(images)
    first = images[0]
    acq0 = first.acquisition
    by_key = {
        (i.acquisition.energy_window.index, i.acquisition.detector,
         i.rr_interval if isinstance(i, GatedSeries) else 1): i
        for i in images
    }
    frames: list[NDArray[np.generic]] = []
    ew_v: list[int] = []
    det_v: list[int] = []
    rr_v: list[int] = []
    slot_v: list[int] = []
    phase_v: list[int] = []
    for key in sorted(by_key):
        image = by_key[key]
        stack = image.pixels[np.newaxis] if isinstance(image, StaticImage) else image.pixels
        for t, frame in enumerate(stack):
            frames.append(frame)
            ew_v.append(key[0])
            det_v.append(key[1])
            rr_v.append(key[2])
            slot_v.append(t + 1)
        if isinstance(image, DynamicSeries):
            for p, phase in enumerate(image.phases, start=1):
                phase_v.extend([p] * phase.number_of_frames)
    n = len(frames)
    order = np.arange(n) if frame_order is None else np.asarray(frame_order, dtype=np.intp)
    if order.shape != (n,) or sorted(order.tolist()) != list(range(n)):
        raise WriterError(f"frame_order must be a permutation of 0…{n - 1}")
    if kind is SeriesKind.DYNAMIC:
        # Frames sharing energy window, detector and phase are told apart by nothing but
        # their position, so the standard requires them in temporal order.
        groups = [(ew_v[i], det_v[i], phase_v[i]) for i in order]
        last: dict[tuple[int, int, int], int] = {}
        for key, frame in zip(groups, order.tolist(), strict=True):
            if last.get(key, -1) > frame:
                raise WriterError(
                    "frame_order must keep the frames of one energy window, detector and "
                    "phase in temporal order (dynamic frames have no time vector)"
                )
            last[key] = frame
    pixel_stack = np.stack(frames)[order].astype("<u2")

    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["ORIGINAL", "PRIMARY", kind.value, "EMISSION"]
    ds.SOPClassUID = NuclearMedicineImageStorage
    ds.SOPInstanceUID = acq0.sop_instance_uid
    when = content_datetime or acq0.acquisition_datetime
    ds.StudyDate = _da(header.study_date)
    ds.StudyTime = _tm(header.study_time)
    ds.SeriesDate = _da(when.date()) if when else ds.StudyDate
    ds.SeriesTime = _tm(when.time()) if when else ds.StudyTime
    ds.AcquisitionDate = ds.SeriesDate
    ds.AcquisitionTime = ds.SeriesTime
    ds.ContentDate = ds.SeriesDate
    ds.ContentTime = ds.SeriesTime
    ds.AccessionNumber = header.accession_number
    ds.Modality = "NM"
    ds.Manufacturer = manufacturer
    ds.ReferringPhysicianName = header.referring_physician
    ds.StudyDescription = header.description
    ds.ManufacturerModelName = model_name
    ds.SoftwareVersions = f"planarmpi {__version__}"
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = _da(patient.birth_date)
    ds.PatientSex = patient.sex.value if patient.sex.value in ("M", "F", "O") else ""
    if patient.age_years is not None:
        ds.PatientAge = f"{min(int(patient.age_years), 999):03d}Y"
    if patient.height_m is not None:
        ds.PatientSize = _ds(patient.height_m)
    if patient.weight_kg is not None:
        ds.PatientWeight = _ds(patient.weight_kg)
    ds.BodyPartExamined = "HEART"
    ds.StudyInstanceUID = header.study_instance_uid
    ds.SeriesInstanceUID = acq0.series_instance_uid
    ds.StudyID = header.study_id or "1"
    ds.SeriesNumber = acq0.series_number if acq0.series_number is not None else 1
    ds.InstanceNumber = instance_number
    view_texts = [_view_text(by_key[(1, d, 1)]) for d in detectors]
    if series_description is None:
        series_description = acq0.series_description
        if not series_description:
            words = (_STATE_TEXT[acq0.state], "/".join(v for v in view_texts if v))
            series_description = " ".join(w for w in words if w)
    if view_encoding == "none":
        series_description = " ".join(
            w for w in series_description.split() if w.upper() not in {v.value for v in View}
        )
    ds.SeriesDescription = series_description
    ds.ProtocolName = series_description
    only_view = by_key[(1, detectors[0], 1)].acquisition.view
    ds.PatientOrientation = (
        [_ORIENTATION[only_view], "F"]
        if len(detectors) == 1 and only_view in _ORIENTATION
        else ""
    )
    ds.AcquisitionContextSequence = DicomSequence([])
    ds.LossyImageCompression = "00"

    # Image pixel and multi-frame
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = n
    pointers = ["EnergyWindowVector", "DetectorVector"]
    if kind is SeriesKind.DYNAMIC:
        pointers.append("PhaseVector")
    if kind is SeriesKind.GATED:
        pointers += ["RRIntervalVector", "TimeSlotVector"]
    ds.FrameIncrementPointer = [Tag(p) for p in pointers]
    ds.Rows, ds.Columns = int(pixel_stack.shape[1]), int(pixel_stack.shape[2])
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    if acq0.pixel_spacing_mm is not None:
        ds.PixelSpacing = [_ds(v) for v in acq0.pixel_spacing_mm]
    else:
        ds.PixelSpacing = None
    ds.EnergyWindowVector = [ew_v[i] for i in order]
    ds.NumberOfEnergyWindows = len(windows)
    ds.DetectorVector = [det_v[i] for i in order]
    ds.NumberOfDetectors = len(detectors)
    if kind is SeriesKind.DYNAMIC:
        ds.PhaseVector = [phase_v[i] for i in order]
        assert isinstance(first, DynamicSeries)
        ds.NumberOfPhases = len(first.phases)
    if kind is SeriesKind.GATED:
        assert isinstance(first, GatedSeries)
        ds.RRIntervalVector = [rr_v[i] for i in order]
        ds.NumberOfRRIntervals = len(rrs)
        ds.TimeSlotVector = [slot_v[i] for i in order]
        ds.NumberOfTimeSlots = first.pixels.shape[0]
    if kind in (SeriesKind.STATIC, SeriesKind.WHOLE_BODY):
        assert isinstance(first, StaticImage)
        if first.frame_duration_ms is not None:
            ds.ActualFrameDuration = round(first.frame_duration_ms)
    ds.CountsAccumulated = int(sum(float(i.pixels.sum()) for i in images))

    # Isotope
    ew_items = []
    for w in windows:
        window = by_key[(w, detectors[0], 1)].acquisition.energy_window
        item = Dataset()
        item.EnergyWindowRangeSequence = DicomSequence()
        for lo, hi in window.ranges_kev:
            r = Dataset()
            r.EnergyWindowLowerLimit = _ds(lo)
            r.EnergyWindowUpperLimit = _ds(hi)
            item.EnergyWindowRangeSequence.append(r)
        if window.name:
            item.EnergyWindowName = window.name
        ew_items.append(item)
    ds.EnergyWindowInformationSequence = DicomSequence(ew_items)
    pharm = acq0.radiopharmaceutical
    rp = Dataset()
    nuclide = Tracer.TL201 if pharm.tracer is Tracer.TL201 else (
        Tracer.TC99M if pharm.tracer.is_technetium else None
    )
    rp.RadionuclideCodeSequence = DicomSequence(
        [_code_item(RADIONUCLIDE_CODES[nuclide][0])] if nuclide else []
    )
    if pharm.name or pharm.tracer is not Tracer.UNKNOWN:
        rp.Radiopharmaceutical = pharm.name or pharm.tracer.value
    if pharm.injection_datetime is not None:
        rp.RadiopharmaceuticalStartTime = _tm(pharm.injection_datetime.time())
        rp.RadiopharmaceuticalStartDateTime = pharm.injection_datetime.strftime("%Y%m%d%H%M%S")
    if pharm.dose_mbq is not None:
        rp.RadionuclideTotalDose = _ds(pharm.dose_mbq)
    if pharm.tracer in TRACER_CODES:
        rp.RadiopharmaceuticalCodeSequence = DicomSequence(
            [_code_item(TRACER_CODES[pharm.tracer][0])]
        )
    ds.RadiopharmaceuticalInformationSequence = DicomSequence([rp])

    # Detectors and views
    det_items = []
    for det in detectors:
        image = by_key[(1, det, 1)]
        item = Dataset()
        item.CollimatorGridName = "LEHR"
        item.CollimatorType = "PARA"
        item.ImagePositionPatient = None
        item.ImageOrientationPatient = None
        if view_encoding == "code" and image.acquisition.view in VIEW_CODES:
            view_item = _code_item(VIEW_CODES[image.acquisition.view][0])
            view_item.ViewModifierCodeSequence = DicomSequence([])
            item.ViewCodeSequence = DicomSequence([view_item])
        if image.acquisition.view_angle_deg is not None:
            item.StartAngle = _ds(image.acquisition.view_angle_deg)
        det_items.append(item)
    ds.DetectorInformationSequence = DicomSequence(det_items)
    ds.PatientOrientationCodeSequence = DicomSequence([])
    ds.PatientGantryRelationshipCodeSequence = DicomSequence([])

    if kind is SeriesKind.GATED:
        assert isinstance(first, GatedSeries)
        g = first.gating
        ds.BeatRejectionFlag = "Y" if g.beat_rejection or g.low_rr_ms else "N"
        if g.heart_rate_bpm is not None:
            ds.HeartRate = round(g.heart_rate_bpm)
        gated_items = []
        for _ in rrs:
            gi = Dataset()
            if g.trigger_time_ms is not None:
                gi.TriggerTime = _ds(g.trigger_time_ms)
            if g.framing_type:
                gi.CardiacFramingType = g.framing_type
            di = Dataset()
            di.FrameTime = _ds(float(np.mean(first.frame_duration_ms)))
            if g.nominal_interval_ms is not None:
                di.NominalInterval = round(g.nominal_interval_ms)
            if g.low_rr_ms is not None:
                di.LowRRValue = round(g.low_rr_ms)
            if g.high_rr_ms is not None:
                di.HighRRValue = round(g.high_rr_ms)
            if g.intervals_acquired is not None:
                di.IntervalsAcquired = g.intervals_acquired
            if g.intervals_rejected is not None:
                di.IntervalsRejected = g.intervals_rejected
            slots = []
            for duration in first.frame_duration_ms:
                si = Dataset()
                si.TimeSlotTime = _ds(float(duration))
                slots.append(si)
            di.TimeSlotInformationSequence = DicomSequence(slots)
            gi.DataInformationSequence = DicomSequence([di])
            gated_items.append(gi)
        ds.GatedInformationSequence = DicomSequence(gated_items)
    if kind is SeriesKind.DYNAMIC:
        assert isinstance(first, DynamicSeries)
        phase_items = []
        for phase in first.phases:
            pi = Dataset()
            pi.PhaseDelay = round(phase.phase_delay_ms)
            pi.ActualFrameDuration = round(phase.frame_duration_ms)
            pi.PauseBetweenFrames = round(phase.pause_between_frames_ms)
            pi.NumberOfFramesInPhase = phase.number_of_frames
            phase_items.append(pi)
        ds.PhaseInformationSequence = DicomSequence(phase_items)

    ds.PixelData = pixel_stack.tobytes()

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"PLANARMPI_{__version__}"[:16]
    ds.file_meta = meta
    return ds


def write_nm(path: str | os.PathLike[str], images: Sequence[Series], **kwargs: object) -> None:
    """Write ``images`` as one NM Image Storage file (see :func:`nm_dataset`).

    Timing is written in whole ms, as DICOM's IS attributes require: give frame durations
    in whole ms to round-trip exactly.
    """
    ds = nm_dataset(images, **kwargs)  # type: ignore[arg-type]
    ds.save_as(path, enforce_file_format=True)
