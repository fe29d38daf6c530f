"""`planarmpi serve` as a process, with real peers: dcmtk sends a study, the node analyses it
and sends the report to an Orthanc PACS, where C-FIND and REST find it. Orthanc listens on
every interface, so it runs (with the node and the dcmtk tools) in a network namespace that
has only loopback. Also: kill -9 in the middle of receiving, restart, resend.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from dicom_tools import free_port, tool

pytestmark = [pytest.mark.slow, pytest.mark.external, pytest.mark.timeout(600)]


def _wait(predicate, seconds=90.0, what="condition"):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def netns():
    """A process holding a network namespace with only loopback up; yields its PID."""
    tool("unshare")
    tool("nsenter")
    holder = subprocess.Popen(["unshare", "-n", "bash", "-c",
                               "ip link set lo up && exec sleep 900"])
    try:
        def lo_up():
            run = subprocess.run(["nsenter", "-t", str(holder.pid), "-n", "ip", "link", "show",
                                  "lo"], capture_output=True, text=True, check=False)
            return "UP" in run.stdout
        _wait(lo_up, 10, "loopback in the namespace")
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


def _in(ns: int, *cmd: str, **kw):
    return ["nsenter", "-t", str(ns), "-n", *cmd]


def _serve(data: Path, port: int, *extra: str, ns: int | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "planarmpi", "serve", "--data", str(data), "--dicom-port",
           str(port), "--idle-seconds", "1", *extra]
    log = open(data.parent / f"serve-{port}.log", "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(_in(ns, *cmd) if ns else cmd, stdout=log, stderr=log)
    return proc


def _echo(port: int, ns: int | None = None) -> bool:
    cmd = [tool("echoscu"), "-to", "2", "-aec", "PLANARMPI", "127.0.0.1", str(port)]
    return subprocess.run(_in(ns, *cmd) if ns else cmd, capture_output=True,
                          check=False).returncode == 0


def test_study_to_node_to_orthanc(netns, muga_study, tmp_path):
    orthanc_dir = tmp_path / "orthanc"
    orthanc_dir.mkdir()
    http_port, orthanc_dicom, node_port = free_port(), free_port(), free_port()
    config = {"Name": "planarmpi-test", "StorageDirectory": str(orthanc_dir / "storage"),
              "IndexDirectory": str(orthanc_dir / "index"), "HttpPort": http_port,
              "DicomPort": orthanc_dicom, "DicomAet": "ORTHANC", "RemoteAccessAllowed": False,
              "AuthenticationEnabled": False, "DicomAlwaysAllowStore": True,
              "DicomAlwaysAllowFind": True, "DicomCheckCalledAet": False, "Plugins": []}
    (orthanc_dir / "orthanc.json").write_text(json.dumps(config))
    orthanc = subprocess.Popen(_in(netns, tool("Orthanc"), str(orthanc_dir / "orthanc.json")),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = tmp_path / "data"
    node = _serve(data, node_port, "--destination", f"ORTHANC@127.0.0.1:{orthanc_dicom}",
                  ns=netns)
    try:
        _wait(lambda: _echo(node_port, netns), 60, "the node to answer C-ECHO")
        files = sorted(str(p) for p in muga_study.glob("*.dcm"))
        subprocess.run(_in(netns, tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1",
                           str(node_port), *files), check=True, capture_output=True,
                       timeout=60)
        uid = pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID

        def orthanc_instances():
            run = subprocess.run(_in(netns, "curl", "-s", "-f",
                                     f"http://127.0.0.1:{http_port}/instances?expand"),
                                 capture_output=True, text=True, check=False)
            return json.loads(run.stdout) if run.returncode == 0 and run.stdout else []

        _wait(lambda: len(orthanc_instances()) >= 3, 120, "the report objects in Orthanc")
        classes = set()
        for inst in orthanc_instances():
            run = subprocess.run(_in(netns, "curl", "-s", "-f", f"http://127.0.0.1:{http_port}"
                                     f"/instances/{inst['ID']}/simplified-tags"),
                                 capture_output=True, text=True, check=True)
            tags = json.loads(run.stdout)
            assert tags["StudyInstanceUID"] == uid  # in the study of the source images
            classes.add(tags["SOPClassUID"])
        assert {"1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.88.33",
                "1.2.840.10008.5.1.4.1.1.7"} <= classes
        found = subprocess.run(_in(netns, tool("findscu"), "-S", "-aec", "ORTHANC",
                                   "-k", "QueryRetrieveLevel=STUDY",
                                   "-k", f"StudyInstanceUID={uid}", "-k", "ModalitiesInStudy",
                                   "127.0.0.1", str(orthanc_dicom)),
                               capture_output=True, text=True, check=True, timeout=30)
        assert uid in found.stdout + found.stderr
    finally:
        node.terminate()
        orthanc.terminate()
        node.wait(30)
        orthanc.wait(30)


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


def _stored(data: Path) -> int:
    db = data / "planarmpi.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return int(con.execute("select count(*) from instances").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_kill_minus_9_while_receiving(muga_study, tmp_path):
    files = _study_of_many(muga_study, tmp_path / "many", 60)
    data = tmp_path / "data"
    port = free_port()
    node = _serve(data, port)
    _wait(lambda: _echo(port), 60, "the node to answer C-ECHO")
    sender = subprocess.Popen([tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1", str(port),
                               *map(str, files)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    _wait(lambda: _stored(data) >= 10, 60, "some instances stored")
    node.kill()  # SIGKILL in the middle of the association
    node.wait()
    sender.wait(30)
    partial = _stored(data)
    assert 10 <= partial < len(files)

    node = _serve(data, port)
    try:
        _wait(lambda: _echo(port), 60, "the restarted node")
        assert not list((data / "objects").glob("*/.incoming-*"))
        con = sqlite3.connect(data / "planarmpi.sqlite")
        for (digest,) in con.execute("select sha256 from instances"):
            blob = (data / "objects" / digest[:2] / f"{digest}.dcm").read_bytes()
            assert hashlib.sha256(blob).hexdigest() == digest  # nothing half-written
        subprocess.run([tool("storescu"), "-aec", "PLANARMPI", "127.0.0.1", str(port),
                        *map(str, files)], check=True, capture_output=True, timeout=120)
        assert _stored(data) == len(files)  # every instance exactly once
        _wait(lambda: con.execute("select status from studies").fetchone()[0] == "analysed",
              120, "the completed study to be analysed")
        actions = [a for (a,) in con.execute("select action from audit_events order by id")]
        assert actions.count("serve-start") == 2
        assert "analysed" in actions
        con.close()
    finally:
        node.terminate()
        node.wait(30)
    shutil.rmtree(tmp_path / "many")
