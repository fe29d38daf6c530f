"""Shared by the function benchmarks: simulate one blood-pool study and analyse it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any

from _population import CACHE
from planarmpi import read_studies
from planarmpi.analysis.bloodpool import BloodPoolResult, analyze_blood_pool
from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import preset


@dataclass(frozen=True)
class Outcome:
    """The phantom's truth and the analysis (or why it failed), with its time in s."""

    truth: dict[str, Any]
    result: BloodPoolResult | None
    error: str
    seconds: float


def simulate_and_analyze(seed: int, **spec_changes: Any) -> Outcome:
    """``muga-normal`` with ``spec_changes``, simulated with ``seed`` (cached on disk under
    the bench cache, keyed by the spec's name and the seed) and analysed."""
    spec = replace(preset("muga-normal"), **spec_changes)
    folder = CACHE / "muga" / f"{spec.name}-{seed}"
    if not (folder / "truth.json").exists():
        simulate_study(spec, folder, seed=seed)
    truth = json.loads((folder / "truth.json").read_text())
    (study,) = read_studies(folder).studies
    t0 = time.perf_counter()
    try:
        result = analyze_blood_pool(study.gated[0])
    except ValueError as exc:
        return Outcome(truth, None, str(exc), time.perf_counter() - t0)
    return Outcome(truth, result, "", time.perf_counter() - t0)
