"""`planarmpi serve` as a process, with real peers: dcmtk sends a study, the node analyses it
and sends the report to an Orthanc PACS, where C-FIND and REST find it. Orthanc listens on
every interface, so it runs (with the node and the dcmtk tools) in a network namespace that
has only loopback. Also: kill -9 in the middle of receiving, restart, resend.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from dicom_tools import free_port, in_ns, tool, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.external, pytest.mark.timeout(600)]


def _serve(data: Path, port: int, *extra: str, ns: int | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "planarmpi", "serve", "--data", str(data), "--dicom-port",
           str(port), "--idle-seconds", "1", "--web-port", "0", *extra]
    log = open(data.parent / f"serve-{port}.log", "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(in_ns(ns, *cmd), stdout=log, stderr=log)
    return proc


def _echo(port: int, ns: int | None = None) -> bool:
    cmd = [tool("echoscu"), "-to", "2", "-aec", "PLANARMPI", "127.0.0.1", str(port)]
    return subprocess.run(in_ns(ns, *cmd), capture_output=True,
                          check=False).returncode == 0


def test_study_to_node_to_orthanc(netns, orthanc, muga_study, tmp_path):
    node_port = free_port()
    data = tmp_path / "data"
    node = _serve(data, node_port, "--destination",
                  f"ORTHANC@127.0.0.1:{orthanc.dicom_port}", ns=netns)
    try:
        wait_for(lambda: _echo(node_port, netns), 60, "the node to answer C-ECHO")
        files = sorted(str(p) for p in muga_study.glob("*.dcm"))
        subprocess.run(in_ns(netns, tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1",
                             str(node_port), *files), check=True, capture_output=True,
                       timeout=60)
        uid = pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID
        wait_for(lambda: len(orthanc.get("/instances") or []) >= 3, 120,
                 "the report objects in Orthanc")
        classes = set()
        for inst in orthanc.get("/instances"):
            tags = orthanc.get(f"/instances/{inst}/simplified-tags")
            assert tags["StudyInstanceUID"] == uid  # in the study of the source images
            classes.add(tags["SOPClassUID"])
        assert {"1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.88.33",
                "1.2.840.10008.5.1.4.1.1.7"} <= classes
        found = subprocess.run(in_ns(netns, tool("findscu"), "-S", "-aec", "ORTHANC",
                                     "-k", "QueryRetrieveLevel=STUDY",
                                     "-k", f"StudyInstanceUID={uid}", "-k",
                                     "ModalitiesInStudy", "127.0.0.1",
                                     str(orthanc.dicom_port)),
                               capture_output=True, text=True, check=True, timeout=30)
        assert uid in found.stdout + found.stderr
    finally:
        node.terminate()
        node.wait(30)


def _study_of_many(source: Path, target: Path, n: int) -> list[Path]:
    """One study of ``n`` instances: copies of a file with new Series/SOP UIDs."""
    target.mkdir()
    (src,) = source.glob("*.dcm")
    ds = pydicom.dcmread(src)
    study = generate_uid()
    out = []
    for i in range(n):
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=[study, str(i // 10)])
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[study, str(i)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = target / f"i{i:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append(path)
    return out


class _Db:
    """Read-only queries on the node's database (SQLite file or PostgreSQL URL)."""

    def __init__(self, data: Path, url: str | None) -> None:
        from sqlalchemy import create_engine

        self.url = url or f"sqlite:///{data / 'planarmpi.sqlite'}"
        self.data = data
        self.engine = create_engine(self.url)

    def rows(self, sql: str) -> list[tuple]:
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        if self.url.startswith("sqlite") and not (self.data / "planarmpi.sqlite").exists():
            return []
        try:
            with self.engine.connect() as con:
                return [tuple(r) for r in con.execute(text(sql))]
        except SQLAlchemyError:
            return []  # not created yet

    def stored(self) -> int:
        rows = self.rows("select count(*) from instances")
        return int(rows[0][0]) if rows else 0


def test_kill_minus_9_while_receiving(muga_study, tmp_path, db_url):
    files = _study_of_many(muga_study, tmp_path / "many", 40)
    data = tmp_path / "data"
    db = _Db(data, db_url)
    extra = ("--db", db_url) if db_url else ()
    port = free_port()
    node = _serve(data, port, *extra)
    wait_for(lambda: _echo(port), 60, "the node to answer C-ECHO")
    sender = subprocess.Popen([tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1", str(port),
                               *map(str, files)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    # Polled often: a fast node stores the 30 remaining instances within a 0.3 s poll.
    wait_for(lambda: db.stored() >= 10, 60, "some instances stored", interval=0.01)
    node.kill()  # SIGKILL in the middle of the association
    node.wait()
    sender.wait(30)
    partial = db.stored()
    assert 10 <= partial < len(files)

    node = _serve(data, port, *extra)
    try:
        wait_for(lambda: _echo(port), 60, "the restarted node")
        assert not list((data / "objects").glob("*/.incoming-*"))
        for (digest,) in db.rows("select sha256 from instances"):
            blob = (data / "objects" / digest[:2] / f"{digest}.dcm").read_bytes()
            assert hashlib.sha256(blob).hexdigest() == digest  # nothing half-written
        subprocess.run([tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1", str(port),
                        *map(str, files)], check=True, capture_output=True, timeout=120)
        assert db.stored() == len(files)  # every instance exactly once
        wait_for(lambda: db.rows("select status from studies") == [("analysed",)], 300,
                 "the completed study to be analysed")
        actions = [a for (a,) in db.rows("select action from audit_events order by id")]
        assert actions.count("serve-start") == 2
        assert "analysed" in actions
    finally:
        node.terminate()
        node.wait(30)
        db.engine.dispose()
    shutil.rmtree(tmp_path / "many")
