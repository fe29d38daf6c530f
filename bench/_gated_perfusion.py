"""Shared by the gated-perfusion benchmarks: simulate one gated LAO perfusion view, analyse it."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from typing import Any

import numpy as np

from _population import CACHE
from planarmpi import read_studies
from planarmpi.analysis.gated_perfusion import GatedPerfusionResult, analyze_gated_perfusion
from planarmpi.model import Sex, State, Tracer
from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import _perfusion_anatomy, _tracer_settings
from planarmpi.simulate.study import SimulationSpec


def simulate_and_analyze(seed0: int, index: int, *, normal: bool = False,
                         **anatomy_changes: Any
                         ) -> tuple[dict[str, Any], GatedPerfusionResult | str, float]:
    """A random Tc-99m gated LAO perfusion view (habitus, breasts, heart size and shape,
    orientation, liver/gut, 0.8–2.5 M counts, 8 or 16 slots), its truth and analysis.

    ``normal``: LVEF 52–75% and EDV 70–160 ml; otherwise LVEF 15–80% and EDV 60–250 ml.
    """
    rng = np.random.default_rng([seed0, index])
    female = bool(rng.random() < 0.5)
    tracer = Tracer(str(rng.choice([Tracer.TC99M_SESTAMIBI.value,
                                    Tracer.TC99M_TETROFOSMIN.value])))
    anatomy = _perfusion_anatomy(rng, female, normal=normal)
    if not normal:
        anatomy = replace(anatomy, lvef_percent=float(rng.uniform(15, 80)),
                          edv_ml=float(rng.uniform(60, 250)))
    anatomy = replace(anatomy, **anatomy_changes)
    settings = _tracer_settings(rng, tracer)
    settings.update(states=(State.STRESS_EXERCISE,), gated_view="LAO45",
                    counts_per_view=float(rng.uniform(0.8e6, 2.5e6)))
    spec = SimulationSpec(name=f"gp-{seed0}-{index}", sex=Sex.FEMALE if female else Sex.MALE,
                          anatomy=anatomy, static_views=(),
                          time_slots=int(rng.choice([8, 16])), **settings)
    # Cached on disk, keyed by everything that shapes the simulation.
    key = hashlib.sha256(repr((normal, sorted(anatomy_changes.items()))).encode()).hexdigest()
    folder = CACHE / "gated-perfusion" / f"{spec.name}-{key[:10]}"
    if not (folder / "truth.json").exists():
        simulate_study(spec, folder, seed=seed0 + index)
    truth = json.loads((folder / "truth.json").read_text())
    (study,) = read_studies(folder).studies
    t0 = time.perf_counter()
    try:
        result: GatedPerfusionResult | str = analyze_gated_perfusion(study.gated[0])
    except ValueError as exc:
        result = str(exc)
    return truth, result, time.perf_counter() - t0
