"""Concurrent senders for load checks of a DICOM node (used by a test and a benchmark)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

__all__ = ["make_load_set", "send_concurrently", "sha256_of"]


def make_load_set(source: str | Path, target: str | Path, associations: int,
                  instances: int) -> list[list[Path]]:
    """``instances`` copies of ``source`` (one DICOM file) split into ``associations``
    studies, each copy with its own SOP Instance UID; returns the files per association."""
    target = Path(target)
    ds = pydicom.dcmread(source)
    groups: list[list[Path]] = [[] for _ in range(associations)]
    for i in range(instances):
        a = i % associations
        ds.StudyInstanceUID = generate_uid(entropy_srcs=["load", str(a)])
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=["load", str(a), "series"])
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["load", str(i)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        folder = target / f"a{a:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"i{i:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        groups[a].append(path)
    return groups


def send_concurrently(groups: list[list[Path]], port: int, ae_title: str = "PLANARMPI",
                      host: str = "127.0.0.1") -> tuple[float, list[int]]:
    """One ``storescu`` association per group, all at once; (seconds, return codes)."""
    storescu = shutil.which("storescu")
    if storescu is None:
        raise FileNotFoundError("storescu (dcmtk) is not installed")

    def send(files: list[Path]) -> int:
        return subprocess.run([storescu, "-aec", ae_title, host, str(port),
                               *map(str, files)], capture_output=True, timeout=600,
                              check=False).returncode

    start = time.perf_counter()
    with ThreadPoolExecutor(len(groups)) as pool:
        codes = list(pool.map(send, groups))
    return time.perf_counter() - start, codes


def sha256_of(path: Path) -> str:
    """SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
