"""Patient motion in static views acquired in time frames: measured against known shifts,
corrected, reported; single-frame views say it was not assessed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from factories import acquisition
from planarmpi import read_studies
from planarmpi.analysis.perfusion.motion import (
    MotionParams,
    frame_displacements,
    framed_static_view,
    realign_frames,
)
from planarmpi.analysis.perfusion.study import PerfusionParams, analyze_perfusion
from planarmpi.coding.encounter import encounter_from_result
from planarmpi.model import DynamicPhase, DynamicSeries, SeriesKind, State, Study
from planarmpi.model.series import FRAMED_STATIC_MIN_FRAME_MS
from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import preset
from planarmpi.simulate.study import PatientMotion

SPACING = (3.2, 3.2)


def _blob_frames(shifts_px: list[tuple[float, float]], counts: float, seed: int) -> np.ndarray:
    """A ring-shaped heart and a broad body, shifted per frame, with Poisson noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices((96, 96), dtype=np.float64)
    frames = []
    for dr, dc in shifts_px:
        r = np.hypot(rows - 50 - dr, cols - 46 - dc)
        heart = np.exp(-((r - 9) ** 2) / 8.0)
        body = np.exp(-(((rows - 48 - dr) / 40) ** 2 + ((cols - 48 - dc) / 30) ** 2))
        image = heart + 0.3 * body
        frames.append(rng.poisson(image / image.sum() * counts))
    return np.stack(frames)


@pytest.mark.parametrize("shift_px", [(0.0, 3.75), (2.5, -1.5), (-6.0, 0.0)])
def test_frame_displacements_recover_a_known_shift(shift_px):
    frames = _blob_frames([(0, 0)] * 4 + [shift_px] * 2, 150_000, 1)
    d = frame_displacements(frames, SPACING)
    expected_mm = np.array(shift_px) * 3.2
    assert np.allclose(d[:4], 0.0, atol=0.7)   # the usual position: the four still frames
    assert np.allclose(d[4:], expected_mm, atol=0.7)


def test_still_frames_are_not_motion():
    frames = _blob_frames([(0, 0)] * 6, 100_000, 2)
    d = frame_displacements(frames, SPACING)
    assert np.max(np.hypot(d[:, 0], d[:, 1])) < 1.5  # noise only, far below 6 mm


def test_reference_on_a_tie_is_the_earliest_position():
    """Half the frames in each position: the first position (that of the earlier views)."""
    frames = _blob_frames([(0, 0)] * 3 + [(0, 4)] * 3, 150_000, 3)
    d = frame_displacements(frames, SPACING)
    assert np.allclose(d[:3], 0.0, atol=0.7)
    assert np.allclose(d[3:, 1], 12.8, atol=0.7)


def test_realign_frames_moves_counts_back_and_invents_none():
    frame = np.zeros((10, 10), dtype=np.int64)
    frame[5, 5] = 7
    moved = np.roll(frame, (2, -3), axis=(0, 1))
    out = realign_frames(np.stack([frame, moved]), np.array([[0.0, 0.0], [2.2, -2.8]]))
    assert out[5, 5] == 14
    assert out.sum() == 14
    # a frame displaced down by one row goes back up: its top row leaves the matrix (lost,
    # not wrapped around)
    edge = np.zeros((10, 10), dtype=np.int64)
    edge[0, 0] = 5
    assert realign_frames(edge[None], np.array([[1.0, 0.0]])).sum() == 0
    assert realign_frames(edge[None], np.array([[-1.0, 0.0]]))[1, 0] == 5


def _framed(frames: np.ndarray, frame_ms: float = 50_000.0) -> DynamicSeries:
    acq = replace(acquisition(SeriesKind.DYNAMIC), pixel_spacing_mm=SPACING)
    return DynamicSeries.from_phases(acq, frames, [DynamicPhase(frame_ms, frames.shape[0])])


def test_framed_static_is_told_from_a_bolus_study():
    frames = _blob_frames([(0, 0)] * 3, 10_000, 4)
    assert _framed(frames).is_framed_static
    assert not _framed(frames, 50.0).is_framed_static
    assert FRAMED_STATIC_MIN_FRAME_MS == 5_000.0


def test_framed_static_view_sums_still_frames_as_acquired():
    frames = _blob_frames([(0, 0)] * 5, 80_000, 5)
    image, m = framed_static_view(_framed(frames))
    assert image.acquisition.kind is SeriesKind.STATIC
    assert image.frame_duration_ms == 250_000.0
    assert not m.moved
    assert not m.corrected
    assert np.array_equal(image.pixels, frames.sum(axis=0))


def test_framed_static_view_corrects_motion_unless_told_not_to():
    frames = _blob_frames([(0, 0)] * 4 + [(0, 5)] * 2, 150_000, 6)
    image, m = framed_static_view(_framed(frames))
    assert m.moved
    assert m.corrected
    assert m.moved_frames == [4, 5]
    assert m.max_displacement_mm == pytest.approx(16.0, abs=0.7)
    aligned = frames[:4].sum(axis=0) + np.roll(frames[4:].sum(axis=0), -5, axis=1)
    assert np.array_equal(image.pixels[:, :-5], aligned[:, :-5])
    _, kept = framed_static_view(_framed(frames), MotionParams(correct=False))
    assert kept.moved
    assert not kept.corrected


def test_framed_static_view_errors_name_the_problem():
    one = _framed(_blob_frames([(0, 0)], 10_000, 7))
    with pytest.raises(ValueError, match="one frame"):
        framed_static_view(one)
    blind = replace(one, acquisition=replace(one.acquisition, pixel_spacing_mm=None),
                    pixels=np.concatenate([one.pixels, one.pixels]),
                    phases=(DynamicPhase(50_000.0, 2),),
                    frame_start_ms=np.array([0.0, 50_000.0]),
                    frame_duration_ms=np.array([50_000.0, 50_000.0]))
    with pytest.raises(ValueError, match="pixel spacing unknown"):
        framed_static_view(blind)


def _study(folder: Path, seed: int, motion: tuple[PatientMotion, ...],
           frames: int = 6) -> tuple[Study, dict[str, Any]]:
    spec = replace(preset("normal-male"), gated_view=None, static_frames=frames, motion=motion)
    truth = simulate_study(spec, folder, seed=seed)
    (study,) = read_studies(folder).studies
    return study, truth


@pytest.fixture(scope="module")
def moved_lao(tmp_path_factory: pytest.TempPathFactory) -> tuple[Study, dict[str, Any]]:
    """A normal heart; the patient moves 25 mm to the right halfway through the LAO view."""
    return _study(tmp_path_factory.mktemp("moved"), 10,
                  (PatientMotion("LAO45", 0.5, (0.0, 25.0)),))


def test_simulated_motion_is_measured_in_its_view_only(moved_lao):
    study, truth = moved_lao
    assert truth["motion"][0]["shift_mm"] == [0.0, 25.0]
    assert truth["static_frames"] == 6
    assert len(study.framed_statics) == 3
    assert not study.dynamics
    assert not study.statics
    result = analyze_perfusion(study)
    assert result is not None
    views = {m["view"]: m for m in result.section["motion"]["views"]}
    assert views["LAO"]["moved"]
    assert views["LAO"]["corrected"]
    assert views["LAO"]["max_displacement_mm"] == pytest.approx(25.0, abs=1.0)
    assert views["LAO"]["moved_frames"] == [4, 5, 6]
    assert not views["ANT"]["moved"]
    assert not views["LLAT"]["moved"]
    assert views["ANT"]["max_displacement_mm"] < 1.5
    assert result.section["motion"]["not_assessed"] == []
    assert any(f.code == "PATIENT_MOTION" and "LAO" in f.message for f in result.findings)
    assert [a["view"] for a in result.section["artefacts"]
            if a["artefact"] == "patient motion"] == ["LAO"]


def test_motion_correction_removes_the_artefactual_defect(moved_lao):
    """Uncorrected, the two positions blur the LAO ring into a false defect; realigned, the
    normal heart reads normal."""
    study, _ = moved_lao
    corrected = analyze_perfusion(study)
    raw = analyze_perfusion(study, params=PerfusionParams(motion=MotionParams(correct=False)))
    assert corrected is not None
    assert raw is not None
    assert corrected.section["verdict"] == "normal"
    assert corrected.section["states"][0]["summed_score"] == 0
    assert raw.section["states"][0]["summed_score"] >= 3
    assert any(f.code == "PATIENT_MOTION_UNCORRECTED" for f in raw.findings)


def test_single_frame_views_say_motion_was_not_assessed(perfusion_cases):
    study, _ = perfusion_cases["normal"]
    result = analyze_perfusion(study)
    assert result is not None
    motion = result.section["motion"]
    assert motion["views"] == []
    assert len(motion["not_assessed"]) == 6
    assert "single-frame" in motion["not_assessed_reason"]
    # each view's LV ring, and how it was chosen, is in the result
    views = [v for st in result.section["states"] for v in st["views"]]
    assert {(v["lv_ring_rank"], v["lv_ring_score_ratio"]) for v in views} == {(0, 1.0)}


def test_framed_views_are_coded_as_perfusion_not_first_pass():
    series = [{"kind": "DYNAMIC", "framed_static": True, "state": State.STRESS_EXERCISE.value,
               "tracer": "Tc-99m sestamibi"},
              {"kind": "DYNAMIC", "framed_static": False, "state": State.REST.value,
               "tracer": "Tc-99m sestamibi"}]
    enc, _ = encounter_from_result({"series": series, "study": {"study_date": "2026-01-15"}})
    assert enc.mpi_states == (State.STRESS_EXERCISE,)
    assert enc.first_pass_states == (State.REST,)


def test_analyze_outputs_of_a_framed_study(moved_lao, tmp_path):
    """The whole pipeline: no first-pass attempt, perfusion coded 78453, the figure drawn
    from the realigned frames, the report naming the motion."""
    import datetime as dt
    import json

    from planarmpi.analysis.pipeline import analyze_study
    from planarmpi.report.outputs import write_study_outputs

    study, _ = moved_lao
    result = analyze_study(study)
    assert "first-pass" not in result.analyses_run
    assert not [f for f in result.findings if f.code.startswith("FIRST_PASS")]
    path, _ = write_study_outputs(study, result, tmp_path, clinical=None,
                                  clock=dt.datetime(2026, 11, 30, 9, 0))
    saved = json.loads(path.read_text())
    assert {s["framed_static"] for s in saved["series"]} == {True}
    assert [c["code"] for c in saved["coding"]["cpt"]] == ["78453"]
    assert (path.parent / "perfusion.png").stat().st_size > 10_000
    assert "the patient moved" in (path.parent / "report.txt").read_text()


def test_inspect_names_framed_views(tmp_path, capsys):
    from planarmpi.cli.main import main

    spec = replace(preset("normal-male"), gated_view=None, static_views=("ANT",),
                   static_frames=3, matrix=64, pixel_mm=6.4, counts_per_view=3e5)
    simulate_study(spec, tmp_path, seed=12)
    assert main(["inspect", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "FRAMED" in out
    assert "a static view acquired in time frames" in out
