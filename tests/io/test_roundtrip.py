"""Write all three NM kinds and read back identical arrays, times and views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factories import HEADER, PATIENT, interleaving, make_images
from planarmpi import read_file, read_studies, write_nm
from planarmpi.model import DynamicPhase, DynamicSeries, GatedSeries, SeriesKind, StaticImage


def _key(s: object) -> tuple[int, int, int]:
    a = s.acquisition  # type: ignore[attr-defined]
    return (a.energy_window.index, a.detector, getattr(s, "rr_interval", 1))


def _assert_same(written: list, read: list) -> None:
    assert len(read) == len(written)
    for w, r in zip(sorted(written, key=_key), sorted(read, key=_key), strict=True):
        np.testing.assert_array_equal(np.asarray(r.pixels), np.asarray(w.pixels))
        assert r.acquisition.view is w.acquisition.view
        assert r.acquisition.view_angle_deg == w.acquisition.view_angle_deg
        assert r.acquisition.state is w.acquisition.state
        assert r.acquisition.tracer is w.acquisition.tracer
        assert r.acquisition.energy_window.ranges_kev == w.acquisition.energy_window.ranges_kev
        assert r.acquisition.pixel_spacing_mm == w.acquisition.pixel_spacing_mm
        if isinstance(w, StaticImage):
            assert r.frame_duration_ms == w.frame_duration_ms
        if isinstance(w, GatedSeries):
            np.testing.assert_array_equal(r.frame_duration_ms, w.frame_duration_ms)
            assert r.gating == w.gating
        if isinstance(w, DynamicSeries):
            np.testing.assert_array_equal(r.frame_start_ms, w.frame_start_ms)
            np.testing.assert_array_equal(r.frame_duration_ms, w.frame_duration_ms)
            assert r.phases == w.phases


@pytest.mark.parametrize("kind", [SeriesKind.STATIC, SeriesKind.GATED, SeriesKind.DYNAMIC])
@pytest.mark.parametrize(("detectors", "windows"), [(1, 1), (3, 1), (2, 2)])
@pytest.mark.parametrize("order", ["canonical", "reversed", "shuffled"])
def test_roundtrip(tmp_path: Path, kind: SeriesKind, detectors: int, windows: int,
                   order: str) -> None:
    phases = [DynamicPhase(40.0, 5), DynamicPhase(100.0, 3, 500.0, 10.0)]
    images = make_images(kind, detectors=detectors, windows=windows, frames=8,
                         phases=phases if kind is SeriesKind.DYNAMIC else None)
    n = sum(1 if i.pixels.ndim == 2 else i.pixels.shape[0] for i in images)
    rng = np.random.default_rng(7)
    if kind is SeriesKind.DYNAMIC:
        # Only the order of (window, detector, phase) blocks is free for dynamic images.
        sizes = [p.number_of_frames for _ in images for p in phases]
        blocks = np.split(np.arange(n), np.cumsum(sizes)[:-1])
        frame_order = {
            "canonical": None,
            "reversed": np.concatenate(blocks[::-1]),
            "shuffled": np.asarray(interleaving(sizes, rng)),
        }[order]
    else:
        frame_order = {
            "canonical": None,
            "reversed": np.arange(n)[::-1],
            "shuffled": rng.permutation(n),
        }[order]
    path = tmp_path / "x.dcm"
    write_nm(path, images, patient=PATIENT, header=HEADER, frame_order=frame_order)
    series, findings = read_file(path)
    _assert_same(images, series)
    assert not [f for f in findings if f.code == "VIEW_UNKNOWN"]


def test_dynamic_frame_times_follow_phases(tmp_path: Path) -> None:
    phases = [DynamicPhase(50.0, 4), DynamicPhase(1000.0, 2, 2000.0, 250.0)]
    images = make_images(SeriesKind.DYNAMIC, phases=phases)
    write_nm(tmp_path / "d.dcm", images, patient=PATIENT, header=HEADER)
    (dyn,), _ = read_file(tmp_path / "d.dcm")
    # Phase 1: 0, 50, 100, 150; phase 2 starts 2000 ms after phase 1 ended (200 ms), then
    # 1000 ms frames separated by 250 ms pauses (PS3.3 C.8.4.14).
    np.testing.assert_array_equal(dyn.frame_start_ms, [0, 50, 100, 150, 2200, 3450])


def test_view_only_in_description_is_found(tmp_path: Path) -> None:
    images = make_images(SeriesKind.STATIC, detectors=1)
    write_nm(tmp_path / "s.dcm", images, patient=PATIENT, header=HEADER,
             view_encoding="description", series_description="REST ANT")
    (img,), _ = read_file(tmp_path / "s.dcm")
    assert img.acquisition.view.value == "ANT"
    assert img.acquisition.view_source == "SeriesDescription"


def test_view_nowhere_stays_unknown_and_says_so(tmp_path: Path) -> None:
    images = make_images(SeriesKind.STATIC, detectors=1)
    write_nm(tmp_path / "s.dcm", images, patient=PATIENT, header=HEADER,
             view_encoding="none", series_description="REST")
    (img,), findings = read_file(tmp_path / "s.dcm")
    assert img.acquisition.view.value == "UNKNOWN"
    assert any(f.code == "VIEW_UNKNOWN" and "s.dcm" in f.message for f in findings)


def test_study_over_nested_folders_and_odd_names(tmp_path: Path) -> None:
    for i, kind in enumerate((SeriesKind.STATIC, SeriesKind.GATED, SeriesKind.DYNAMIC)):
        folder = tmp_path / "a" / f"deep {i}" / "x"
        folder.mkdir(parents=True)
        write_nm(folder / f"IM{i:04d}", make_images(kind, seed=i), patient=PATIENT,
                 header=HEADER)
    outcome = read_studies(tmp_path)
    assert outcome.problems == ()
    (study,) = outcome.studies
    assert len(study.statics) == 1
    assert len(study.gated) == 1
    assert len(study.dynamics) == 1
    assert study.patient.sex is PATIENT.sex
    assert study.patient.age_years == pytest.approx(64.0)


def test_dynamic_writer_refuses_time_reversed_phase(tmp_path: Path) -> None:
    from planarmpi import WriterError

    images = make_images(SeriesKind.DYNAMIC, frames=4)
    with pytest.raises(WriterError, match="temporal order"):
        write_nm(tmp_path / "d.dcm", images, patient=PATIENT, header=HEADER,
                 frame_order=[3, 2, 1, 0])


def test_dynamic_timing_from_frame_time_vector(tmp_path: Path) -> None:
    """Cameras that write a Frame Time Vector instead of phases (as Weasis ignored)."""
    import pydicom

    images = make_images(SeriesKind.DYNAMIC, frames=5)
    write_nm(tmp_path / "d.dcm", images, patient=PATIENT, header=HEADER)
    ds = pydicom.dcmread(tmp_path / "d.dcm")
    del ds.PhaseInformationSequence
    del ds.PhaseVector
    ds.FrameIncrementPointer = [pydicom.tag.Tag("EnergyWindowVector"),
                                pydicom.tag.Tag("DetectorVector")]
    ds.FrameTimeVector = [0, 40, 40, 100, 100]
    ds.save_as(tmp_path / "ftv.dcm")
    (dyn,), _ = read_file(tmp_path / "ftv.dcm")
    np.testing.assert_array_equal(dyn.frame_start_ms, [0, 40, 80, 180, 280])
    np.testing.assert_array_equal(dyn.frame_duration_ms, [40, 40, 100, 100, 100])
