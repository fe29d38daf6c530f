"""Shared by the wall-motion benches: score one study's grades, print the detection table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

Row = tuple[str, str, bool, int, int]


def score(territory: str, kind: str, segments: Sequence[Any]) -> Row:
    """(territory, kind, found, remote graded normal, remote segments) of one study.

    A territory is found when any of its segments is not graded normal.
    """
    found = any(s.grade != "normal" for s in segments if s.territory == territory)
    remote = [s for s in segments if s.territory != territory]
    return territory, kind, found, sum(s.grade == "normal" for s in remote), len(remote)


def print_table(title: str, rows: Sequence[Row]) -> None:
    """Detection rate per grade and per territory, and remote segments graded normal."""
    print(title)
    print(f"{'abnormality':14s} {'n':>4s} {'found':>8s}")
    for kind in ("hypokinetic", "akinetic", "dyskinetic"):
        hits = [r[2] for r in rows if r[1] == kind]
        if hits:
            print(f"{kind:14s} {len(hits):4d} {np.mean(hits):8.0%}")
    print(f"{'all':14s} {len(rows):4d} {np.mean([r[2] for r in rows]):8.0%}")
    for territory in ("LAD", "LCX", "RCA"):
        hits = [r[2] for r in rows if r[0] == territory]
        if hits:
            print(f"  {territory:12s} {len(hits):4d} {np.mean(hits):8.0%}")
    normal = sum(r[3] for r in rows)
    total = sum(r[4] for r in rows)
    print(f"remote segments graded normal: {normal}/{total} = {normal / total:.0%}")
