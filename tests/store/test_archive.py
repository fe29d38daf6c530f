"""The archive: content-addressed objects stored once, versions, append-only audit."""

from __future__ import annotations

import io

import pydicom
import pytest
from sqlalchemy import select

from factories import HEADER, PATIENT, make_images
from planarmpi.errors import InvalidInputError
from planarmpi.model import SeriesKind
from planarmpi.store import Archive
from planarmpi.store.models import AuditEvent, Report, Study
from planarmpi.store.records import record_analysis


@pytest.fixture
def nm_bytes(tmp_path) -> list[bytes]:
    from planarmpi.io.writer import write_nm

    out = []
    for i, kind in enumerate((SeriesKind.STATIC, SeriesKind.GATED)):
        path = tmp_path / f"f{i}.dcm"
        write_nm(path, make_images(kind, seed=i), patient=PATIENT, header=HEADER)
        out.append(path.read_bytes())
    return out


def test_store_once_content_addressed(tmp_path, nm_bytes, db_url):
    archive = Archive(tmp_path / "data", db_url)
    first = [archive.store(b, "TEST") for b in nm_bytes]
    assert [o.status for o in first] == ["stored", "stored"]
    again = [archive.store(b, "TEST") for b in nm_bytes]
    assert [o.status for o in again] == ["duplicate", "duplicate"]
    assert archive.counts()["instances"] == 2
    for outcome, data in zip(first, nm_bytes, strict=True):
        assert archive.object_path(outcome.sha256).read_bytes() == data
    (study_uid,) = {o.study_instance_uid for o in first}
    assert [p.name for p in archive.study_files(study_uid)] == \
        [f"{o.sha256}.dcm" for o in first]


def test_same_uid_other_content_is_kept_apart_and_audited(tmp_path, nm_bytes, db_url):
    archive = Archive(tmp_path / "data", db_url)
    archive.store(nm_bytes[0])
    ds = pydicom.dcmread(io.BytesIO(nm_bytes[0]))
    ds.SeriesDescription = "CHANGED"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    outcome = archive.store(buffer.getvalue())
    assert outcome.status == "conflict"
    assert archive.counts()["instances"] == 1
    assert [e["action"] for e in archive.audit_events()] == ["store-conflict"]


@pytest.mark.parametrize(("data", "message"), [
    (b"not dicom at all", "not a readable DICOM object"),
])
def test_unusable_bytes_refused(tmp_path, data, message, db_url):
    with pytest.raises(InvalidInputError, match=message):
        Archive(tmp_path / "data", db_url).store(data)


def test_invalid_uid_refused(tmp_path, nm_bytes, db_url):
    ds = pydicom.dcmread(io.BytesIO(nm_bytes[0]))
    ds.StudyInstanceUID = "../../etc/passwd"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    archive = Archive(tmp_path / "data", db_url)
    with pytest.raises(InvalidInputError, match=r"StudyInstanceUID .* is not a valid UID"):
        archive.store(buffer.getvalue())
    assert archive.counts()["instances"] == 0


def test_partial_objects_removed_on_open(tmp_path, nm_bytes, db_url):
    archive = Archive(tmp_path / "data", db_url)
    archive.store(nm_bytes[0])
    leftover = next(archive.objects.glob("*/")) / ".incoming-crash"
    leftover.write_bytes(b"half")
    Archive(tmp_path / "data", db_url)
    assert not leftover.exists()


def test_schema_is_the_alembic_head(tmp_path, db_url):
    from sqlalchemy import text

    archive = Archive(tmp_path / "data", db_url)
    with archive.engine.connect() as con:
        assert con.execute(text("select version_num from alembic_version")).all() == \
            [("0001",)]


def test_audit_log_is_append_only(tmp_path, db_url):
    archive = Archive(tmp_path / "data", db_url)
    archive.audit("alice", "view", "study 1")
    with archive.sessions() as s:
        s.scalar(select(AuditEvent)).detail = "rewritten"
        with pytest.raises(PermissionError, match="append-only"):
            s.flush()
        s.rollback()
        s.delete(s.scalar(select(AuditEvent)))
        with pytest.raises(PermissionError, match="append-only"):
            s.flush()
    assert [e["detail"] for e in archive.audit_events()] == [""]


def test_analysis_versions_and_signed_report_immutable(tmp_path, nm_bytes, db_url):
    import json

    archive = Archive(tmp_path / "data", db_url)
    uid = archive.store(nm_bytes[0]).study_instance_uid
    folder = tmp_path / "res"
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps({"report": {"bottom_line": "normal"}}))
    assert record_analysis(archive, uid, folder, "0.1.0") == 1
    assert record_analysis(archive, uid, folder, "0.1.0") == 2
    with archive.session() as s:
        report = s.scalar(select(Report).where(Report.version == 1))
        report.status = "signed"
        report.signed_by = "dr"
    with archive.sessions() as s:
        s.scalar(select(Report).where(Report.version == 1)).content = {"bottom_line": "x"}
        with pytest.raises(PermissionError, match="is signed"):
            s.flush()
    with archive.session() as s:  # superseding by an amendment is the one allowed change
        s.scalar(select(Report).where(Report.version == 1)).status = "amended"
    with archive.session() as s:
        study = s.scalar(select(Study))
        # The second analysis added no report version: drafts are never replaced silently.
        assert [r.status for r in study.reports] == ["amended"]


def test_status_and_its_audit_event_are_one_transaction(tmp_path, nm_bytes, db_url,
                                                        monkeypatch):
    archive = Archive(tmp_path / "data", db_url)
    study_uid = archive.store(nm_bytes[0]).study_instance_uid
    archive.set_status(study_uid, "analysed", "analysis version 1",
                       audit=("system", "analysed", "version 1"))
    assert archive.audit_events()[-1]["action"] == "analysed"
    assert archive.audit_events()[-1]["target"] == study_uid

    # An event that cannot be written takes the status with it: no reader ever sees a
    # status without the event that records it.
    def broken(*_args, **_kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(Archive, "_audit", staticmethod(broken))
    with pytest.raises(RuntimeError):
        archive.set_status(study_uid, "failed", "x", audit=("system", "analysis-failed", "x"))
    with archive.sessions() as s:
        assert s.scalar(select(Study.status)) == "analysed"
