"""Clinical pictures simulated with known truth and analysed by the CLI, with their reports."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from planarmpi.cli.main import main
from planarmpi.model import State
from planarmpi.simulate import simulate_study
from planarmpi.simulate.firstpass import FirstPassSpec
from planarmpi.simulate.presets import preset
from testenv import EXAMPLES

CLOCK = dt.datetime(2026, 1, 15, 14, 0)

#: picture → (preset, changes to the preset, clinical example file, seed)
PICTURES: dict[str, tuple[str, dict[str, Any], str, int]] = {
    "normal-exercise": ("normal-male", {}, "clinical-exercise.yaml", 1),
    "lad-ischemia": ("lad-ischemia", {}, "clinical-exercise.yaml", 1),
    "scar-reduced-ef": ("lad-scar", {"first_pass": FirstPassSpec()}, "clinical-exercise.yaml",
                        2),
    "normal-pharmacologic": ("normal-male",
                             {"states": (State.STRESS_PHARMACOLOGIC, State.REST)},
                             "clinical-pharmacologic.yaml", 3),
    "muga-follow-up": ("muga-cardiotoxicity", {}, "clinical-muga.yaml", 4),
}


class Picture:
    """One analysed clinical picture: its truth, result, report text and folder."""

    def __init__(self, folder: Path, truth: dict[str, Any]) -> None:
        self.folder = folder
        self.truth = truth
        self.result = json.loads((folder / "result.json").read_text())
        self.text = (folder / "report.txt").read_text()
        self.report = self.result["report"]


@pytest.fixture(scope="session")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Picture]:
    out: dict[str, Picture] = {}
    for name, (preset_name, changes, clinical, seed) in PICTURES.items():
        root = tmp_path_factory.mktemp(name)
        spec = replace(preset(preset_name), **changes) if changes else preset(preset_name)
        truth = simulate_study(spec, root / "dicom", seed=seed)
        code = main(["analyze", str(root / "dicom"), "--out", str(root / "out"),
                     "--clinical", str(EXAMPLES / clinical),
                     "--generated-at", CLOCK.isoformat()])
        assert code in (0, 1), f"{name}: analyze exit code {code}"
        (folder,) = [p.parent for p in (root / "out").glob("*/result.json")]
        out[name] = Picture(folder, truth)
    return out
