"""DICOMweb with an Orthanc PACS: the node sends reports by STOW-RS; `planarmpi batch` reads
studies by QIDO-RS/WADO-RS. All inside a loopback-only network namespace."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pydicom
import pytest

from dicom_tools import free_port, in_ns, tool, wait_for
from planarmpi.simulate.archive import clone_study

pytestmark = [pytest.mark.slow, pytest.mark.external, pytest.mark.timeout(600)]


def test_node_sends_report_by_stow(netns, orthanc, muga_study, tmp_path):
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    node = subprocess.Popen(in_ns(netns, sys.executable, "-m", "planarmpi", "serve", "--data",
                                  str(tmp_path / "data"), "--dicom-port", str(port),
                                  "--web-port", "0", "--idle-seconds", "1", "--stow-url",
                                  orthanc.dicomweb), stdout=log, stderr=log)
    try:
        wait_for(lambda: subprocess.run(in_ns(netns, tool("echoscu"), "-aec", "PLANARMPI",
                                              "127.0.0.1", str(port)),
                                        capture_output=True, check=False).returncode == 0,
                 60, "the node")
        files = sorted(str(p) for p in muga_study.glob("*.dcm"))
        subprocess.run(in_ns(netns, tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1",
                             str(port), *files), check=True, capture_output=True, timeout=60)
        uid = pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID
        wait_for(lambda: len(orthanc.get("/instances") or []) >= 3, 120,
                 "the report objects in Orthanc")
        classes = {orthanc.get(f"/instances/{i}/simplified-tags")["SOPClassUID"]
                   for i in orthanc.get("/instances")}
        assert "1.2.840.10008.5.1.4.1.1.88.33" in classes  # Comprehensive SR
        assert "1.2.840.10008.5.1.4.1.1.104.1" in classes  # Encapsulated PDF
        studies = orthanc.get("/studies?expand") or []
        assert [s["MainDicomTags"]["StudyInstanceUID"] for s in studies] == [uid]
    finally:
        node.terminate()
        node.wait(30)
        log.close()


def test_batch_reads_studies_from_dicomweb(netns, orthanc, muga_study, tmp_path):
    files = []
    for i in range(3):
        files += sorted(clone_study(muga_study, tmp_path / f"s{i}", 700 + i).glob("*.dcm"))
    subprocess.run(in_ns(netns, tool("storescu"), "-aec", "ORTHANC", "127.0.0.1",
                         str(orthanc.dicom_port), *map(str, files)), check=True,
                   capture_output=True, timeout=60)
    out = tmp_path / "out"
    scratch = tmp_path / "tmp"  # where the workers retrieve each study
    scratch.mkdir()
    run = subprocess.run(in_ns(netns, sys.executable, "-m", "planarmpi", "batch",
                               f"dicomweb:{orthanc.dicomweb}?ModalitiesInStudy=NM", "--out",
                               str(out), "--workers", "2", "--no-progress", "--no-report",
                               "--generated-at", "2026-01-01T00:00"),
                         capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "TMPDIR": str(scratch)})
    assert run.returncode == 0, run.stdout + run.stderr
    # Each retrieved copy is deleted once its study is written (they were kept before).
    assert not list(scratch.glob("planarmpi-wado-*"))
    with open(out / "batch-summary.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    assert all(r["status"] == "ok" for r in rows)
    assert all(r["unit"].startswith("dicomweb:http://127.0.0.1:") for r in rows)
    assert all(45.0 < float(r["lvef_percent"]) < 75.0 for r in rows)
