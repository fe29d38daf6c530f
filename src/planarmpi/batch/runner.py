"""Run :func:`~planarmpi.batch.units.analyze_unit` over an archive on a Dask cluster.

Units are submitted as they are discovered, with a bounded number in flight (nothing holds
the whole listing); each finished unit is recorded at once in a ledger
(``OUT/.batch/units/<key>.json``, written atomically), which makes a batch resumable: a
re-run skips every unit with a ledger entry unless ``force`` — with ``combine_studies``,
unless the unit now pairs with a unit it was not analysed with (a study added since). The
summary table (``OUT/batch-summary.csv`` and ``.parquet``) is rebuilt from the ledger at
the end — also after an interruption.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planarmpi.batch.units import (
    BatchOptions,
    analyze_unit,
    iter_units,
    pair_units,
    unit_key,
    unit_studies,
)
from planarmpi.io.outputs import write_atomic, write_json

__all__ = ["COLUMNS", "BatchSummary", "read_ledger", "run_batch", "write_summary"]

#: Columns of the summary table, in order.
COLUMNS = ("unit", "status", "error", "study_instance_uid", "patient_id", "study_date",
           "qc_status", "lvef_percent", "lvef_method", "rvef_percent", "perfusion_verdict",
           "territories", "unattributed_segments", "combined_studies", "summed_stress_score",
           "lung_heart_ratio",
           "report_bottom_line", "cpt", "analyses_run", "seconds", "worker_pid", "output")
_FLOAT = {"lvef_percent", "rvef_percent", "lung_heart_ratio", "seconds"}
_INT = {"summed_stress_score", "worker_pid"}


@dataclass
class BatchSummary:
    """What a batch did."""

    units_done: int = 0
    units_skipped: int = 0
    studies_ok: int = 0
    studies_partial: int = 0
    units_failed: int = 0
    interrupted: bool = False
    workers: int = 0
    errors: list[str] = field(default_factory=list)
    summary_csv: Path | None = None
    summary_parquet: Path | None = None


def _ledger_dir(out: Path) -> Path:
    return out / ".batch" / "units"


def read_ledger(out: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every row recorded in a batch output folder's ledger, unit by unit."""
    folder = _ledger_dir(Path(out))
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        yield from entry["rows"]


def write_summary(out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``batch-summary.csv`` and ``batch-summary.parquet`` from the ledger."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    rows = [{c: row.get(c) for c in COLUMNS} for row in read_ledger(out)]
    rows.sort(key=lambda r: (r["unit"] or "", r["study_instance_uid"] or ""))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    csv_path = write_atomic(out / "batch-summary.csv", buffer.getvalue())
    schema = pa.schema([(c, pa.float64() if c in _FLOAT else pa.int64() if c in _INT
                         else pa.string()) for c in COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    parquet_path = write_atomic(out / "batch-summary.parquet", sink.getvalue().to_pybytes())
    return csv_path, parquet_path


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int | None,
            memory_per_worker: str) -> Iterator[Any]:
    from dask.distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler, timeout="30s")
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or max(1, os.cpu_count() or 1)
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           memory_limit=memory_per_worker, silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def run_batch(inputs: list[str], out: str | os.PathLike[str], *,
              options: BatchOptions | None = None, scheduler: str | None = None,
              workers: int | None = None, memory_per_worker: str = "2GiB",
              force: bool = False,
              on_progress: Callable[[int, int | None, int], None] | None = None
              ) -> BatchSummary:
    """Analyse every unit under ``inputs`` on a Dask cluster, writing into ``out``.

    Parameters
    ----------
    inputs : list of str
        Folders (each entry under one is a unit), units themselves, or ``@list.txt``.
    out : path
        Output folder: one folder per study (as ``planarmpi analyze``), the ledger and the
        summary table.
    options : BatchOptions
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); by default a
        LocalCluster on 127.0.0.1 without dashboard.
    workers : int, optional
        LocalCluster workers (default: the number of CPUs); one thread each.
    memory_per_worker : str
        LocalCluster memory limit per worker (Dask pauses, then restarts a worker above it).
    force : bool
        Redo units already in the ledger.
    on_progress : callable, optional
        Called as ``(done, total or None while discovering, studies)`` after each unit.

    Returns
    -------
    BatchSummary
    """
    from dask.distributed import as_completed

    out = Path(out)
    ledger = _ledger_dir(out)
    ledger.mkdir(parents=True, exist_ok=True)
    options = options or BatchOptions(clock=dt.datetime.now().replace(microsecond=0))
    summary = BatchSummary()
    seen_studies: dict[str, str] = {}
    discovered = 0
    exhausted = False
    progress = on_progress or (lambda done, total, studies: None)

    with _client(scheduler, workers, memory_per_worker) as client:
        summary.workers = len(client.scheduler_info().get("workers", {}))
        limit = 2 * max(1, summary.workers) + 2
        index: dict[str, list[dict[str, Any]]] = {}  # unit → its studies, for pairing
        groups = (_paired_groups(client, list(iter_units(inputs)), options, ledger, force,
                                 index)
                  if options.combine_studies else ((u,) for u in iter_units(inputs)))
        pending = as_completed()
        in_flight = 0
        submitted: dict[str, tuple[str, ...]] = {}  # future key → units, for those in flight

        def submit_next() -> bool:
            nonlocal discovered, exhausted
            for group in groups:
                discovered += len(group)
                entries = [ledger / f"{unit_key(u)}.json" for u in group]
                if not force and (_done_as(group, entries) if options.combine_studies
                                  else all(e.is_file() for e in entries)):
                    summary.units_skipped += len(group)
                    for entry_path in entries:
                        _remember_studies(entry_path, seen_studies)
                    continue
                key = f"planarmpi-unit-{unit_key(chr(10).join(group))}"
                submitted[key] = group
                task = group[0] if len(group) == 1 else group
                pending.add(client.submit(analyze_unit, task, str(out), options, key=key,
                                          pure=False))
                return True
            exhausted = True
            return False

        try:
            while in_flight < limit and submit_next():
                in_flight += 1
            for future in pending:
                in_flight -= 1
                group = submitted.pop(str(future.key))
                unit = group[0]
                try:
                    rows = future.result()
                except Exception as exc:
                    rows = [{"unit": " + ".join(group), "status": "error",
                             "error": f"worker failed: {type(exc).__name__}: {exc}"}]
                future.release()
                rows = _check_duplicates(rows, seen_studies, ledger)
                finished = dt.datetime.now().isoformat(timespec="seconds")
                # A group's rows are recorded once, under its first unit; the others'
                # entries say they were analysed with it (so a re-run skips them too).
                write_json(ledger / f"{unit_key(unit)}.json",
                           {"unit": unit, "rows": rows, "finished": finished,
                            **({"analysed_with": list(group)} if len(group) > 1 else {}),
                            **({"studies": index[unit]} if unit in index else {})})
                for other in group[1:]:
                    write_json(ledger / f"{unit_key(other)}.json",
                               {"unit": other, "rows": [], "finished": finished,
                                "analysed_with": list(group),
                                **({"studies": index[other]} if other in index else {})})
                summary.units_done += len(group)
                for row in rows:
                    if row["status"] == "ok":
                        summary.studies_ok += 1
                    elif row["status"] == "partial":
                        summary.studies_partial += 1
                        summary.errors.append(row["error"])
                    else:
                        summary.units_failed += 1
                        summary.errors.append(row["error"])
                progress(summary.units_done + summary.units_skipped,
                         discovered if exhausted else None,
                         summary.studies_ok + summary.studies_partial)
                if submit_next():
                    in_flight += 1
        except KeyboardInterrupt:
            summary.interrupted = True
            client.cancel(list(pending.futures))
    summary.summary_csv, summary.summary_parquet = write_summary(out)
    return summary


def _done_as(group: tuple[str, ...], entries: list[Path]) -> bool:
    """Whether every unit of ``group`` is in the ledger, analysed as exactly this group
    (alone, for a one-unit group): a unit analysed alone that now pairs with a unit added
    since is analysed again, with it."""
    for path in entries:
        if not path.is_file():
            return False
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if set(entry.get("analysed_with") or [entry.get("unit")]) != set(group):
            return False
    return True


def _ledger_studies(path: Path) -> list[dict[str, Any]] | None:
    """The studies a ledger entry recorded for pairing (None: not recorded, or unreadable)."""
    if not path.is_file():
        return None
    try:
        studies = json.loads(path.read_text(encoding="utf-8")).get("studies")
    except (OSError, ValueError):
        return None
    return list(studies) if isinstance(studies, list) else None


def _paired_groups(client: Any, units: list[str], options: BatchOptions, ledger: Path,
                   force: bool, index: dict[str, list[dict[str, Any]]]
                   ) -> Iterator[tuple[str, ...]]:
    """The units grouped for ``--combine-studies`` across units: each local unit's studies
    (patients, dates, perfusion sides) — from its ledger entry when it has been analysed
    before, else read from its headers on the workers — and units whose stress-only and
    rest-only studies pair up are analysed together
    (:func:`~planarmpi.batch.units.pair_units`). A unit analysed before joins a group too,
    so a rest study added to the archive after its stress study was analysed alone is
    paired on the next run (the group is then analysed again, :func:`_done_as`).
    ``index`` is filled with every local unit's studies, for the ledger. DICOMweb units
    stay alone."""
    from planarmpi.net.dicomweb import PREFIX

    local = [u for u in units if not u.startswith(PREFIX)]
    to_read = []
    for unit in local:
        known = None if force else _ledger_studies(ledger / f"{unit_key(unit)}.json")
        if known is None:
            to_read.append(unit)
        else:
            index[unit] = known
    futures = client.map(unit_studies, to_read, pure=False)
    for unit, rows in zip(to_read, client.gather(futures), strict=True):
        index[unit] = rows
    rows = [row for unit in local for row in index[unit]]
    grouped = {u: g for g in pair_units(rows, options.combine_max_days) for u in g}
    done: set[str] = set()
    for unit in units:
        if unit in done:
            continue
        group = grouped.get(unit, (unit,))
        done.update(group)
        yield group


def _remember_studies(entry_path: Path, seen: dict[str, str]) -> None:
    """Note the studies of a unit done by an earlier run, so a resumed run still refuses
    the other half of a study split between that unit and one not yet done."""
    try:
        entry = json.loads(entry_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # an unreadable entry names no study
    for row in entry.get("rows", []):
        uid = row.get("study_instance_uid")
        if uid:
            seen.setdefault(uid, row.get("unit") or entry.get("unit", str(entry_path)))


def _check_duplicates(rows: list[dict[str, Any]], seen: dict[str, str],
                      ledger: Path) -> list[dict[str, Any]]:
    """A study met in two units was analysed from parts (or twice): both become errors.

    The first unit's ledger entry is rewritten, so the summary shows both.
    """
    for row in rows:
        uid = row.get("study_instance_uid")
        if not uid:
            continue
        other = seen.setdefault(uid, row["unit"])
        if other == row["unit"]:
            continue
        message = (f"study {uid} is split between units {other} and {row['unit']}: put all "
                   "its files in one folder and re-run with --force")
        row["status"], row["error"] = "error", message
        entry_path = ledger / f"{unit_key(other)}.json"
        if entry_path.is_file():
            entry = json.loads(entry_path.read_text(encoding="utf-8"))
            for earlier in entry["rows"]:
                if earlier.get("study_instance_uid") == uid:
                    earlier["status"], earlier["error"] = "error", message
            write_json(entry_path, entry)
    return rows
