"""Wall-motion normals as files: a site's own, or the built-in (simulated) ones.

A wall-motion normals file (JSON, schema ``planarmpi/wall-motion-normals@1``) holds, for
one method — ``gated-blood-pool`` (the regional EF of the five LAO segments) or
``gated-perfusion`` (the regional shortening of the endocardial border) — the mean and SD
of each segment's motion (percent) over a population of normal studies, the number of
studies, and, for gated perfusion, the root mean square of each study's own counting noise
on that segment (``measurement_sd_percent``; the noise their SD already holds, against
which a noisier study's limit is widened). Built-in normals ship with the package (derived
from simulated normals by ``bench/wall_motion_normals.py`` and
``bench/gated_perfusion_normals.py``); a site builds its own from its normal studies with
``planarmpi normals wall-motion`` (:func:`build_wall_motion_normals`), and every result
names the normals its wall motion was graded against.
"""

from __future__ import annotations

import enum
import functools
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from planarmpi.errors import InvalidInputError

__all__ = [
    "SCHEMA",
    "SEGMENTS",
    "MotionMethod",
    "SegmentNormal",
    "WallMotionNormals",
    "build_wall_motion_normals",
    "builtin_wall_motion_normals",
    "is_wall_motion_normals",
    "motion_outliers",
    "parse_wall_motion_normals",
    "read_wall_motion_normals",
    "write_wall_motion_normals",
]

SCHEMA = "planarmpi/wall-motion-normals@1"
#: A normal study whose motion in some segment lies more than this many SDs below the other
#: normals' mean is left out of a site's normals (:func:`motion_outliers`): 2.5 times the
#: grade's own 2 SD, so that only a grossly abnormal heart or a failed border is dropped.
OUTLIER_Z = 5.0
#: The segments both methods grade (the LAO view's five, docs/function.md).
SEGMENTS = ("LAO-1", "LAO-2", "LAO-3", "LAO-4", "LAO-5")


class MotionMethod(enum.StrEnum):
    """Which measurement a normals file describes."""

    GATED_BLOOD_POOL = "gated-blood-pool"
    GATED_PERFUSION = "gated-perfusion"

    @property
    def quantity(self) -> str:
        """What the percentages are."""
        if self is MotionMethod.GATED_BLOOD_POOL:
            return "regional ejection fraction of the LV segment (%)"
        return "regional shortening of the endocardial border, ED to ES (%)"


_BUILTIN = {MotionMethod.GATED_BLOOD_POOL: "wall_motion_normals.json",
            MotionMethod.GATED_PERFUSION: "gated_perfusion_motion_normals.json"}


@dataclass(frozen=True, slots=True)
class SegmentNormal:
    """One segment's motion in normals (percent)."""

    mean_percent: float
    sd_percent: float
    n: int
    #: Root mean square of the normals' own counting noise on this segment (None: not
    #: measured — the limit is then never widened for a noisier study).
    measurement_sd_percent: float | None = None


@dataclass(frozen=True, slots=True)
class WallMotionNormals:
    """Normals of one method's segment motion, and where they came from."""

    name: str
    method: MotionMethod
    segments: Mapping[str, SegmentNormal]
    source: str = ""
    #: Where the file was read from (``built-in:…`` for the packaged ones).
    path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def mean_sd(self) -> dict[str, tuple[float, float]]:
        """Segment key → (mean, SD) percent, as the grading takes them."""
        return {k: (s.mean_percent, s.sd_percent) for k, s in self.segments.items()}

    def noise(self) -> dict[str, float]:
        """Segment key → the normals' counting noise (percent), where it was measured."""
        return {k: s.measurement_sd_percent for k, s in self.segments.items()
                if s.measurement_sd_percent is not None}

    def describe(self) -> dict[str, str]:
        """What result.json records of the normals a study was graded against."""
        return {"name": self.name, "method": self.method.value, "source": self.source,
                "path": self.path}

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        segments: dict[str, dict[str, Any]] = {}
        for key, s in self.segments.items():
            entry: dict[str, Any] = {"mean_percent": s.mean_percent,
                                     "sd_percent": s.sd_percent}
            if s.measurement_sd_percent is not None:
                entry["measurement_sd_percent"] = s.measurement_sd_percent
            entry["n"] = s.n
            segments[key] = entry
        return {"schema": SCHEMA, "name": self.name, "method": self.method.value,
                "source": self.source, "quantity": self.method.quantity, **self.extra,
                "segments": segments}


def _fail(path: str, problem: str) -> InvalidInputError:
    return InvalidInputError(f"{path}: not a usable wall-motion normals file: {problem}")


def is_wall_motion_normals(doc: Any) -> bool:
    """Whether a parsed JSON document declares itself wall-motion normals."""
    return isinstance(doc, dict) and str(doc.get("schema", "")).startswith(
        "planarmpi/wall-motion-normals@")


def parse_wall_motion_normals(doc: Any, path: str = "<wall-motion normals>",
                              method: MotionMethod | None = None) -> WallMotionNormals:
    """Validate a wall-motion normals document (a parsed JSON object).

    ``method`` is the method of a file that does not name one (the packaged files of
    earlier versions).

    Raises
    ------
    InvalidInputError
        Naming ``path`` and the problem.
    """
    if not isinstance(doc, dict):
        raise _fail(path, "the top level must be an object")
    if doc.get("schema") != SCHEMA:
        raise _fail(path, f"schema must be {SCHEMA!r}, got {doc.get('schema')!r}")
    try:
        named = doc.get("method")
        resolved = MotionMethod(named) if named is not None else method
    except ValueError:
        raise _fail(path, f"method must be one of {[m.value for m in MotionMethod]}, got "
                          f"{doc.get('method')!r}") from None
    if resolved is None:
        raise _fail(path, "no method (gated-blood-pool or gated-perfusion)")
    raw = doc.get("segments")
    if not isinstance(raw, dict):
        raise _fail(path, "'segments' must be an object of segment → normals")
    missing = [k for k in SEGMENTS if k not in raw]
    if missing:
        raise _fail(path, f"no normals for segment(s) {', '.join(missing)}")
    unknown = sorted(set(raw) - set(SEGMENTS))
    if unknown:
        raise _fail(path, f"unknown segment(s) {', '.join(unknown)} (known: "
                          f"{', '.join(SEGMENTS)})")
    segments = {}
    for key in SEGMENTS:
        entry = raw[key]
        try:
            mean, sd = float(entry["mean_percent"]), float(entry["sd_percent"])
            n = int(entry["n"])
            noise = entry.get("measurement_sd_percent")
            noise = None if noise is None else float(noise)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _fail(path, f"{key}: missing or invalid field ({exc})") from None
        if not (math.isfinite(mean) and -100.0 <= mean <= 100.0):
            raise _fail(path, f"{key}: mean_percent must be a number within ±100, got {mean}")
        if not (math.isfinite(sd) and sd > 0):
            raise _fail(path, f"{key}: sd_percent must be positive, got {sd}")
        if noise is not None and not (math.isfinite(noise) and noise >= 0):
            raise _fail(path, f"{key}: measurement_sd_percent must be ≥ 0, got {noise}")
        if n < 2:
            raise _fail(path, f"{key}: n must be at least 2 (an SD needs two studies), got {n}")
        segments[key] = SegmentNormal(mean, sd, n, noise)
    known = {"schema", "name", "method", "source", "quantity", "segments"}
    return WallMotionNormals(str(doc.get("name") or Path(path).stem), resolved, segments,
                             str(doc.get("source", "")), path,
                             {k: v for k, v in doc.items() if k not in known})


def read_wall_motion_normals(path: str | os.PathLike[str]) -> WallMotionNormals:
    """Read and validate a wall-motion normals file.

    Raises
    ------
    InvalidInputError
        Naming the file and the problem.
    """
    from planarmpi.io.documents import load_json

    return parse_wall_motion_normals(load_json(path, "wall-motion normals"), str(path))


def write_wall_motion_normals(normals: WallMotionNormals,
                              path: str | os.PathLike[str]) -> Path:
    """Write a normals file (atomically: a temporary file renamed over the target)."""
    from planarmpi.io.outputs import write_atomic

    return write_atomic(path, json.dumps(normals.to_json(), indent=2) + "\n")


@functools.cache
def builtin_wall_motion_normals(method: MotionMethod) -> WallMotionNormals:
    """The packaged normals of a method (simulated normals; see the module docstring)."""
    name = _BUILTIN[MotionMethod(method)]
    entry = resources.files("planarmpi.analysis") / "data" / name
    return parse_wall_motion_normals(json.loads(entry.read_text(encoding="utf-8")),
                                     f"built-in:{name}", MotionMethod(method))


def build_wall_motion_normals(
        studies: Iterable[Mapping[str, tuple[float, float | None]]], method: MotionMethod, *,
        name: str, source: str = "", min_studies: int = 10) -> WallMotionNormals:
    """Normals from the segment motion measured in normal studies.

    Parameters
    ----------
    studies : iterable of mapping
        One mapping per study: segment key → (motion percent, its counting-noise SD percent
        or None). Non-finite values are left out of that segment.
    method : MotionMethod
    name, source : str
        Recorded in the file (and named by every result graded against it).
    min_studies : int
        Fewest studies with a finite value in every segment.

    Returns
    -------
    WallMotionNormals
        Per segment the mean and sample SD (ddof 1) of the motion, the number of studies,
        and the root mean square of the noise SDs when every study has one.

    Raises
    ------
    InvalidInputError
        When a segment has fewer than ``min_studies`` values, or no spread.
    """
    if min_studies < 2:
        raise InvalidInputError(f"min_studies must be at least 2, got {min_studies}")
    values: dict[str, list[float]] = {k: [] for k in SEGMENTS}
    noises: dict[str, list[float | None]] = {k: [] for k in SEGMENTS}
    n_studies = 0
    for study in studies:
        n_studies += 1
        for key in SEGMENTS:
            value, noise = study.get(key, (math.nan, None))
            if math.isfinite(value):
                values[key].append(float(value))
                noises[key].append(noise if noise is not None and math.isfinite(noise)
                                   else None)
    segments = {}
    for key in SEGMENTS:
        v = np.asarray(values[key], dtype=np.float64)
        if v.size < min_studies:
            raise InvalidInputError(
                f"{key}: measured in {v.size} of {n_studies} normal studies; at least "
                f"{min_studies} are needed")
        sd = float(v.std(ddof=1))
        if not sd > 0:
            raise InvalidInputError(f"{key}: the {v.size} studies' motion does not vary "
                                    "(SD 0): not a population of normals")
        measured = [s for s in noises[key] if s is not None]
        noise = (float(np.sqrt(np.mean(np.square(measured))))
                 if measured and len(measured) == v.size else None)
        segments[key] = SegmentNormal(float(v.mean()), sd, int(v.size), noise)
    return WallMotionNormals(name, MotionMethod(method), segments, source)


def motion_outliers(studies: Mapping[str, Mapping[str, tuple[float, float | None]]],
                    z: float = OUTLIER_Z) -> dict[str, str]:
    """The studies to leave out of normals: label → why.

    A study is left out when its motion in some segment lies more than ``z`` SDs *below*
    the mean of the other studies (their sample SD): a heart that does not move there, or
    a failed border, is not a normal. Only low motion counts (a vigorous normal is
    normal). Iterated, the lowest first, so that two such studies do not hide each other;
    a segment measured in fewer than 5 studies tests no one.
    """
    remaining = dict(studies)
    out: dict[str, str] = {}
    while True:
        worst: tuple[float, str, str] | None = None
        for key in SEGMENTS:
            labels = [k for k, v in remaining.items()
                      if math.isfinite(v.get(key, (math.nan,))[0])]
            if len(labels) < 5:
                continue
            values = np.array([remaining[k][key][0] for k in labels])
            for i, label in enumerate(labels):
                others = np.delete(values, i)
                sd = float(others.std(ddof=1))
                if not sd > 0:
                    continue
                score = (values[i] - float(others.mean())) / sd
                if score < -z and (worst is None or score < worst[0]):
                    worst = (score, label, f"{key} {values[i]:.1f}% lies {-score:.1f} SDs "
                                           f"below the other normals' mean "
                                           f"{others.mean():.1f}%")
        if worst is None:
            return out
        out[worst[1]] = worst[2]
        del remaining[worst[1]]
