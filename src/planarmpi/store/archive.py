"""The study archive: a database (SQLite file by default, PostgreSQL by URL) and a
content-addressed object store of DICOM files.

Files are written to a temporary name in the store's folder, flushed to disk and renamed to
``objects/<sha256[:2]>/<sha256>.dcm``: a crash never leaves a half-written object under its
final name, an object is never overwritten, and identical content is stored once. The
database row of an instance is committed only after its file is in place; leftover
temporary files are removed when the archive opens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from planarmpi.errors import InvalidInputError
from planarmpi.io.paths import is_valid_uid
from planarmpi.store.models import (
    AuditEvent,
    Instance,
    Patient,
    Series,
    Study,
    utcnow,
)

__all__ = ["Archive", "StoreOutcome", "migrate"]


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """What storing one object did: ``stored``, ``duplicate`` (same bytes already there)
    or ``conflict`` (same SOP Instance UID, different content: kept apart, not replaced)."""

    status: str
    sop_instance_uid: str
    study_instance_uid: str
    sha256: str


class Archive:
    """A data directory (objects, results) and a database.

    Parameters
    ----------
    data_dir : path
        Holds ``objects/``, ``results/`` and, by default, ``planarmpi.sqlite``.
    url : str, optional
        A SQLAlchemy URL (``postgresql+psycopg://user@host:port/db``); default: the SQLite
        file in ``data_dir``.
    """

    def __init__(self, data_dir: str | os.PathLike[str], url: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.objects = self.data_dir / "objects"
        self.results = self.data_dir / "results"
        for folder in (self.objects, self.results):
            folder.mkdir(parents=True, exist_ok=True)
        self.url = url or f"sqlite:///{(self.data_dir / 'planarmpi.sqlite').resolve()}"
        self.engine = create_engine(self.url, future=True, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        migrate(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._remove_partial_objects()

    def _remove_partial_objects(self) -> None:
        for tmp in self.objects.glob("*/.incoming-*"):
            tmp.unlink(missing_ok=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error."""
        with self.sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    # ------------------------------------------------------------------ objects
    def object_path(self, sha256: str, suffix: str = ".dcm") -> Path:
        """Where the object with this digest lives."""
        return self.objects / sha256[:2] / f"{sha256}{suffix}"

    def put_object(self, data: bytes, suffix: str = ".dcm") -> str:
        """Store bytes once under their SHA-256 (never overwritten); returns the digest."""
        return self._put(data, suffix)

    def _put(self, data: bytes, suffix: str = ".dcm") -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.object_path(digest, suffix)
        if target.is_file():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def store(self, data: bytes, source: str = "") -> StoreOutcome:
        """Store one DICOM Part 10 object (bytes with file meta).

        Raises
        ------
        InvalidInputError
            When the bytes are not DICOM or lack valid Study/Series/SOP Instance UIDs.
        """
        try:
            ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        except Exception as exc:
            raise InvalidInputError(f"not a readable DICOM object ({exc})") from None
        uids = {k: str(ds.get(k, "")) for k in ("StudyInstanceUID", "SeriesInstanceUID",
                                                  "SOPInstanceUID", "SOPClassUID")}
        for key, value in uids.items():
            if not is_valid_uid(value):
                raise InvalidInputError(f"{key} {value[:70]!r} is not a valid UID")
        digest = self._put(data)
        for _attempt in range(5):
            try:
                return self._record(ds, uids, digest, len(data), source)
            except IntegrityError:
                # Another association created the same patient, study, series or instance
                # between our read and our write: read again.
                continue
        raise InvalidInputError(f"{uids['SOPInstanceUID']}: could not be recorded (the "
                                "database kept refusing concurrent inserts)")

    def _record(self, ds: pydicom.Dataset, uids: dict[str, str], digest: str, size: int,
                source: str) -> StoreOutcome:
        with self.session() as s:
            existing = s.scalar(select(Instance).where(
                Instance.sop_instance_uid == uids["SOPInstanceUID"]))
            if existing is not None:
                status = "duplicate" if existing.sha256 == digest else "conflict"
                if status == "conflict":
                    self._audit(s, "dicom", "store-conflict", uids["SOPInstanceUID"],
                                f"kept {existing.sha256[:12]}, received {digest[:12]}")
                return StoreOutcome(status, uids["SOPInstanceUID"],
                                    uids["StudyInstanceUID"], digest)
            study = self._study(s, ds, uids["StudyInstanceUID"])
            series = s.scalar(select(Series).where(
                Series.series_instance_uid == uids["SeriesInstanceUID"]))
            if series is None:
                series = Series(series_instance_uid=uids["SeriesInstanceUID"], study=study,
                                modality=str(ds.get("Modality", ""))[:16],
                                description=str(ds.get("SeriesDescription", ""))[:64])
                s.add(series)
            s.add(Instance(sop_instance_uid=uids["SOPInstanceUID"],
                           sop_class_uid=uids["SOPClassUID"], series=series, sha256=digest,
                           size_bytes=size, source=source[:128]))
            study.last_received_at = utcnow()
            study.status = "receiving"
        return StoreOutcome("stored", uids["SOPInstanceUID"], uids["StudyInstanceUID"], digest)

    def _study(self, s: Session, ds: pydicom.Dataset, study_uid: str) -> Study:
        study = s.scalar(select(Study).where(Study.study_instance_uid == study_uid))
        if study is not None:
            return study
        pid = str(ds.get("PatientID", ""))[:64]
        patient = s.scalar(select(Patient).where(Patient.patient_id == pid))
        if patient is None:
            patient = Patient(patient_id=pid, name=str(ds.get("PatientName", ""))[:324],
                              birth_date=str(ds.get("PatientBirthDate", ""))[:8],
                              sex=str(ds.get("PatientSex", ""))[:16])
            s.add(patient)
        study = Study(study_instance_uid=study_uid, patient=patient,
                      study_date=str(ds.get("StudyDate", ""))[:8],
                      description=str(ds.get("StudyDescription", ""))[:64],
                      accession_number=str(ds.get("AccessionNumber", ""))[:16])
        s.add(study)
        s.flush()
        return study

    # ------------------------------------------------------------------ queries
    def study_files(self, study_instance_uid: str) -> list[Path]:
        """The stored files of a study's instances, in series then instance order."""
        with self.sessions() as s:
            rows = s.execute(
                select(Instance.sha256).join(Series).join(Study)
                .where(Study.study_instance_uid == study_instance_uid)
                .order_by(Series.id, Instance.id)).scalars().all()
        return [self.object_path(d) for d in rows]

    def idle_studies(self, idle: dt.timedelta) -> list[str]:
        """Studies still receiving whose last object came more than ``idle`` ago."""
        cutoff = utcnow() - idle
        with self.sessions() as s:
            return list(s.scalars(select(Study.study_instance_uid).where(
                Study.status == "receiving", Study.last_received_at <= cutoff)))

    def set_status(self, study_instance_uid: str, status: str, detail: str = "", *,
                   audit: tuple[str, str, str] | None = None) -> None:
        """Move a study to ``status`` (complete, analysing, analysed, failed).

        Parameters
        ----------
        audit : (actor, action, detail), optional
            An audit event written in the same transaction as the status, so that no
            reader ever sees the new status without its event (or the event without it).
        """
        with self.session() as s:
            study = s.scalar(select(Study).where(
                Study.study_instance_uid == study_instance_uid))
            if study is None:
                raise InvalidInputError(f"no study {study_instance_uid} in the archive")
            study.status = status
            study.status_detail = detail
            if audit is not None:
                actor, action, event_detail = audit
                self._audit(s, actor, action, study_instance_uid, event_detail)

    def counts(self) -> dict[str, int]:
        """Numbers of patients, studies, series and instances."""
        with self.sessions() as s:
            return {name: int(s.scalar(select(func.count()).select_from(model)) or 0)
                    for name, model in (("patients", Patient), ("studies", Study),
                                        ("series", Series), ("instances", Instance))}

    # ------------------------------------------------------------------ audit
    @staticmethod
    def _audit(s: Session, actor: str, action: str, target: str, detail: str = "") -> None:
        s.add(AuditEvent(actor=actor[:64], action=action[:32], target=target[:128],
                         detail=detail))

    def audit(self, actor: str, action: str, target: str, detail: str = "") -> None:
        """Append an event to the audit log (its own transaction)."""
        with self.session() as s:
            self._audit(s, actor, action, target, detail)

    def audit_events(self) -> list[dict[str, Any]]:
        """The whole audit log, oldest first."""
        with self.sessions() as s:
            return [{"at": e.at, "actor": e.actor, "action": e.action, "target": e.target,
                     "detail": e.detail}
                    for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the DICOM receiver
    cursor.execute("PRAGMA synchronous=FULL")  # a committed instance survives power loss
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
