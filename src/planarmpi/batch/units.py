"""Units of batch work: where they are found, and the work done on one of them.

A **unit** is a folder (or file) holding one or more complete studies — the way archives
are exported: one folder per study, possibly with a sub-folder per series. Given an input
folder, each entry directly under it is a unit; an input that itself holds DICOM files
directly is one unit; a list file (``@list.txt``) names one unit per line. A study must lie
within one unit: the runner refuses a study seen in two units rather than analysing halves.
A DICOMweb input (``dicomweb:http://host/dicom-web?ModalitiesInStudy=NM``) makes every
study its QIDO-RS search finds a unit (``dicomweb:URL#StudyInstanceUID``), which the worker
retrieves by WADO-RS into a temporary folder.

:func:`analyze_unit` is the task a worker runs; it never raises — every failure becomes a
row with the reason — and writes exactly what ``planarmpi analyze`` writes for each study.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planarmpi.model.study import COMBINE_MAX_DAYS

__all__ = ["BatchOptions", "analyze_unit", "iter_units", "pair_units", "summary_row",
           "unit_key", "unit_studies"]


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """What every task needs besides its unit (picklable, sent to the workers).

    Parameters
    ----------
    clinical : path or None
        A clinical-context file applied to every study (rarely right for an archive; the
        default is none).
    normals : tuple of path
        Site perfusion limits files.
    perfusion_settings : path or None
        A site's perfusion settings file (the built-in settings without one).
    qc_settings : path or None
        A site's QC limits file (the published limits without one).
    report : bool
        Write the reports and DICOM objects too (as ``analyze`` does by default).
    clock : datetime
        Report generation time: one clock for the whole batch.
    combine_studies : bool
        Analyse each patient's studies as one episode (a two-day protocol;
        :func:`planarmpi.model.study.episodes`), as ``analyze --combine-studies`` does:
        within a unit (archives exported one folder per patient), and across units whose
        stress-only and rest-only perfusion studies pair up (one folder per study;
        :func:`pair_units`).
    combine_max_days : int
        The longest interval between combined studies, in days.
    """

    clinical: str | None = None
    normals: tuple[str, ...] = ()
    perfusion_settings: str | None = None
    qc_settings: str | None = None
    report: bool = True
    clock: dt.datetime = dt.datetime(2000, 1, 1)
    combine_studies: bool = False
    combine_max_days: int = COMBINE_MAX_DAYS


def unit_key(unit: str) -> str:
    """A stable file name for a unit's ledger entry (the path's SHA-256, 24 hex)."""
    return hashlib.sha256(os.path.abspath(unit).encode("utf-8")).hexdigest()[:24]


def _holds_files(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return any(e.is_file() and not e.name.startswith(".") for e in entries)


def iter_units(inputs: list[str]) -> Iterator[str]:
    """Units under ``inputs``, lazily, in name order within each input.

    Raises
    ------
    FileNotFoundError
        For an input (or a list file) that does not exist.
    """
    from planarmpi.net.dicomweb import PREFIX, parse_source, search_studies

    for item in inputs:
        if item.startswith(PREFIX):
            url, filters = parse_source(item)
            for uid in search_studies(url, filters):
                yield f"{PREFIX}{url}#{uid}"
            continue
        if item.startswith("@"):
            with open(item[1:], encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if line and not line.startswith("#"):
                        yield line
            continue
        path = Path(item)
        if not path.exists():
            raise FileNotFoundError(f"{item}: no such file or folder")
        if path.is_file() or _holds_files(path):
            yield str(path)
            continue
        with os.scandir(path) as entries:
            names = sorted(e.name for e in entries if not e.name.startswith("."))
        for name in names:
            yield str(path / name)


def unit_studies(unit: str) -> list[dict[str, Any]]:
    """The studies of a local unit, for pairing units (:func:`pair_units`): per study its
    Patient ID, Study Instance UID, date and perfusion sides (``stress``/``rest``,
    :func:`planarmpi.model.study.perfusion_sides`), from the files' headers alone (no
    pixel data is read). Never raises: an unreadable file or unit adds nothing (its
    analysis says what is wrong with it)."""
    import warnings

    from planarmpi.io.dataset import study_header_from_dataset, tracer_and_state
    from planarmpi.io.reader import Problem, iter_dicom_files, read_dataset
    from planarmpi.model.study import perfusion_sides

    found: dict[str, dict[str, Any]] = {}
    images: dict[str, list[Any]] = {}
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\..*)?")
            for item in iter_dicom_files([unit]):
                if isinstance(item, Problem):
                    continue
                path = str(item[0])
                try:
                    ds = read_dataset(path, pixels=False)
                    uid = str(ds.get("StudyInstanceUID", "") or "").strip()
                    if not uid:
                        continue
                    images.setdefault(uid, []).append(tracer_and_state(ds, path))
                    if uid not in found:
                        date = study_header_from_dataset(ds, path).study_date
                        found[uid] = {"unit": unit, "study_instance_uid": uid,
                                      "patient_id": str(ds.get("PatientID", "") or "").strip(),
                                      "study_date": date.isoformat() if date else None}
                except Exception:  # declined (SPECT, SR) or unreadable: no image here
                    continue
    except Exception:
        return []
    return [{**row, "sides": sorted(perfusion_sides(images[uid]))}
            for uid, row in found.items()]


def pair_units(index: list[dict[str, Any]], max_days: int = COMBINE_MAX_DAYS
               ) -> list[tuple[str, ...]]:
    """Units to analyse together: a unit holding a patient's stress-only perfusion study
    with the units holding the same patient's rest-only studies at most ``max_days``
    apart (a two-day protocol exported one folder per study). Every unit of ``index``
    (:func:`unit_studies` rows) is in exactly one group, in first-seen order; the episode
    itself is decided when the group is analysed (:func:`~planarmpi.model.study.episodes`,
    which says why studies were not combined)."""
    order = list(dict.fromkeys(row["unit"] for row in index))
    parent = {u: u for u in order}

    def root(u: str) -> str:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    by_patient: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for row in index:
        if not row.get("patient_id"):
            continue
        stress, rest = by_patient.setdefault(row["patient_id"], ([], []))
        if row["sides"] == ["stress"]:
            stress.append(row)
        elif row["sides"] == ["rest"]:
            rest.append(row)
    for stress, rest in by_patient.values():
        for s in stress:
            for r in rest:
                if s["unit"] == r["unit"] or not s["study_date"] or not r["study_date"]:
                    continue
                days = abs((dt.date.fromisoformat(s["study_date"])
                            - dt.date.fromisoformat(r["study_date"])).days)
                if days <= max_days:
                    parent[root(r["unit"])] = root(s["unit"])
    groups: dict[str, list[str]] = {}
    for u in order:
        groups.setdefault(root(u), []).append(u)
    return [tuple(members) for members in groups.values()]


def summary_row(result: dict[str, Any]) -> dict[str, Any]:
    """Headline numbers of one ``result.json`` document (one summary-table row)."""
    efs = result.get("ejection_fractions", [])
    lv = next((e for e in efs if e["chamber"] == "LV"), None)
    rv = next((e for e in efs if e["chamber"] == "RV"), None)
    perf = result.get("perfusion") or {}
    stress = next((s for s in perf.get("states", []) if s["state"].startswith("stress")), None)
    coding = result.get("coding") or {}
    report = result.get("report") or {}
    return {
        "study_instance_uid": result.get("study_instance_uid"),
        "patient_id": (result.get("patient") or {}).get("patient_id"),
        "study_date": (result.get("study") or {}).get("study_date"),
        # The other studies of a combined episode (two-day protocol; since 2026-12-03).
        "combined_studies": " ".join(c["study_instance_uid"] for c in
                                     result.get("combined_studies", [])[1:]) or None,
        "qc_status": (result.get("qc") or {}).get("status"),
        "lvef_percent": lv["value_percent"] if lv else None,
        "lvef_method": lv["method"] if lv else None,
        "rvef_percent": rv["value_percent"] if rv else None,
        "perfusion_verdict": perf.get("verdict"),
        "territories": ",".join(perf.get("territories", [])) or None,
        # Segments scored at stress outside every named territory's (since 2026-12-03).
        "unattributed_segments": ",".join(g["segment"] for g in
                                          perf.get("unattributed_segments", [])) or None,
        "summed_stress_score": stress["summed_score"] if stress else None,
        "lung_heart_ratio": result.get("lung_heart_ratio"),
        "report_bottom_line": report.get("bottom_line"),
        "cpt": ",".join("-".join([c["code"], *c.get("modifiers", [])])
                        for c in coding.get("cpt", [])) or None,
        "analyses_run": ",".join(result.get("analyses_run", [])),
    }


def _retrieve(unit: str) -> str | None:
    """A DICOMweb unit retrieved into a temporary folder (returned); None for a local unit."""
    from planarmpi.net.dicomweb import PREFIX, retrieve_study

    if not unit.startswith(PREFIX):
        return None
    import tempfile

    url, _, uid = unit[len(PREFIX):].partition("#")
    scratch = tempfile.mkdtemp(prefix="planarmpi-wado-")
    try:
        retrieve_study(url, uid, scratch)
    except Exception as exc:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
        raise ConnectionError(f"WADO-RS retrieval of study {uid} from {url} failed: "
                              f"{exc}") from None
    return scratch


def _describe(exc: Exception) -> str:
    """A failure as a row's error: the message of an expected problem (bad input, I/O,
    memory), the exception's type too for anything else."""
    from planarmpi.errors import PlanarMPIError

    if isinstance(exc, PlanarMPIError | OSError | ValueError | MemoryError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


def analyze_unit(unit: str | tuple[str, ...], out: str, options: BatchOptions
                 ) -> list[dict[str, Any]]:
    """Analyse every study of one unit (or of a group of local units read together,
    :func:`pair_units`); one row per study, or one error row.

    Never raises: a problem with the unit or a study is a row with ``status`` ``error``
    (nothing usable) or ``partial`` (some files of the unit unusable) and its reason. A
    group's rows name the unit holding each row's study (the stress study's, for an
    episode).
    """
    import json
    import warnings

    from planarmpi.analysis.pipeline import analyze_study, site_options
    from planarmpi.io.clinical import read_clinical
    from planarmpi.io.reader import Problem, iter_studies
    from planarmpi.model import Study
    from planarmpi.model.study import episodes
    from planarmpi.report.outputs import write_study_outputs

    start = time.perf_counter()
    members = (unit,) if isinstance(unit, str) else tuple(unit)
    label = " + ".join(members)
    unit = members[0]
    base = {"unit": label, "worker_pid": os.getpid()}

    def unit_of(study: Study) -> str:
        """The group's unit holding ``study``'s first image."""
        first = study.series[0].acquisition.source_file if study.series else ""
        for member in members:
            if os.path.commonpath([os.path.abspath(member), os.path.abspath(first)]) \
                    == os.path.abspath(member):
                return member
        return label

    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    notes: list[str] = []  # files passed over (not DICOM): named when nothing was usable
    scratch: str | None = None  # a DICOMweb unit's temporary copy
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\..*)?")
            context = read_clinical(options.clinical) if options.clinical else None
            analysis = site_options(options.normals, options.perfusion_settings,
                                    options.qc_settings)
            scratch = _retrieve(unit) if len(members) == 1 else None

            def usable() -> Iterator[Study]:
                for found in iter_studies([scratch] if scratch else list(members)):
                    if isinstance(found, Problem):
                        (problems if found.fatal else notes).append(str(found))
                    else:
                        yield found

            pairs = (episodes(usable(), max_days=options.combine_max_days)
                     if options.combine_studies else ((x, "") for x in usable()))
            for item, not_combined in pairs:
                if not_combined and not_combined not in problems:
                    problems.append(not_combined)
                t0 = time.perf_counter()
                try:
                    result = analyze_study(item, options=analysis)
                    path, _ = write_study_outputs(item, result, out, clinical=context,
                                                  clock=options.clock, report=options.report)
                    doc = json.loads(path.read_text(encoding="utf-8"))
                except Exception as exc:
                    failure = _describe(exc)
                else:
                    rows.append({**base, "unit": unit_of(item) if len(members) > 1
                                 else label, "status": "ok", "error": None,
                                 **summary_row(doc), "seconds": time.perf_counter() - t0,
                                 "output": str(path.parent)})
                    continue
                # The failed study keeps its UID, so the runner still recognises it in
                # another unit (a split study whose halves collided in one output folder).
                uid = item.header.study_instance_uid
                where = unit_of(item) if len(members) > 1 else label
                rows.append({**base, "unit": where, "status": "error",
                             "study_instance_uid": uid,
                             "error": f"{where}: study {uid}: {failure}",
                             "seconds": time.perf_counter() - t0})
    except Exception as exc:
        problems.append(f"{label}: {_describe(exc)}")
    finally:
        if scratch is not None:  # a DICOMweb unit's copy: its outputs are written
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)
    if not rows:
        found = "; ".join(problems) or f"{label}: no NM study found"
        if notes:
            found += " (skipped: " + "; ".join(notes[:5]) + ")"
        return [{**base, "status": "error", "error": found,
                 "seconds": time.perf_counter() - start}]
    if problems:
        for row in rows:
            if row["status"] == "ok":
                row["status"] = "partial"
                row["error"] = "; ".join(problems)
    return rows
