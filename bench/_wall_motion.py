"""Shared by the wall-motion benches: score one study's grades, print the detection table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np


class Row(NamedTuple):
    """One study's outcome, by segments (static mapping) and by named territories."""

    territory: str
    kind: str
    found_by_segments: bool  # any segment mapped to the territory is abnormal
    remote_segments_normal: int
    remote_segments: int
    found: bool  # the territory is graded abnormal
    remote_territories_normal: int
    remote_territories: int


def score(territory: str, kind: str, segments: Sequence[Any],
          territories: Sequence[Any] = ()) -> Row:
    """Score one study with one abnormal ``territory``.

    ``territories``: the analysis's territory grades (``TerritoryMotion``); without them a
    territory is abnormal when any segment mapped to it is.
    """
    found_seg = any(s.grade != "normal" for s in segments if s.territory == territory)
    remote = [s for s in segments if s.territory != territory]
    if territories:
        grades = {t.territory: t.grade for t in territories}
    else:
        grades = {t: "normal" for t in ("LAD", "LCX", "RCA")}
        for s in segments:
            if s.grade != "normal":
                grades[s.territory] = s.grade
    others = [g for t, g in grades.items() if t != territory]
    return Row(territory, kind, found_seg, sum(s.grade == "normal" for s in remote),
               len(remote), grades.get(territory, "normal") != "normal",
               sum(g == "normal" for g in others), len(others))


def score_normal(territories: Sequence[Any]) -> int:
    """How many territories of a normal study are graded normal (of three)."""
    grades = {t.territory: t.grade for t in territories}
    return sum(grades.get(t, "normal") == "normal" for t in ("LAD", "LCX", "RCA"))


def print_table(title: str, rows: Sequence[Row], normals: Sequence[int] = (),
                normals_title: str = "") -> None:
    """Detection rate per grade and per territory, and remote territories graded normal;
    with ``normals`` (territories graded normal per normal study), their figures too."""
    print(title)
    print(f"{'abnormality':14s} {'n':>4s} {'found':>8s} {'(by segments)':>14s}")
    groups = [(k, [r for r in rows if r.kind == k]) for k in
              ("hypokinetic", "akinetic", "dyskinetic")]
    groups += [("all", list(rows))]
    groups += [(f"  {t}", [r for r in rows if r.territory == t]) for t in ("LAD", "LCX", "RCA")]
    for name, group in groups:
        if group:
            print(f"{name:14s} {len(group):4d} {np.mean([r.found for r in group]):8.0%} "
                  f"{np.mean([r.found_by_segments for r in group]):14.0%}")
    normal = sum(r.remote_territories_normal for r in rows)
    total = sum(r.remote_territories for r in rows)
    print(f"remote territories graded normal: {normal}/{total} = {normal / total:.0%}")
    normal = sum(r.remote_segments_normal for r in rows)
    total = sum(r.remote_segments for r in rows)
    print(f"remote segments graded normal (static mapping): {normal}/{total} = "
          f"{normal / total:.0%}")
    if normals:
        print(f"{normals_title}: territories graded normal {sum(normals)}/{3 * len(normals)} "
              f"= {sum(normals) / (3 * len(normals)):.1%}; studies with every territory "
              f"normal {sum(n == 3 for n in normals)}/{len(normals)} "
              f"= {np.mean([n == 3 for n in normals]):.1%}")
