"""The report as DICOM: Encapsulated PDF, Comprehensive SR, Secondary Capture figures.

All three go into the study of the source images, reference the source instances and carry
the software name and version. UIDs are derived deterministically from the study, the
object kind and the report's generation time, so re-rendering the same report gives the
same objects, and a new rendering (after an edit) gives new ones.

References
----------
.. [1] DICOM PS3.3 A.45.1 Encapsulated PDF IOD; A.35.3 Comprehensive SR IOD;
   A.8.1 Secondary Capture Image IOD.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import (
    UID,
    EncapsulatedPDFStorage,
    ExplicitVRLittleEndian,
    generate_uid,
)

from planarmpi._version import __version__
from planarmpi.errors import WriterError
from planarmpi.report.model import Report

__all__ = ["LOCAL_CODES", "comprehensive_sr", "encapsulated_pdf", "secondary_capture",
           "write_dicom_outputs"]

_SCHEME = "99PLANARMPI"
#: Concepts with no standard code: a local coding scheme (PS3.16 8.2: designators starting
#: with "99" are private).
LOCAL_CODES = {
    "summed_stress_score": Code("SSS", _SCHEME, "Summed stress score (planar, 15 segments)"),
    "summed_rest_score": Code("SRS", _SCHEME, "Summed rest score (planar, 15 segments)"),
    "perfusion_extent": Code("EXT", _SCHEME, "Perfusion defect extent, % of LV profile"),
    "lung_heart_ratio": Code("LHR", _SCHEME, "Lung-to-heart count ratio"),
    "tid_ratio": Code("TID", _SCHEME, "Transient ischemic dilation ratio (planar)"),
    "gated-blood-pool": Code("GBP", _SCHEME, "Count-based gated blood pool"),
    "first-pass": Code("FP", _SCHEME, "Count-based first pass"),
    "gated-perfusion": Code("GP", _SCHEME, "Gated perfusion images"),
    "percent_mphr": Code("MPHR", _SCHEME, "Peak heart rate, % of age-predicted maximum"),
}
_TERRITORY = {"LAD": codes.SCT.LeftAnteriorDescendingCoronaryArtery,
              "LCX": codes.SCT.CircumflexCoronaryArtery,
              "RCA": codes.SCT.RightCoronaryArtery}
_PERFUSION_KIND = {"reversible": codes.SCT.ReversibleMyocardialPerfusionDefect,
                   "fixed": codes.SCT.FixedMyocardialPerfusionDefect,
                   "partially reversible":
                       codes.SCT.PartiallyReversibleMyocardialPerfusionDefect}
_ROOT = Code("18748-4", "LN", "Diagnostic imaging report")  # LOINC; PS3.16 CID 7000
_MANUFACTURER = "planarmpi"


def _uid(study_uid: str, kind: str, clock: dt.datetime) -> UID:
    return generate_uid(entropy_srcs=[study_uid, kind, clock.isoformat(), __version__])


def _pn(name: str) -> str:
    """A person's name for a PN element: DICOM PN kept; free text as one component.

    Free text ("Dr. N. Reader") cannot be split into family and given names without
    guessing, so it goes whole into the first component, with the trailing caret PS3.5
    6.2.1.2 asks for to mark a single-component name.
    """
    if not name or "^" in name:
        return name
    return name.replace(".", "").strip() + "^"


def _da(iso: str | None) -> str:
    return iso.replace("-", "") if iso else ""


def _tm(iso: str | None) -> str:
    return iso.replace(":", "").split(".")[0] if iso else ""


def _evidence(header: dict[str, Any]) -> list[Dataset]:
    """Minimal datasets standing for the source instances (what references need)."""
    if not header.get("instances"):
        raise WriterError("study.json lists no source instance: derived DICOM objects "
                          "must reference the images they come from")
    out = []
    for inst in header["instances"]:
        ds = Dataset()
        ds.SeriesInstanceUID = inst["series_instance_uid"]
        ds.SOPInstanceUID = inst["sop_instance_uid"]
        ds.SOPClassUID = inst["sop_class_uid"]
        ds.Modality = inst.get("modality", "NM")
        _patient_study(ds, header)
        # An instance of another study of a combined episode (two-day protocol) is
        # referenced in its own study (study.json before 2026-12-03 has no such key).
        ds.StudyInstanceUID = inst.get("study_instance_uid") or header["study_instance_uid"]
        out.append(ds)
    return out


def _patient_study(ds: Dataset, header: dict[str, Any]) -> None:
    ds.PatientName = _pn(header.get("patient_name") or "")
    ds.PatientID = header.get("patient_id") or ""
    ds.PatientBirthDate = _da(header.get("patient_birth_date"))
    sex = header.get("patient_sex")
    ds.PatientSex = sex if sex in ("M", "F", "O") else ""
    ds.StudyDate = _da(header.get("study_date"))
    ds.StudyTime = _tm(header.get("study_time"))
    ds.ReferringPhysicianName = _pn(header.get("referring_physician") or "")
    ds.StudyID = header.get("study_id") or ""
    ds.AccessionNumber = header.get("accession_number") or ""
    ds.StudyInstanceUID = header["study_instance_uid"]


def _file_meta(ds: Dataset) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta


def _source_sequence(header: dict[str, Any]) -> DicomSequence:
    items = []
    for inst in header["instances"]:
        item = Dataset()
        item.ReferencedSOPClassUID = inst["sop_class_uid"]
        item.ReferencedSOPInstanceUID = inst["sop_instance_uid"]
        items.append(item)
    return DicomSequence(items)


def encapsulated_pdf(pdf: bytes, report: Report, header: dict[str, Any]) -> Dataset:
    """The PDF report as an Encapsulated PDF instance in the source study (PS3.3 A.45.1)."""
    if not pdf.startswith(b"%PDF"):
        raise WriterError("encapsulated_pdf: the document is not a PDF")
    clock = report.generated_at
    ds = Dataset()
    _patient_study(ds, header)
    ds.SOPClassUID = EncapsulatedPDFStorage
    ds.SOPInstanceUID = _uid(header["study_instance_uid"], "pdf", clock)
    ds.SeriesInstanceUID = _uid(header["study_instance_uid"], "pdf-series", clock)
    ds.Modality = "DOC"
    ds.SeriesNumber = 9001
    ds.SeriesDescription = "planarmpi report (PDF)"
    ds.Manufacturer = _MANUFACTURER
    ds.SoftwareVersions = __version__
    ds.ConversionType = "WSD"
    ds.InstanceNumber = 1
    ds.ContentDate = clock.strftime("%Y%m%d")
    ds.ContentTime = clock.strftime("%H%M%S")
    ds.AcquisitionDateTime = clock.strftime("%Y%m%d%H%M%S")
    ds.InstanceCreationDate = ds.ContentDate
    ds.InstanceCreationTime = ds.ContentTime
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = f"{report.title} report"
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator = _ROOT.value, _ROOT.scheme_designator
    concept.CodeMeaning = _ROOT.meaning
    ds.ConceptNameCodeSequence = DicomSequence([concept])
    ds.SourceInstanceSequence = _source_sequence(header)
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(pdf)
    ds.SpecificCharacterSet = "ISO_IR 192"
    _file_meta(ds)
    return ds


def _text(name: Code, value: str, rel: str = "CONTAINS") -> hd.sr.TextContentItem:
    return hd.sr.TextContentItem(name=name, value=value[:1024], relationship_type=rel)


def _num(name: Code, value: float, unit: Code) -> hd.sr.NumContentItem:
    return hd.sr.NumContentItem(name=name, value=float(value), unit=unit,
                                relationship_type="CONTAINS")


def _content(report: Report, result: dict[str, Any], coding: dict[str, Any] | None,
             clinical_values: dict[str, float]) -> hd.sr.ContainerContentItem:
    root = hd.sr.ContainerContentItem(name=_ROOT, template_id=None)
    kids: list[Any] = []
    procedure = (codes.SCT.RadionuclideMyocardialPerfusionStudy if result.get("perfusion")
                 else codes.SCT.NuclearMedicineCardiovascularStudy)
    kids.append(hd.sr.CodeContentItem(name=codes.DCM.ProcedureReported, value=procedure,
                                      relationship_type="HAS CONCEPT MOD"))
    findings = hd.sr.ContainerContentItem(name=codes.DCM.Findings,
                                          relationship_type="CONTAINS")
    items: list[Any] = []
    for ef in result.get("ejection_fractions", []):
        site = codes.SCT.LeftVentricle if ef["chamber"] == "LV" else codes.SCT.RightVentricle
        m = hd.sr.Measurement(
            name=codes.SCT.CardiacEjectionFraction, value=float(ef["value_percent"]),
            unit=codes.UCUM.Percent, method=LOCAL_CODES[ef["method"]],
            finding_sites=[hd.sr.FindingSite(site)])
        items.extend(m)
    perf = result.get("perfusion") or {}
    for state in perf.get("states", []):
        key = ("summed_stress_score" if state["state"].startswith("stress")
               else "summed_rest_score")
        items.append(_num(LOCAL_CODES[key], state["summed_score"], codes.UCUM.NoUnits))
        items.append(_num(LOCAL_CODES["perfusion_extent"], state["extent_percent"],
                          codes.UCUM.Percent))
    if perf:
        verdict = perf.get("verdict")
        if verdict == "normal":
            items.append(hd.sr.CodeContentItem(name=codes.SCT.MyocardialPerfusion,
                                               value=codes.SCT.MyocardialPerfusionNormal,
                                               relationship_type="CONTAINS"))
        for defect in report.defects:
            territory, kind = defect["territory"], defect["kind"]
            if territory not in _TERRITORY:
                continue
            item: hd.sr.CodeContentItem | hd.sr.TextContentItem
            if kind in _PERFUSION_KIND:
                item = hd.sr.CodeContentItem(name=codes.SCT.MyocardialPerfusion,
                                             value=_PERFUSION_KIND[kind],
                                             relationship_type="CONTAINS")
            else:
                # One state imaged: SNOMED codes a defect by its reversibility only, so the
                # finding is a Perfusion finding (371863001) in words, at its territory.
                item = _text(codes.SCT.PerfusionFinding,
                             f"{defect['severity']} perfusion defect of {defect['extent']} "
                             f"extent ({', '.join(defect['segments'])}); {kind}")
            item.ContentSequence = hd.sr.ContentSequence([hd.sr.CodeContentItem(
                name=Code("363698007", "SCT", "Finding Site"),
                value=_TERRITORY[territory], relationship_type="HAS CONCEPT MOD")])
            items.append(item)
    if result.get("lung_heart_ratio") is not None:
        items.append(_num(LOCAL_CODES["lung_heart_ratio"], result["lung_heart_ratio"],
                          codes.UCUM.Ratio))
    tid = ((perf.get("reversibility") or {}).get("tid") or {}).get("ratio")
    if tid is not None:
        items.append(_num(LOCAL_CODES["tid_ratio"], tid, codes.UCUM.Ratio))
    max_hr = codes.SCT.MaximumHeartRateAchievedDuringCourseOfProcedure
    units = {"peak_hr_bpm": (Code(max_hr.value, max_hr.scheme_designator,
                                  "Maximum heart rate achieved during procedure"),
                             Code("{H.B.}/min", "UCUM", "beats per minute")),
             "peak_systolic_mmhg": (codes.SCT.MaximumSystolicBloodPressure,
                                    codes.UCUM.MillimetersHg),
             "duke_score": (codes.SCT.DukeTreadmillScore, codes.UCUM.NoUnits),
             "percent_mphr": (LOCAL_CODES["percent_mphr"], codes.UCUM.Percent)}
    for key, value in clinical_values.items():
        name, unit = units[key]
        items.append(_num(name, value, unit))
    findings.ContentSequence = hd.sr.ContentSequence(items)
    kids.append(findings)
    impressions = hd.sr.ContainerContentItem(name=codes.DCM.Impressions,
                                             relationship_type="CONTAINS")
    impressions.ContentSequence = hd.sr.ContentSequence(
        [_text(Code("121073", "DCM", "Impression"), line) for line in report.impression])
    kids.append(impressions)
    if coding:
        for line in coding.get("cpt", []):
            kids.append(hd.sr.CodeContentItem(
                name=codes.DCM.ProcedureReported,
                value=Code(line["code"], "C4", line["descriptor"][:64]),
                relationship_type="HAS CONCEPT MOD"))
    root.ContentSequence = hd.sr.ContentSequence(kids)
    return root


def comprehensive_sr(report: Report, result: dict[str, Any], header: dict[str, Any],
                     coding: dict[str, Any] | None = None,
                     clinical_values: dict[str, float] | None = None) -> Dataset:
    """The measurements and the impression as a Comprehensive SR (highdicom).

    Codes: SNOMED CT and DCM from ``pydicom.sr.codedict`` (EF, perfusion defect kinds,
    coronary territories, Duke score, peak heart rate and systolic pressure), LOINC for the
    document, UCUM units, CPT (``C4``) for the procedure codes and a local ``99PLANARMPI``
    scheme for planar-specific values (summed scores, lung/heart ratio, TID).
    """
    clock = report.generated_at
    sr = hd.sr.ComprehensiveSR(
        evidence=_evidence(header),
        content=_content(report, result, coding, clinical_values or {}),
        series_instance_uid=_uid(header["study_instance_uid"], "sr-series", clock),
        series_number=9002,
        sop_instance_uid=_uid(header["study_instance_uid"], "sr", clock),
        instance_number=1,
        manufacturer=_MANUFACTURER,
        is_complete=True,
        is_final=report.status == "final",
        is_verified=report.status == "final",
        verifying_observer_name=_pn(report.interpreting_physician)
        if report.status == "final" else None,
        verifying_organization="planarmpi site" if report.status == "final" else None,
        content_date=clock.date(),
        content_time=clock.time().replace(microsecond=0),
        series_description="planarmpi measurements (SR)",
    )
    sr.SoftwareVersions = __version__
    sr.SpecificCharacterSet = "ISO_IR 192"
    for observer in sr.get("VerifyingObserverSequence", []):
        observer.VerificationDateTime = clock.strftime("%Y%m%d%H%M%S")
    scheme = Dataset()
    scheme.CodingSchemeDesignator = _SCHEME
    scheme.CodingSchemeName = "planarmpi local codes"
    scheme.CodingSchemeResponsibleOrganization = "planarmpi developers"
    sr.CodingSchemeIdentificationSequence = [scheme]
    return sr


def secondary_capture(png: str | os.PathLike[str], report: Report, header: dict[str, Any],
                      index: int, caption: str) -> Dataset:
    """A figure (PNG) as an RGB Secondary Capture image in the source study."""
    import matplotlib.image as mpimg

    image = mpimg.imread(str(png))
    if image.dtype != np.uint8:
        image = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = np.ascontiguousarray(image[:, :, :3])
    clock = report.generated_at
    study_uid = header["study_instance_uid"]
    sc = hd.sc.SCImage(
        pixel_array=image,
        photometric_interpretation="RGB",
        bits_allocated=8,
        coordinate_system="PATIENT",
        study_instance_uid=study_uid,
        series_instance_uid=_uid(study_uid, "sc-series", clock),
        series_number=9003,
        sop_instance_uid=_uid(study_uid, f"sc-{index}", clock),
        instance_number=index + 1,
        manufacturer=_MANUFACTURER,
        patient_id=header.get("patient_id") or "",
        patient_name=_pn(header.get("patient_name") or ""),
        patient_birth_date=_da(header.get("patient_birth_date")),
        patient_sex=header.get("patient_sex") if header.get("patient_sex") in ("M", "F", "O")
        else None,
        accession_number=header.get("accession_number") or "",
        study_id=header.get("study_id") or "",
        study_date=_da(header.get("study_date")) or None,
        study_time=_tm(header.get("study_time")) or None,
        referring_physician_name=_pn(header.get("referring_physician") or ""),
        patient_orientation=("L", "F"),
    )
    sc.SoftwareVersions = __version__
    sc.SeriesDescription = "planarmpi figures"
    sc.ImageComments = caption[:10240]
    sc.BurnedInAnnotation = "YES"
    sc.BodyPartExamined = "HEART"
    sc.SourceImageSequence = _source_sequence(header)
    return sc


def write_dicom_outputs(folder: str | os.PathLike[str], *, report: Report, pdf: bytes,
                        result: dict[str, Any], header: dict[str, Any],
                        coding: dict[str, Any] | None = None,
                        clinical_values: dict[str, float] | None = None) -> list[Path]:
    """Write ``report.pdf.dcm``, ``report-sr.dcm`` and ``figure-N.dcm`` into ``folder``."""
    from planarmpi.io.outputs import write_atomic

    folder = Path(folder)
    written = []

    def save(ds: Dataset, name: str) -> None:
        import io

        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        written.append(write_atomic(folder / name, buffer.getvalue()))

    save(encapsulated_pdf(pdf, report, header), "report-pdf.dcm")
    save(comprehensive_sr(report, result, header, coding, clinical_values), "report-sr.dcm")
    for i, fig in enumerate(report.figures):
        path = folder / fig.file
        if path.is_file():
            save(secondary_capture(path, report, header, i, fig.caption), f"figure-{i + 1}.dcm")
    return written
