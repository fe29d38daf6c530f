"""The DICOM node with real dcmtk peers: echo, store, analysis on completion, refusal."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from sqlalchemy import select

from dicom_tools import free_port, tool
from planarmpi.net import Destination, DicomNode
from planarmpi.store import Archive
from planarmpi.store.models import Analysis, Report, Study

pytestmark = [pytest.mark.slow, pytest.mark.external]


@pytest.fixture
def node(tmp_path, db_url):
    archive = Archive(tmp_path / "data", db_url)
    port = free_port()
    node = DicomNode(archive, port=port, idle_seconds=1.0)
    node.start()
    yield node
    node.stop()


def _wait(predicate, seconds=60.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_echo(node):
    run = subprocess.run([tool("echoscu"), "-aec", "PLANARMPI", "127.0.0.1", str(node.port)],
                         capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 0, run.stderr


def test_store_then_analyse_on_completion(node, muga_study):
    files = sorted(str(p) for p in muga_study.glob("*.dcm"))
    run = subprocess.run([tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1", str(node.port),
                          *files], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    uid = pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID
    archive = node.archive

    def analysed():
        with archive.sessions() as s:
            study = s.scalar(select(Study).where(Study.study_instance_uid == uid))
            return study is not None and study.status in ("analysed", "failed")

    assert _wait(analysed)
    with archive.sessions() as s:
        study = s.scalar(select(Study).where(Study.study_instance_uid == uid))
        assert study.status == "analysed", study.status_detail
        (analysis,) = s.scalars(select(Analysis).where(Analysis.study_fk == study.id)).all()
        lvef = next(e for e in analysis.result["ejection_fractions"] if e["chamber"] == "LV")
        assert 50 < lvef["value_percent"] < 75  # muga-normal: true LVEF 62%
        (report,) = s.scalars(select(Report).where(Report.study_fk == study.id)).all()
        assert report.status == "draft"
        output = analysis.output_dir
    assert (Path(output) / "report-sr.dcm").is_file()
    assert Path(output).is_relative_to(archive.results / uid)  # a folder per version
    assert archive.counts()["instances"] == len(files)
    actions = [e["action"] for e in archive.audit_events()]
    assert "analysed" in actions

    # Sending the same study again stores nothing new.
    subprocess.run([tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1", str(node.port),
                    *files], capture_output=True, timeout=60, check=True)
    assert archive.counts()["instances"] == len(files)


def test_unknown_sop_class_refused(node, tmp_path):
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.PatientID = "X"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = tmp_path / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    run = subprocess.run([tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1", str(node.port),
                          str(path)], capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode != 0
    assert "no presentation context" in (run.stdout + run.stderr).lower() or \
        "no acceptable presentation" in (run.stdout + run.stderr).lower()
    assert node.archive.counts()["instances"] == 0


def test_destination_parsing():
    assert Destination.parse("ORTHANC@127.0.0.1:4242") == Destination("ORTHANC", "127.0.0.1",
                                                                      4242)
    from planarmpi.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="expected AE@host:port"):
        Destination.parse("nonsense")
