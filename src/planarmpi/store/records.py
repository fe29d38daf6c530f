"""Recording analyses and report drafts in the archive (new versions, never overwrites)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from planarmpi.errors import InvalidInputError
from planarmpi.store.archive import Archive
from planarmpi.store.models import Analysis, Report, Study

__all__ = ["record_analysis"]


def record_analysis(archive: Archive, study_instance_uid: str, folder: str | Path,
                    software_version: str, created_by: str = "system",
                    rois: dict[str, Any] | None = None) -> int:
    """Record the analysis written in ``folder`` as the study's next version.

    The first analysis's drafted report (the ``report`` section of result.json) becomes the
    study's first report version, a draft. Later analyses add no report version: a report a
    physician drafted or signed is never replaced behind their back; the web app asks for a
    new draft when the analysis is newer than the report. Returns the analysis version.
    """
    folder = Path(folder)
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    with archive.session() as s:
        study = s.scalar(select(Study).where(Study.study_instance_uid == study_instance_uid))
        if study is None:
            raise InvalidInputError(f"no study {study_instance_uid} in the archive")
        version = int(s.scalar(select(func.max(Analysis.version))
                               .where(Analysis.study_fk == study.id)) or 0) + 1
        analysis = Analysis(study=study, version=version, created_by=created_by,
                            software_version=software_version, status="done",
                            output_dir=str(folder), result=result, rois=rois)
        s.add(analysis)
        s.flush()
        has_report = s.scalar(select(func.count()).select_from(Report)
                              .where(Report.study_fk == study.id))
        if result.get("report") and not has_report:
            s.add(Report(study=study, version=1, status="draft",
                         analysis_fk=analysis.id, content=result["report"],
                         created_by=created_by))
    return version
