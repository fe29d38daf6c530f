"""Finding NM files on disk and assembling them into studies.

Any file names, nested folders, a study spread over many files and series. Headers are
read first (without pixels) to group files by Study Instance UID; pixels are read one study
at a time, so :func:`iter_studies` holds one study in memory, not an archive.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import MediaStorageDirectoryStorage

from planarmpi.errors import (
    DeclinedInputError,
    InvalidDicomError,
    NotDicomError,
    PlanarMPIError,
)
from planarmpi.io.dataset import (
    patient_from_dataset,
    series_from_dataset,
    study_header_from_dataset,
)
from planarmpi.model import DeclinedObject, Finding, Level, Study
from planarmpi.model.study import Series

__all__ = ["Problem", "ReadOutcome", "iter_dicom_files", "iter_studies", "read_dataset",
           "read_file", "read_studies"]


T = TypeVar("T")

#: Files with these suffixes are never DICOM Part 10 files: a folder walk passes them by
#: (truth.json beside a simulated study, reports, pictures). Named explicitly, they are read.
SIDECAR_SUFFIXES = (".json", ".txt", ".md", ".csv", ".png", ".jpg", ".jpeg", ".pdf", ".html",
                    ".xml", ".yaml", ".yml", ".log", ".zip", ".parquet")


@dataclass(frozen=True, slots=True)
class Problem:
    """An input that could not be used: one line for the user."""

    path: str
    message: str
    fatal: bool = True  # False: a note (a non-DICOM file met while walking a folder)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    """Studies read from some inputs and the inputs that could not be used."""

    studies: tuple[Study, ...] = ()
    problems: tuple[Problem, ...] = field(default_factory=tuple)


def iter_dicom_files(
    paths: Iterable[str | os.PathLike[str]],
) -> Iterator[tuple[Path, bool] | Problem]:
    """Every candidate file under ``paths`` (files or folders, recursively), sorted.

    Hidden files and folders (name starting with ``.``) and files with a
    :data:`SIDECAR_SUFFIXES` suffix are skipped; a path that does not
    exist yields a :class:`Problem`. Files are yielded with ``True`` when named
    explicitly, ``False`` when found in a folder.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path, True
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith(".") and not name.lower().endswith(
                        SIDECAR_SUFFIXES
                    ):
                        yield Path(root) / name, False
        else:
            yield Problem(str(path), "no such file or folder")


def read_dataset(path: str | os.PathLike[str], *, pixels: bool = True) -> Dataset:
    """Read a DICOM file, turning every parser failure into :class:`InvalidDicomError`.

    Files without the 128-byte preamble are accepted when they start with a recognisable
    data element (old cameras write them).

    Raises
    ------
    InvalidDicomError
        Empty, unreadable, non-DICOM or truncated-header files.
    """
    name = str(path)
    try:
        size = os.path.getsize(name)
    except OSError as exc:
        raise InvalidDicomError(name, f"cannot be read ({exc.strerror})") from exc
    if size == 0:
        raise InvalidDicomError(name, "empty file (0 bytes)")
    try:
        ds = pydicom.dcmread(name, stop_before_pixels=not pixels)
    except pydicom.errors.InvalidDicomError:
        try:
            ds = pydicom.dcmread(name, stop_before_pixels=not pixels, force=True)
        # pydicom's parser raises a wide range of builtins on arbitrary bytes.
        except Exception as exc:
            raise NotDicomError(name, "not a DICOM file") from exc
        if "SOPClassUID" not in ds and "Modality" not in ds:
            raise NotDicomError(
                name, "not a DICOM file (no DICM prefix, no SOP Class UID)"
            ) from None
    except Exception as exc:
        raise InvalidDicomError(
            name, f"DICOM file cannot be parsed (truncated or corrupt: {_short(exc)})"
        ) from exc
    return ds


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def read_file(path: str | os.PathLike[str]) -> tuple[list[Series], list[Finding]]:
    """All planar series of one file (see :func:`series_from_dataset`).

    Raises
    ------
    DeclinedInputError, InvalidDicomError
        With the file named in the message; never any other exception.
    """
    name = str(path)
    ds = read_dataset(name)
    return _convert(ds, name)


def _guard(name: str, fn: Callable[..., T], *args: Any) -> T:
    """Call ``fn``; anything but a planarmpi error becomes "this file is corrupt"."""
    try:
        return fn(*args)
    except PlanarMPIError:
        raise
    # Malformed values surface lazily from pydicom (when an element is first decoded) as
    # many builtin types; they all mean "this file is corrupt".
    except Exception as exc:
        raise InvalidDicomError(name, f"cannot be interpreted ({_short(exc)})") from exc


def _convert(ds: Dataset, name: str) -> tuple[list[Series], list[Finding]]:
    return _guard(name, series_from_dataset, ds, name)


@dataclass
class _Header:
    path: str
    study_uid: str
    sop_uid: str
    patient_id: str


def _header(path: Path, explicit: bool) -> _Header | Problem:
    name = str(path)
    try:
        ds = read_dataset(name, pixels=False)
        study_uid = str(ds.get("StudyInstanceUID", "") or "").strip()
        sop_uid = str(ds.get("SOPInstanceUID", "") or "").strip()
        patient_id = str(ds.get("PatientID", "") or "").strip()
        sop_class = str(ds.get("SOPClassUID", "") or "")
    except NotDicomError as exc:
        return Problem(name, exc.problem, fatal=explicit)
    except InvalidDicomError as exc:
        return Problem(name, exc.problem)
    except Exception as exc:  # lazily decoded identifiers of a corrupt header
        return Problem(name, f"header cannot be interpreted ({_short(exc)})")
    if sop_class == MediaStorageDirectoryStorage:
        # The files it indexes are found by walking the folder.
        return Problem(name, "DICOMDIR index, not an image", fatal=explicit)
    if not study_uid:
        return Problem(name, "Study Instance UID (0020,000D) is missing")
    return _Header(name, study_uid, sop_uid, patient_id)


def iter_studies(
    paths: Iterable[str | os.PathLike[str]],
) -> Iterator[Study | Problem]:
    """Studies found under ``paths``, one at a time, interleaved with problems.

    Files are grouped by Study Instance UID; within a study, series are ordered by file
    path and image. A file that cannot be used yields a :class:`Problem`; a study whose
    files were all declined yields one :class:`Problem` listing why.
    """
    by_study: dict[str, list[_Header]] = defaultdict(list)
    for item in iter_dicom_files(paths):
        if isinstance(item, Problem):
            yield item
            continue
        header = _header(*item)
        if isinstance(header, _Header):
            by_study[header.study_uid].append(header)
        else:
            yield header
    for study_uid in sorted(by_study):
        yield from _assemble(study_uid, by_study[study_uid])


def _assemble(study_uid: str, headers: list[_Header]) -> Iterator[Study | Problem]:
    series: list[Series] = []
    declined: list[DeclinedObject] = []
    findings: list[Finding] = []
    seen_sops: set[str] = set()
    patient = header = None
    patient_ids = {h.patient_id for h in headers}
    if len(patient_ids) > 1:
        yield Problem(
            headers[0].path,
            f"study {study_uid} mixes Patient IDs ({len(patient_ids)} different): "
            "not analysed, files must be sorted out first",
        )
        return
    for h in sorted(headers, key=lambda h: h.path):
        if h.sop_uid in seen_sops:
            findings.append(
                Finding("DUPLICATE_INSTANCE", Level.INFO,
                        f"{h.path}: SOP Instance {h.sop_uid} already read from another file; "
                        "skipped")
            )
            continue
        try:
            ds = read_dataset(h.path)
            got, notes = _convert(ds, h.path)
            if header is None:
                header = _guard(h.path, study_header_from_dataset, ds, h.path)
                patient = _guard(h.path, patient_from_dataset, ds, h.path)
        except DeclinedInputError as exc:
            declined.append(DeclinedObject(h.path, h.sop_uid, exc.problem, *_identity(ds)))
            continue
        except PlanarMPIError as exc:
            yield Problem(h.path, getattr(exc, "problem", str(exc)))
            continue
        seen_sops.add(h.sop_uid)
        series.extend(got)
        findings.extend(notes)
    if not series:
        reasons = "; ".join(f"{Path(d.source_file).name}: {d.reason}" for d in declined)
        if declined:
            yield Problem(
                declined[0].source_file if len(declined) == 1 else f"study {study_uid}",
                f"nothing planar to analyse — {reasons}",
            )
        return
    assert header is not None
    assert patient is not None
    series.sort(key=lambda s: (
        s.acquisition.series_number if s.acquisition.series_number is not None else 1 << 30,
        s.acquisition.source_file, s.acquisition.detector, s.acquisition.energy_window.index,
        getattr(s, "rr_interval", 1),
    ))
    yield Study(header, patient, tuple(series), tuple(declined), tuple(findings))


def _identity(ds: Dataset) -> tuple[str, str]:
    """Modality and Image Type value 3 of a declined object, as far as they decode."""
    try:
        image_type = list(ds.get("ImageType") or [])
        kind = str(image_type[2]) if len(image_type) > 2 else ""
        return str(ds.get("Modality", "") or ""), kind
    except Exception:  # a declined object's header may be as broken as any other
        return "", ""


def read_studies(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str]) -> ReadOutcome:
    """Read every study under ``paths``.

    Parameters
    ----------
    paths : path or iterable of paths
        Files and folders (searched recursively).

    Returns
    -------
    ReadOutcome
        The studies and the problems (unusable files), never an exception for bad input.

    Examples
    --------
    >>> outcome = read_studies("demo-study/")            # doctest: +SKIP
    >>> [s.study_instance_uid for s in outcome.studies]  # doctest: +SKIP
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    studies: list[Study] = []
    problems: list[Problem] = []
    for item in iter_studies(paths):
        (studies if isinstance(item, Study) else problems).append(item)  # type: ignore[arg-type]
    return ReadOutcome(tuple(studies), tuple(problems))
