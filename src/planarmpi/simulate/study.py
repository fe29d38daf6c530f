"""Simulate a whole planar study and write it as DICOM NM with a ``truth.json``."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.uid import NuclearMedicineImageStorage, generate_uid

from planarmpi._version import __version__
from planarmpi.io.writer import ViewEncoding, write_nm
from planarmpi.model import (
    Acquisition,
    EnergyWindow,
    GatedSeries,
    GatingInfo,
    Patient,
    Radiopharmaceutical,
    SeriesKind,
    Sex,
    State,
    StaticImage,
    StudyHeader,
    Tracer,
    View,
)
from planarmpi.simulate.camera import add_noise, project
from planarmpi.simulate.phantom import Anatomy, Defect, build_volumes, lv_volume_curve

__all__ = ["SimulationSpec", "simulate_study"]

_VIEWS: dict[str, tuple[View, float, float]] = {
    # name → (view, camera angle from anterior towards the left, view angle to record)
    "ANT": (View.ANTERIOR, 0.0, 0.0),
    "LAO45": (View.LAO, 45.0, 45.0),
    "LLAT": (View.LEFT_LATERAL, 90.0, 90.0),
}


@dataclass(frozen=True, slots=True)
class SimulationSpec:
    """What to simulate.

    Attributes
    ----------
    name : str
        Preset name, recorded in truth.json.
    sex : Sex
    anatomy : Anatomy
    tracer : Tracer
    states : tuple of State
        One study per state (rest, stress, ...).
    static_views : tuple of str
        Names from ``ANT``, ``LAO45``, ``LLAT``; empty for a blood-pool study.
    gated_view : str or None
        The gated view (LAO45 for blood pool), None for none.
    defects : tuple of Defect
    counts_per_view : float
        Expected total counts of each static view (and of each gated view, summed).
    matrix, pixel_mm : int, float
    time_slots : int
    view_encoding : {"code", "description", "none"}
    """

    name: str = "custom"
    sex: Sex = Sex.MALE
    anatomy: Anatomy = field(default_factory=Anatomy)
    tracer: Tracer = Tracer.TC99M_SESTAMIBI
    states: tuple[State, ...] = (State.STRESS_EXERCISE,)
    static_views: tuple[str, ...] = ("ANT", "LAO45", "LLAT")
    gated_view: str | None = "LAO45"
    defects: tuple[Defect, ...] = ()
    counts_per_view: float = 1.2e6
    matrix: int = 128
    pixel_mm: float = 3.2
    time_slots: int = 16
    view_encoding: ViewEncoding = "code"

    def __post_init__(self) -> None:
        for v in (*self.static_views, *([self.gated_view] if self.gated_view else [])):
            if v not in _VIEWS:
                raise ValueError(f"unknown view {v!r}; choose from {', '.join(_VIEWS)}")
        if not 16 <= self.matrix <= 256:
            raise ValueError(f"matrix must be within 16–256, got {self.matrix}")
        if self.counts_per_view <= 0:
            raise ValueError("counts_per_view must be > 0")
        if self.time_slots not in (8, 12, 16, 24, 32):
            raise ValueError(f"time slots must be 8, 12, 16, 24 or 32, got {self.time_slots}")


def _uid(seed: int, *parts: object) -> str:
    return generate_uid(entropy_srcs=["planarmpi-sim", str(seed), *map(str, parts)])


def _grid(spec: SimulationSpec) -> tuple[float, tuple[int, int, int]]:
    voxel = spec.pixel_mm / 2 if spec.pixel_mm > 5 else spec.pixel_mm
    n = round(spec.matrix * spec.pixel_mm / voxel)
    depth = round(280.0 / voxel)
    return voxel, (n, depth, n)


def _to_matrix(image: np.ndarray, spec: SimulationSpec, voxel: float) -> np.ndarray:
    f = round(spec.pixel_mm / voxel)
    if f == 1:
        return image
    n = spec.matrix
    return image[: n * f, : n * f].reshape(n, f, n, f).sum(axis=(1, 3))


def simulate_study(
    spec: SimulationSpec,
    out_dir: str | os.PathLike[str],
    *,
    seed: int = 0,
    study_date: dt.date = dt.date(2026, 1, 15),
) -> dict[str, Any]:
    """Simulate ``spec``, write its DICOM files and ``truth.json`` into ``out_dir``.

    Deterministic for a given ``seed`` (pixels, UIDs and truth).

    Returns
    -------
    dict
        The truth document also written to ``truth.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    voxel, shape = _grid(spec)
    header = StudyHeader(
        study_instance_uid=_uid(seed, spec.name, "study"),
        study_date=study_date,
        study_time=dt.time(9, 0),
        description="MYOCARDIAL PERFUSION PLANAR" if spec.tracer is not Tracer.TC99M_RED_CELLS
        else "GATED BLOOD POOL",
        accession_number=f"SIM{seed:06d}",
        study_id=str(seed % 100000),
    )
    patient = Patient(
        patient_id=f"SIM-{seed:06d}",
        name=f"PHANTOM^{spec.name.upper().replace('-', '_')}",
        sex=spec.sex,
        birth_date=dt.date(study_date.year - 62, 3, 1),
        age_years=62.0,
        weight_kg=82.0 if spec.sex is Sex.MALE else 68.0,
        height_m=1.76 if spec.sex is Sex.MALE else 1.63,
    )
    window = EnergyWindow(1, ((126.0, 154.0),) if spec.tracer is not Tracer.TL201
                          else ((62.0, 86.0),), "PHOTOPEAK")
    dose = 1110.0 if spec.tracer.is_technetium else 148.0
    files: list[str] = []
    series_number = 0
    cycle_ms = 60000.0 / spec.anatomy.heart_rate_bpm
    for s_index, state in enumerate(spec.states):
        rest = state in (State.REST, State.REDISTRIBUTION, State.REINJECTION)
        injection = dt.datetime.combine(study_date, dt.time(8 + 3 * s_index, 0))
        pharm = Radiopharmaceutical(spec.tracer, spec.tracer.value, dose, injection)
        ed = build_volumes(spec.anatomy, spec.tracer, cycle_phase=0.0, defects=spec.defects,
                           rest=rest, voxel_mm=voxel, shape_zyx=shape)
        for view_name in spec.static_views:
            view, camera_deg, recorded = _VIEWS[view_name]
            # A static view averages the cycle: project ED and ES and mix (diastole-weighted).
            expected = _cycle_average(spec, rest, voxel, shape, camera_deg, ed)
            series_number += 1
            acq = _acquisition(header, seed, state, view, recorded, pharm, window, spec,
                               SeriesKind.STATIC, series_number, injection)
            counts = add_noise(_to_matrix(expected, spec, voxel), spec.counts_per_view, rng)
            image = StaticImage(acq, counts, frame_duration_ms=300000.0)
            path = out / f"{state.value}_{view_name}_static.dcm"
            write_nm(path, [image], patient=patient, header=header,
                     view_encoding=spec.view_encoding)
            files.append(path.name)
        if spec.gated_view:
            view, camera_deg, recorded = _VIEWS[spec.gated_view]
            n = spec.time_slots
            frames = []
            for t in range(n):
                vol = build_volumes(spec.anatomy, spec.tracer, cycle_phase=(t + 0.5) / n,
                                    defects=spec.defects, rest=rest, voxel_mm=voxel,
                                    shape_zyx=shape)
                frames.append(_to_matrix(project(vol.activity, vol.mu_per_mm, voxel,
                                                 camera_deg, tracer=spec.tracer), spec, voxel))
            expected_stack = np.stack(frames)
            counts = add_noise(expected_stack, spec.counts_per_view, rng)
            series_number += 1
            acq = _acquisition(header, seed, state, view, recorded, pharm, window, spec,
                               SeriesKind.GATED, series_number, injection)
            slot_ms = round(cycle_ms / n)
            beats = int(300000 / cycle_ms)
            gating = GatingInfo(
                nominal_interval_ms=round(cycle_ms), low_rr_ms=round(cycle_ms * 0.8),
                high_rr_ms=round(cycle_ms * 1.2), intervals_acquired=beats,
                intervals_rejected=0, heart_rate_bpm=round(spec.anatomy.heart_rate_bpm),
                framing_type="FORW", trigger_time_ms=0.0, beat_rejection=True,
            )
            gated = GatedSeries(acq, counts, np.full(n, float(slot_ms)), gating)
            path = out / f"{state.value}_{spec.gated_view}_gated.dcm"
            write_nm(path, [gated], patient=patient, header=header,
                     view_encoding=spec.view_encoding)
            files.append(path.name)

    es_phase = 0.35
    curve = lv_volume_curve(np.array([0.0, es_phase]), spec.anatomy.edv_ml,
                            spec.anatomy.lvef_percent)
    es_vol = build_volumes(spec.anatomy, spec.tracer, cycle_phase=es_phase, voxel_mm=voxel,
                           shape_zyx=shape)
    ed_vol = build_volumes(spec.anatomy, spec.tracer, cycle_phase=0.0, voxel_mm=voxel,
                           shape_zyx=shape)
    truth: dict[str, Any] = {
        "schema": "planarmpi/truth@1",
        "generator": {"name": "planarmpi", "version": __version__, "seed": seed},
        "preset": spec.name,
        "study_instance_uid": header.study_instance_uid,
        "tracer": spec.tracer.value,
        "sex": spec.sex.value,
        "states": [s.value for s in spec.states],
        "files": files,
        "lv": {
            "edv_ml": float(curve[0]),
            "esv_ml": float(curve[1]),
            "lvef_percent": spec.anatomy.lvef_percent,
            "voxelised_edv_ml": ed_vol.lv_cavity_ml,
            "voxelised_esv_ml": es_vol.lv_cavity_ml,
            "voxelised_lvef_percent": 100 * (ed_vol.lv_cavity_ml - es_vol.lv_cavity_ml)
            / ed_vol.lv_cavity_ml,
            "myocardium_ml": ed_vol.lv_myocardium_ml,
            "heart_rate_bpm": spec.anatomy.heart_rate_bpm,
            "end_systole_phase": es_phase,
        },
        "defects": [asdict(d) for d in spec.defects],
        "wall_motion": {t: m for t, m in spec.anatomy.wall_motion.items()},
        "anatomy": asdict(spec.anatomy),
        "camera": {"matrix": spec.matrix, "pixel_mm": spec.pixel_mm,
                   "counts_per_view": spec.counts_per_view, "time_slots": spec.time_slots},
        "expected_cpt": ["78454"] if len(spec.states) > 1 else (
            ["78472"] if spec.tracer is Tracer.TC99M_RED_CELLS else ["78453"]),
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth


def _cycle_average(spec: SimulationSpec, rest: bool, voxel: float, shape: tuple[int, int, int],
                   camera_deg: float, ed: Any) -> np.ndarray:
    es = build_volumes(spec.anatomy, spec.tracer, cycle_phase=0.35, defects=spec.defects,
                       rest=rest, voxel_mm=voxel, shape_zyx=shape)
    p_ed = project(ed.activity, ed.mu_per_mm, voxel, camera_deg, tracer=spec.tracer)
    p_es = project(es.activity, es.mu_per_mm, voxel, camera_deg, tracer=spec.tracer)
    return 0.65 * p_ed + 0.35 * p_es


def _acquisition(header: StudyHeader, seed: int, state: State, view: View, angle: float,
                 pharm: Radiopharmaceutical, window: EnergyWindow, spec: SimulationSpec,
                 kind: SeriesKind, series_number: int, injection: dt.datetime) -> Acquisition:
    return Acquisition(
        study_instance_uid=header.study_instance_uid,
        series_instance_uid=_uid(seed, spec.name, "series", series_number),
        sop_instance_uid=_uid(seed, spec.name, "sop", series_number),
        sop_class_uid=NuclearMedicineImageStorage,
        kind=kind,
        view=view,
        view_angle_deg=angle if view is View.LAO else None,
        state=state,
        radiopharmaceutical=pharm,
        energy_window=window,
        pixel_spacing_mm=(spec.pixel_mm, spec.pixel_mm),
        series_number=series_number,
        acquisition_datetime=injection + dt.timedelta(minutes=45 + 10 * series_number),
        manufacturer="planarmpi",
    )

