"""Writing analysis outputs to disk: one folder per study, atomic replacement."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from planarmpi.analysis.result import StudyResult
from planarmpi.io.paths import safe_dirname

__all__ = ["study_output_dir", "write_result_json"]


def study_output_dir(out: str | os.PathLike[str], study_instance_uid: str) -> Path:
    """``out/<StudyInstanceUID>``, with a hostile UID replaced (see :func:`safe_dirname`)."""
    return Path(out) / safe_dirname(study_instance_uid)


def write_result_json(result: StudyResult, out: str | os.PathLike[str]) -> Path:
    """Write ``result.json`` for one study and return its path.

    The file is written to a temporary name and renamed, so a crash never leaves a
    half-written result in place of a good one.
    """
    folder = study_output_dir(out, result.study_instance_uid)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "result.json"
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    fd, tmp = tempfile.mkstemp(prefix=".result-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
