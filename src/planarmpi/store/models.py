"""The archive's tables (SQLAlchemy 2 declarative; schema changes go through Alembic).

Patients → studies → series → instances (each instance a content-addressed file, stored
once, never overwritten); analyses (each re-analysis a new version); reports (draft →
signed → amended: a signed report is never changed, an amendment is a new version with its
reason); users with a role; and an append-only audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["Analysis", "AuditEvent", "Base", "Instance", "Patient", "Report", "Series",
           "Study", "User", "utcnow"]


def utcnow() -> dt.datetime:
    """Now, in UTC, without tzinfo (stored as naive UTC in every backend)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of the archive."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class Patient(Base):
    """A patient as the sending system identifies them (Patient ID)."""

    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(324), default="")  # PHI: never logged
    birth_date: Mapped[str] = mapped_column(String(8), default="")
    sex: Mapped[str] = mapped_column(String(16), default="")
    studies: Mapped[list[Study]] = relationship(back_populates="patient")


class Study(Base):
    """A study; ``status``: receiving → complete → analysed (or failed)."""

    __tablename__ = "studies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_instance_uid: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    patient_fk: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    study_date: Mapped[str] = mapped_column(String(8), default="")
    description: Mapped[str] = mapped_column(String(64), default="")
    accession_number: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(16), default="receiving", index=True)
    status_detail: Mapped[str] = mapped_column(Text, default="")
    first_received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    patient: Mapped[Patient] = relationship(back_populates="studies")
    series: Mapped[list[Series]] = relationship(back_populates="study")
    analyses: Mapped[list[Analysis]] = relationship(back_populates="study")
    reports: Mapped[list[Report]] = relationship(back_populates="study")


class Series(Base):
    """A series of a study."""

    __tablename__ = "series"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_instance_uid: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    study_fk: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    modality: Mapped[str] = mapped_column(String(16), default="")
    description: Mapped[str] = mapped_column(String(64), default="")
    study: Mapped[Study] = relationship(back_populates="series")
    instances: Mapped[list[Instance]] = relationship(back_populates="series")


class Instance(Base):
    """One stored DICOM object: its file is ``objects/<sha256[:2]>/<sha256>.dcm``."""

    __tablename__ = "instances"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    sop_class_uid: Mapped[str] = mapped_column(String(64))
    series_fk: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(128), default="")
    series: Mapped[Series] = relationship(back_populates="instances")


class Analysis(Base):
    """One analysis of a study; a re-analysis is a new version."""

    __tablename__ = "analyses"
    __table_args__ = (UniqueConstraint("study_fk", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_fk: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    software_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # done | failed
    error: Mapped[str] = mapped_column(Text, default="")
    output_dir: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    rois: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    study: Mapped[Study] = relationship(back_populates="analyses")


class Report(Base):
    """A version of a study's report: ``draft``, ``signed``, or ``amended`` (superseded)."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("study_fk", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_fk: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    analysis_fk: Mapped[int | None] = mapped_column(ForeignKey("analyses.id"), nullable=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    clinical: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    signed_by: Mapped[str] = mapped_column(String(64), default="")
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    amends_fk: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    study: Mapped[Study] = relationship(back_populates="reports")


class User(Base):
    """A user; ``role`` is technologist, physician or admin."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuditEvent(Base):
    """Who did what to which object, when. Rows are only ever added."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise PermissionError("the audit log is append-only: events are never changed or deleted")


@event.listens_for(Report, "before_update")
def _signed_reports_are_immutable(mapper: Any, connection: Any, target: Report) -> None:
    from sqlalchemy import inspect

    state = inspect(target)
    status = state.attrs.status.history
    was = status.deleted[0] if status.deleted else target.status
    if was == "signed":
        changed = {a.key for a in state.attrs if a.history.has_changes()}
        # The only change allowed to a signed report is being superseded by an amendment.
        if changed - {"status"} or target.status != "amended":
            raise PermissionError(f"report {target.id} is signed: amend it, do not edit it")
