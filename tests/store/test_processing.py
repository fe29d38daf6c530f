"""A stored study is analysed with the site's settings (normal limits, perfusion settings)."""

from __future__ import annotations

import argparse
import re

import pytest

from factories import HEADER, PATIENT, make_images
from planarmpi.analysis.perfusion.normals import builtin_limits, write_limits
from planarmpi.analysis.perfusion.study import PerfusionParams
from planarmpi.analysis.pipeline import AnalysisOptions
from planarmpi.cli.serve_cmd import analysis_options, resolve_settings
from planarmpi.errors import InvalidInputError
from planarmpi.model import SeriesKind
from planarmpi.store import Archive
from planarmpi.store.processing import process_study


def test_process_study_passes_the_site_options_with_the_users_rois(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import planarmpi.analysis.pipeline as pipeline
    from planarmpi.io.writer import write_nm

    path = tmp_path / "static.dcm"
    write_nm(path, make_images(SeriesKind.STATIC, seed=1), patient=PATIENT, header=HEADER)
    archive = Archive(tmp_path / "data")
    uid = archive.store(path.read_bytes(), "test").study_instance_uid
    seen = []

    def analyze(study, options):
        seen.append(options)
        raise RuntimeError("stop here")

    monkeypatch.setattr(pipeline, "analyze_study", analyze)
    site = AnalysisOptions(perfusion=PerfusionParams(abnormal_summed_score=5))
    assert process_study(archive, uid, options=site).status == "failed"
    assert process_study(archive, uid).status == "failed"
    assert seen[0].perfusion.abnormal_summed_score == 5
    assert seen[0].manual_rois == {}
    assert seen[1].perfusion == PerfusionParams()


def _settings(tmp_path, **given: str) -> dict:
    args = argparse.Namespace(config=None, **given)
    return resolve_settings(args, environ={})


def test_serve_reads_a_folder_of_limits_and_a_settings_file(tmp_path) -> None:
    folder = tmp_path / "limits"
    folder.mkdir()
    for limits in builtin_limits()[:2]:
        write_limits(limits, folder / f"{limits.tracer_group}-{limits.sex.value}.json")
    settings = tmp_path / "site.yaml"
    settings.write_text("scoring:\n  sd_multiplier: 3\n")
    qc = tmp_path / "qc.yaml"
    qc.write_text("min_lv_max_counts_per_pixel: 80\n")
    options = analysis_options(_settings(tmp_path, normals=str(folder),
                                         perfusion_settings=str(settings), qc_settings=str(qc)))
    assert options.qc.min_lv_max_counts_per_pixel == 80.0
    assert [(x.tracer_group, x.sex) for x in options.normal_limits] == [
        (x.tracer_group, x.sex) for x in sorted(builtin_limits()[:2],
                                                key=lambda x: f"{x.tracer_group}-{x.sex.value}")]
    assert options.perfusion.scoring.sd_multiplier == 3.0
    assert analysis_options(_settings(tmp_path)) == AnalysisOptions()


def test_serve_folder_may_hold_wall_motion_normals_beside_limits(tmp_path) -> None:
    from dataclasses import replace

    from planarmpi.analysis.motion_normals import (
        MotionMethod,
        builtin_wall_motion_normals,
        write_wall_motion_normals,
    )

    folder = tmp_path / "normals"
    folder.mkdir()
    limits = builtin_limits()[0]
    write_limits(limits, folder / "limits.json")
    site = builtin_wall_motion_normals(MotionMethod.GATED_PERFUSION)
    site = replace(site, name="our gated normals", segments={
        k: replace(v, mean_percent=v.mean_percent + 5.0) for k, v in site.segments.items()})
    write_wall_motion_normals(site, folder / "wm.json")
    options = analysis_options(_settings(tmp_path, normals=str(folder)))
    assert [x.name for x in options.normal_limits] == [limits.name]
    wall = options.gated_perfusion.wall_motion
    assert wall.normals_source["name"] == "our gated normals"
    assert wall.normals_source["path"] == str(folder / "wm.json")
    assert wall.normals == site.mean_sd()
    assert wall.normals_noise == site.noise()
    assert options.blood_pool == AnalysisOptions().blood_pool  # the other method's built-in


@pytest.mark.parametrize(("make", "message"), [
    (lambda t: {"normals": str(t / "nowhere")}, "no such normal-limits file or folder"),
    (lambda t: {"normals": str(t)}, "no normals files (*.json) in the folder"),
    (lambda t: {"perfusion_settings": str(t / "missing.yaml")}, "cannot be read"),
    (lambda t: {"qc_settings": str(t / "missing-qc.yaml")}, "missing-qc.yaml: cannot be read"),
])
def test_serve_refuses_bad_site_files_before_starting(tmp_path, make, message) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        analysis_options(_settings(tmp_path, **make(tmp_path)))
