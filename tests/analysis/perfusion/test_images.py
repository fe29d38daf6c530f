"""One image per view and state (analysis/perfusion/images.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

from factories import acquisition, static_perfusion_study
from planarmpi import read_studies
from planarmpi.analysis.perfusion.images import is_photopeak_window, one_image_per_view
from planarmpi.analysis.perfusion.study import analyze_perfusion
from planarmpi.model import EnergyWindow, Level, SeriesKind, State, StaticImage, Tracer, View
from planarmpi.simulate.phantom import Defect

T0 = dt.datetime(2026, 1, 2, 9, 0)
TL_XRAY = EnergyWindow(1, ((62.0, 86.0),), "TL70")
TL_167 = EnergyWindow(2, ((150.0, 184.0),), "TL167")
TC_PEAK = EnergyWindow(1, ((126.0, 154.0),), "TC")
TC_SCATTER = EnergyWindow(2, ((108.0, 124.0),), "SC")


def _image(view: View, *, window: EnergyWindow, tracer: Tracer = Tracer.TL201,
           state: State = State.STRESS_EXERCISE, when: dt.datetime | None = T0,
           sop: str | None = None, series_number: int = 1, value: float = 10.0
           ) -> StaticImage:
    acq = replace(acquisition(SeriesKind.STATIC, tracer=tracer, state=state,
                              series_uid=generate_uid(), sop_uid=sop or generate_uid()),
                  view=view, view_angle_deg=45.0 if view is View.LAO else None,
                  energy_window=window, acquisition_datetime=when,
                  series_number=series_number)
    return StaticImage(acq, np.full((8, 8), value))


def test_photopeak_windows_per_tracer():
    assert is_photopeak_window(TL_XRAY, Tracer.TL201)
    assert is_photopeak_window(TL_167, Tracer.TL201)
    assert not is_photopeak_window(TL_XRAY, Tracer.TC99M_SESTAMIBI)
    assert is_photopeak_window(TC_PEAK, Tracer.TC99M_TETROFOSMIN)
    assert not is_photopeak_window(TC_SCATTER, Tracer.TC99M_TETROFOSMIN)
    assert is_photopeak_window(EnergyWindow(1), Tracer.TL201) is None  # ranges unknown


def test_windows_of_one_acquisition_are_summed_and_said_so():
    sop = generate_uid()
    xray = _image(View.ANTERIOR, window=TL_XRAY, sop=sop, value=30.0)
    gamma = _image(View.ANTERIOR, window=TL_167, sop=sop, value=8.0)  # frames of one instance
    lao = _image(View.LAO, window=TL_XRAY, value=5.0)
    out, findings = one_image_per_view([xray, lao, gamma])
    assert [im.acquisition.view for im in out] == [View.ANTERIOR, View.LAO]
    assert np.all(out[0].pixels == 38.0)
    assert out[0].acquisition.energy_window.ranges_kev == ((62.0, 86.0), (150.0, 184.0))
    assert out[0].acquisition.sop_instance_uid == sop
    assert out[1] is lao
    assert [f.code for f in findings] == ["PERFUSION_WINDOWS_SUMMED"]
    assert "62–86 keV" in findings[0].message
    assert "150–184 keV" in findings[0].message
    # Separate series of one acquisition: the same acquisition date and time.
    out, findings = one_image_per_view([_image(View.ANTERIOR, window=TL_XRAY, value=30.0),
                                        _image(View.ANTERIOR, window=TL_167, value=8.0)])
    assert len(out) == 1
    assert np.all(out[0].pixels == 38.0)
    # Two states of one view are two views to analyse, not windows.
    rest = _image(View.ANTERIOR, window=TL_167, state=State.REDISTRIBUTION)
    out, findings = one_image_per_view([xray, rest])
    assert out == [xray, rest]
    assert findings == []


def test_a_scatter_window_is_left_out_not_summed():
    peak = _image(View.LEFT_LATERAL, window=TC_PEAK, tracer=Tracer.TC99M_SESTAMIBI, value=50)
    scatter = _image(View.LEFT_LATERAL, window=TC_SCATTER, tracer=Tracer.TC99M_SESTAMIBI,
                     value=20)
    out, findings = one_image_per_view([scatter, peak])
    assert out == [peak]
    assert [(f.code, f.level) for f in findings] == [("PERFUSION_WINDOW_NOT_PHOTOPEAK",
                                                      Level.INFO)]
    assert "108–124 keV" in findings[0].message


def test_a_repeated_view_analyses_the_last_acquisition_and_warns():
    first = _image(View.LAO, window=TL_XRAY, when=T0, series_number=2)
    repeat = _image(View.LAO, window=TL_XRAY, when=T0 + dt.timedelta(minutes=12),
                    series_number=7)
    out, findings = one_image_per_view([repeat, first])
    assert out == [repeat]
    assert [(f.code, f.level) for f in findings] == [("PERFUSION_VIEW_REPEATED", Level.WARN)]
    assert first.acquisition.display_name in findings[0].message
    # Two detectors of one instance labelled with one view: not summed; detector 1 taken.
    sop = generate_uid()
    head1 = _image(View.ANTERIOR, window=TL_XRAY, sop=sop, value=3.0)
    head2 = StaticImage(replace(head1.acquisition, detector=2), np.full((8, 8), 4.0))
    out, findings = one_image_per_view([head1, head2])
    assert out == [head1]
    assert [f.code for f in findings] == ["PERFUSION_VIEW_REPEATED"]
    # Two states not recorded: said so, not taken for a repeat without a word.
    early = _image(View.LAO, window=TL_XRAY, when=T0, state=State.UNKNOWN)
    late = _image(View.LAO, window=TL_XRAY, when=T0 + dt.timedelta(hours=3),
                  state=State.UNKNOWN)
    out, findings = one_image_per_view([early, late])
    assert out == [late]
    assert "state (stress or rest) is not recorded" in findings[0].message
    # Without acquisition times: by series number.
    a = _image(View.LAO, window=TL_XRAY, when=None, series_number=9)
    b = _image(View.LAO, window=TL_XRAY, when=None, series_number=4)
    assert one_image_per_view([a, b])[0] == [a]


def test_a_tl201_study_stored_one_series_per_window_is_scored_once(tmp_path: Path) -> None:
    """Each view of a simulated Tl-201 stress/redistribution study written again as a
    second series holding its 167 keV window (a quarter of the counts, the same
    acquisition time): 15 segments per state, not 30, each view's windows summed."""
    study = static_perfusion_study(tmp_path / "one", "lad-ischemia-high-lung", 62)
    single = analyze_perfusion(study)
    assert single is not None
    folder = tmp_path / "two"
    shutil.copytree(tmp_path / "one", folder)
    rng = np.random.default_rng(3)
    for path in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID = generate_uid()
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        window = ds.EnergyWindowInformationSequence[0]
        window.EnergyWindowRangeSequence[0].EnergyWindowLowerLimit = 150.0
        window.EnergyWindowRangeSequence[0].EnergyWindowUpperLimit = 184.0
        ds.PixelData = rng.poisson(ds.pixel_array * 0.25).astype(ds.pixel_array.dtype).tobytes()
        ds.SeriesNumber = int(ds.SeriesNumber) + 100
        ds.save_as(path.with_name(path.stem + "_167.dcm"))
    (both,) = read_studies(folder).studies
    assert len(both.statics) == 2 * len(study.statics)
    result = analyze_perfusion(both)
    assert result is not None
    for state in result.section["states"]:
        assert state["segments_scored"] == 15
        assert sorted(v["view"] for v in state["views"]) == ["ANT", "LAO", "LLAT"]
    summed = [f for f in result.findings if f.code == "PERFUSION_WINDOWS_SUMMED"]
    assert len(summed) == len(study.statics)
    # More counts, the same patient: the LAD ischaemia is still found.
    assert single.section["verdict"] == "abnormal"
    assert result.section["verdict"] == "abnormal"
    assert "LAD" in result.section["territories"]


def _one_study_of(folders: list[Path], into: Path) -> None:
    """The files of several simulated studies of one patient rewritten as one study (the
    first one's Study Instance UID, patient and date), as a dual-isotope protocol stores
    its rest and stress images."""
    into.mkdir()
    first = pydicom.dcmread(sorted(folders[0].glob("*.dcm"))[0])
    for folder in folders:
        for path in sorted(folder.glob("*.dcm")):
            ds = pydicom.dcmread(path)
            for keyword in ("StudyInstanceUID", "PatientID", "PatientName", "PatientBirthDate",
                            "StudyDate", "AccessionNumber"):
                if keyword in first:
                    setattr(ds, keyword, getattr(first, keyword))
            ds.save_as(into / f"{folder.name}_{path.name}")


def test_a_dual_isotope_study_scores_each_state_against_its_own_tracer(tmp_path: Path) -> None:
    """Rest Tl-201 and stress Tc-99m sestamibi of one simulated patient with a reversible
    LAD defect: the rest views are scored against the Tl-201 limits, and the paired
    difference, TID and washout — count-for-count comparisons of one tracer's images — are
    not measured (before 2026-12-03 the rest views met the Tc-99m limits, and the paired
    difference compared a Tl-201 image with a Tc-99m one)."""
    defect = (Defect("LAD", 0.6, 1.0, reversible=True),)
    static_perfusion_study(tmp_path / "stress", "normal-male", 63, defects=defect,
                           tracer=Tracer.TC99M_SESTAMIBI, states=(State.STRESS_EXERCISE,))
    static_perfusion_study(tmp_path / "rest", "normal-male", 64, defects=defect,
                           tracer=Tracer.TL201, counts_per_view=7.0e5,
                           states=(State.REST,))
    _one_study_of([tmp_path / "stress", tmp_path / "rest"], tmp_path / "dual")
    (study,) = read_studies(tmp_path / "dual").studies
    result = analyze_perfusion(study)
    assert result is not None
    section = result.section
    assert "tc99m" in section["limits"]["name"]
    assert "tl201" in section["rest_limits"]["name"]
    dual = [f for f in result.findings if f.code == "DUAL_ISOTOPE"]
    assert len(dual) == 1
    assert dual[0].level is Level.WARN
    assert "Tl-201" in dual[0].message
    rev = section["reversibility"]
    assert rev["paired_difference"] is None
    assert rev["tid"]["ratio"] is None
    assert "dual isotope" in rev["tid"]["problem"]
    assert rev["washout"] is None
    # The lung/heart ratio of each state against its own tracer's limit.
    limits = {m["state"]: m["upper_limit"] for m in section["lung_heart_ratio"]}
    assert limits == {"stress-exercise": 0.42, "rest": 0.50}
    # The LAD ischaemia: abnormal at stress, normal (Tl-201 limits) at rest.
    assert section["verdict"] == "abnormal"
    assert "LAD" in section["territories"]
    scores = {s["state"]: s["summed_score"] for s in section["states"]}
    assert scores["stress-exercise"] >= 3
    assert scores["rest"] < 3
    assert rev["territories"].get("LAD") == "ischemia"


def test_one_instance_holding_two_windows_is_one_view_for_qc_and_perfusion(tmp_path: Path
                                                                         ) -> None:
    """Each view of a simulated Tl-201 study rewritten as one instance of two frames, its
    70 keV window and a 167 keV window (Energy Window Vector 1, 2): the reader gives two
    images per view; the perfusion analysis sums them, and QC judges the counts of the
    sum — the 167 keV window alone (a quarter of the counts) is not a low-count view."""
    import copy

    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.tag import Tag

    from planarmpi.analysis.summary import summarize_series
    from planarmpi.qc import check_study

    static_perfusion_study(tmp_path, "lad-ischemia-high-lung", 65)
    rng = np.random.default_rng(4)
    for path in sorted(tmp_path.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        first = ds.pixel_array
        gamma = rng.poisson(first * 0.25).astype(first.dtype)
        ds.NumberOfFrames = 2
        ds.FrameIncrementPointer = [Tag(0x0054, 0x0010), Tag(0x0054, 0x0020)]
        ds.EnergyWindowVector, ds.DetectorVector, ds.NumberOfEnergyWindows = [1, 2], [1, 1], 2
        window = copy.deepcopy(ds.EnergyWindowInformationSequence[0])
        window.EnergyWindowRangeSequence[0].EnergyWindowLowerLimit = 150.0
        window.EnergyWindowRangeSequence[0].EnergyWindowUpperLimit = 184.0
        ds.EnergyWindowInformationSequence = DicomSequence(
            [ds.EnergyWindowInformationSequence[0], window])
        ds.PixelData = np.stack([first, gamma]).tobytes()
        ds.save_as(path)
    (study,) = read_studies(tmp_path).studies
    assert len(study.statics) == 12
    codes = [f.code for f in check_study(study, [summarize_series(s) for s in study.series])]
    assert "LOW_VIEW_COUNTS" not in codes
    result = analyze_perfusion(study)
    assert result is not None
    assert [s["segments_scored"] for s in result.section["states"]] == [15, 15]
    assert sum(f.code == "PERFUSION_WINDOWS_SUMMED" for f in result.findings) == 6
