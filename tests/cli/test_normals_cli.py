"""``planarmpi normals build`` and ``analyze --normals`` on synthetic ring studies."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from factories import HEADER, PATIENT, acquisition, ring_image
from planarmpi import write_nm
from planarmpi.cli.main import main
from planarmpi.model import SeriesKind, Sex, State, StaticImage


def _study(folder: Path, seed: int, *, sex: Sex = Sex.FEMALE,
           defect: tuple[float, float, float] | None = None, peak: float = 1000.0) -> None:
    """One stress study: anterior, LAO and left lateral ring images in one 3-detector file."""
    rng = np.random.default_rng(seed)
    header = replace(HEADER, study_instance_uid=generate_uid())
    series_uid, sop_uid = generate_uid(), generate_uid()
    images = []
    for detector in (1, 2, 3):
        acq = replace(acquisition(SeriesKind.STATIC, detector, series_uid=series_uid,
                                  sop_uid=sop_uid, state=State.STRESS_EXERCISE),
                      study_instance_uid=header.study_instance_uid)
        expected = ring_image((64, 64), centre=(31.5 + rng.normal(0, 1), 32.5),
                              radii=(5.5, 4.5), tilt_deg=40.0 + 20 * detector, wall=1.6,
                              peak=peak, background=0.08 * peak, defect=defect)
        images.append(StaticImage(acq, rng.poisson(expected), 300000.0))
    folder.mkdir(parents=True)
    write_nm(folder / "stress.dcm", images, patient=replace(PATIENT, sex=sex), header=header)


@pytest.fixture(scope="module")
def normals_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("normals")
    for i in range(12):
        _study(root / f"n{i}", i)
    _study(root / "man", 99, sex=Sex.MALE)
    return root


def test_build_then_use_site_limits(normals_dir: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site-tc-F.json"
    code = main(["normals", "build", str(normals_dir), "--tracer", "tetrofosmin", "--sex", "F",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "from 12 studies (1 skipped)" in captured.out
    assert "patient sex M is not F" in captured.err
    doc = json.loads(out.read_text())
    assert doc["schema"] == "planarmpi/perfusion-normals@1"
    assert {(v["view"], v["state"]) for v in doc["views"]} == {
        ("ANT", "stress"), ("LAO", "stress"), ("LLAT", "stress")}
    assert all(v["n_studies"] == 12 for v in doc["views"])
    # The normals' LAO angle is kept: a patient's LAO view at another angle is not compared.
    assert {v["view"]: v.get("view_angle_range_deg") for v in doc["views"]} == {
        "ANT": None, "LAO": [45.0, 45.0], "LLAT": None}

    patient = tmp_path / "patient"
    _study(patient, 500, defect=(180.0, 100.0, 0.7))
    results = tmp_path / "results"
    assert main(["analyze", str(patient), "--out", str(results), "--normals", str(out)]) == 0
    (result_file,) = results.glob("*/result.json")
    perfusion = json.loads(result_file.read_text())["perfusion"]
    assert perfusion["limits"]["source"] == str(out)
    assert perfusion["verdict"] == "abnormal"
    assert (result_file.parent / "perfusion.png").stat().st_size > 10_000

    # The same normal pattern is normal against the limits it helped build.
    normal = tmp_path / "normal"
    _study(normal, 501)
    results2 = tmp_path / "results2"
    assert main(["analyze", str(normal), "--out", str(results2), "--normals", str(out)]) == 0
    (result_file,) = results2.glob("*/result.json")
    assert json.loads(result_file.read_text())["perfusion"]["verdict"] == "normal"


def test_site_limits_keep_their_normals_counting_noise_and_widen_for_fewer_counts(
        normals_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site.json"
    assert main(["normals", "build", str(normals_dir), "--tracer", "tetrofosmin", "--sex", "F",
                 "--out", str(out)]) == 0
    assert "counting noise 0.0" in capsys.readouterr().out
    assert all(len(v["noise_sd"]) == 60 for v in json.loads(out.read_text())["views"])

    def widening(peak: float, name: str) -> tuple[list[float], int]:
        _study(tmp_path / name, 600, peak=peak)
        results = tmp_path / f"results-{name}"
        assert main(["analyze", str(tmp_path / name), "--out", str(results),
                     "--normals", str(out)]) == 0
        (result_file,) = results.glob("*/result.json")
        doc = json.loads(result_file.read_text())
        views = doc["perfusion"]["states"][0]["views"]
        assert all(v["profile"]["noise_sd"] is not None for v in views)
        noted = sum(f["code"] == "PERFUSION_LIMITS_WIDENED_FOR_NOISE"
                    for f in doc["qc"]["findings"])
        return [v["noise_widening_percent"] for v in views], noted

    # As many counts as the normals: the limits as built; a quarter: the noise doubles, the
    # limits widen by it, and each view (widened by ≥ 10%) says so.
    same, noted_same = widening(1000.0, "same")
    fewer, noted_fewer = widening(250.0, "fewer")
    assert max(same) < 5.0
    assert noted_same == 0
    assert min(fewer) > 10.0
    assert noted_fewer == 3


def test_build_refuses_to_overwrite_and_too_few_studies(
        normals_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exists.json"
    out.write_text("{}")
    assert main(["normals", "build", str(normals_dir), "--tracer", "tc99m", "--sex", "F",
                 "--out", str(out)]) == 2
    assert "exists; give --force" in capsys.readouterr().err
    assert out.read_text() == "{}"
    assert main(["normals", "build", str(normals_dir / "n0"), str(normals_dir / "n1"),
                 "--tracer", "tc99m", "--sex", "F", "--out", str(tmp_path / "few.json")]) == 2
    err = capsys.readouterr().err
    assert "only 2 normal" in err
    assert "at least 10" in err
    assert not (tmp_path / "few.json").exists()


def test_bad_normals_file_is_named(tmp_path: Path, normals_dir: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert main(["analyze", str(normals_dir / "n0"), "--out", str(tmp_path / "r"),
                 "--normals", str(bad)]) == 2
    assert f"{bad}: not a usable normal-limits file" in capsys.readouterr().err


def test_build_with_tail_probability_widens_no_sd_below_the_plain_build(
        normals_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain, widened = tmp_path / "plain.json", tmp_path / "tail.json"
    args = ["normals", "build", str(normals_dir), "--tracer", "tc99m", "--sex", "F"]
    assert main([*args, "--out", str(plain)]) == 0
    assert main([*args, "--out", str(widened), "--tail-probability", "0.01"]) == 0
    a, b = json.loads(plain.read_text()), json.loads(widened.read_text())
    assert a["provenance"]["tail_probability"] is None
    assert b["provenance"]["tail_probability"] == 0.01
    for va, vb in zip(a["views"], b["views"], strict=True):
        assert va["sd_tail_scale"] == 1.0
        assert vb["sd_tail_scale"] >= 1.0
        np.testing.assert_allclose(vb["sd"], np.round(np.asarray(va["sd"]) * vb["sd_tail_scale"],
                                                      5), atol=2e-5)
    # 12 normals: limits built from 11 are wider for the 12th than the sample SD says.
    assert max(v["sd_tail_scale"] for v in b["views"]) > 1.0
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "bad.json"), "--tail-probability", "0.7"]) == 2
    assert "--tail-probability must be within (0, 0.5)" in capsys.readouterr().err


def test_perfusion_settings_change_the_verdict_and_are_recorded(
        normals_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    limits = tmp_path / "site.json"
    assert main(["normals", "build", str(normals_dir), "--tracer", "tetrofosmin", "--sex", "F",
                 "--out", str(limits)]) == 0
    patient = tmp_path / "patient"
    _study(patient, 500, defect=(180.0, 100.0, 0.7))  # abnormal with the built-in settings
    settings = tmp_path / "site-settings.yaml"
    settings.write_text("# our cut-offs\nabnormal_summed_score: 60\nequivocal_summed_score: 60\n"
                        "scoring:\n  sd_multiplier: 2.75\n")
    results = tmp_path / "results"
    assert main(["analyze", str(patient), "--out", str(results), "--normals", str(limits),
                 "--perfusion-settings", str(settings)]) == 0
    (result_file,) = results.glob("*/result.json")
    perfusion = json.loads(result_file.read_text())["perfusion"]
    assert perfusion["verdict"] == "normal"  # a summed score of 60 is never reached
    assert perfusion["settings"]["abnormal_summed_score"] == 60
    assert perfusion["settings"]["scoring"]["sd_multiplier"] == 2.75
    assert perfusion["params"]["sd_multiplier"] == 2.75

    bad = tmp_path / "bad-settings.yaml"
    bad.write_text("scoring:\n  sd_multipler: 3\n")
    out = tmp_path / "not-written"
    assert main(["analyze", str(patient), "--out", str(out), "--perfusion-settings",
                 str(bad)]) == 2
    assert f"{bad}: scoring.sd_multipler: unknown setting" in capsys.readouterr().err
    assert not out.exists()


def test_qc_settings_change_the_findings_and_are_recorded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A site's QC limits decide the counts-per-view finding, and result.json records
    the limits that judged it; a bad file stops the analysis before anything is written."""
    patient = tmp_path / "patient"
    _study(patient, 7)
    default = tmp_path / "default"
    assert main(["analyze", str(patient), "--out", str(default), "--no-report"]) == 0
    (doc,) = [json.loads(p.read_text()) for p in default.glob("*/result.json")]
    totals = [s["total_counts"] for s in doc["series"] if s.get("total_counts")]
    assert totals
    assert doc["qc"]["limits"]["min_view_counts_tc99m"] == 1.0e6
    low = [f for f in doc["qc"]["findings"] if f["code"] == "LOW_VIEW_COUNTS"]
    assert bool(low) == (min(totals) < 1.0e6)

    for factor, expect_low in ((0.5, False), (2.0, True)):
        limit = (min(totals) if factor < 1 else max(totals)) * factor
        settings = tmp_path / f"qc-{factor}.yaml"
        settings.write_text(f"min_view_counts_tc99m: {limit}\n")
        out = tmp_path / f"site-{factor}"
        assert main(["analyze", str(patient), "--out", str(out), "--no-report",
                     "--qc-settings", str(settings)]) == 0
        (site,) = [json.loads(p.read_text()) for p in out.glob("*/result.json")]
        assert site["qc"]["limits"]["min_view_counts_tc99m"] == pytest.approx(limit)
        assert site["qc"]["limits"]["min_lv_max_counts_per_pixel"] == 100.0
        low = [f for f in site["qc"]["findings"] if f["code"] == "LOW_VIEW_COUNTS"]
        assert bool(low) is expect_low
        if expect_low:
            assert f"{limit / 1e3:.0f} k recommended" in low[0]["message"]

    bad = tmp_path / "bad-qc.yaml"
    bad.write_text("min_view_counts_tc99m: -1\n")
    capsys.readouterr()
    out = tmp_path / "not-written"
    assert main(["analyze", str(patient), "--out", str(out), "--qc-settings", str(bad)]) == 2
    assert f"{bad}: QC limit min_view_counts_tc99m must be > 0" in capsys.readouterr().err
    assert not out.exists()


def _two_day(folder: Path, seed: int) -> None:
    """A normal imaged as a two-day protocol: a stress study and, two days earlier, a rest
    study (separate Study Instance UIDs) of one patient."""
    import datetime as dt

    rng = np.random.default_rng(seed)
    patient = replace(PATIENT, patient_id=f"N-{seed}")
    for state, days in ((State.STRESS_EXERCISE, 0), (State.REST, -2)):
        header = replace(HEADER, study_instance_uid=generate_uid(),
                         study_date=HEADER.study_date + dt.timedelta(days=days))
        series_uid, sop_uid = generate_uid(), generate_uid()
        images = []
        for detector in (1, 2, 3):
            acq = replace(acquisition(SeriesKind.STATIC, detector, series_uid=series_uid,
                                      sop_uid=sop_uid, state=state),
                          study_instance_uid=header.study_instance_uid)
            expected = ring_image((64, 64), centre=(31.5 + rng.normal(0, 1), 32.5),
                                  radii=(5.5, 4.5), tilt_deg=40.0 + 20 * detector, wall=1.6,
                                  peak=1000.0, background=80.0)
            images.append(StaticImage(acq, rng.poisson(expected), 300000.0))
        folder.mkdir(parents=True, exist_ok=True)
        write_nm(folder / f"{state.value}.dcm", images, patient=patient, header=header)


def test_two_day_normals_give_paired_limits_when_combined(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "two-day"
    for i in range(6):
        _two_day(root / f"n{i}", 300 + i)
    states = {}
    for flag in ([], ["--combine-studies"]):
        out = tmp_path / f"limits{len(flag)}.json"
        assert main(["normals", "build", str(root), "--tracer", "tetrofosmin", "--sex", "F",
                     "--min-studies", "5", "--out", str(out), *flag]) == 0, \
            capsys.readouterr().err
        doc = json.loads(out.read_text())
        states[bool(flag)] = {(v["view"], v["state"]): v["n_studies"] for v in doc["views"]}
    # Read apart, the stress and rest studies give each state's limits but no pairs.
    assert states[False] == {(v, s): 6 for v in ("ANT", "LAO", "LLAT")
                             for s in ("stress", "rest")}
    # Combined, each normal's two studies are one: the paired stress − rest limits too.
    assert states[True] == {(v, s): 6 for v in ("ANT", "LAO", "LLAT")
                            for s in ("stress", "rest", "stress-rest")}
    # Pairs further apart than the bound are used apart, and the run says why.
    capsys.readouterr()
    assert main(["normals", "build", str(root), "--tracer", "tetrofosmin", "--sex", "F",
                 "--min-studies", "5", "--out", str(tmp_path / "apart.json"),
                 "--combine-studies", "--combine-max-days", "1"]) == 1
    assert "not combined, 2 days apart (more than 1)" in capsys.readouterr().err
    doc = json.loads((tmp_path / "apart.json").read_text())
    assert {v["state"] for v in doc["views"]} == {"stress", "rest"}
