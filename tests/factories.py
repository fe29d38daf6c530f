"""Builders of small, valid NM series for tests (written with the project's writers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.uid import NuclearMedicineImageStorage, generate_uid
from scipy import ndimage

from planarmpi.model import (
    Acquisition,
    DynamicPhase,
    DynamicSeries,
    EnergyWindow,
    GatedSeries,
    GatingInfo,
    Patient,
    Radiopharmaceutical,
    SeriesKind,
    Sex,
    State,
    StaticImage,
    Study,
    StudyHeader,
    Tracer,
    View,
)
from planarmpi.model.study import Series

HEADER = StudyHeader("1.2.826.0.1.3680043.8.498.1001", dt.date(2026, 1, 2), dt.time(9, 30),
                     "MPI PLANAR")
PATIENT = Patient("T-1", "TEST^PATIENT", Sex.FEMALE, dt.date(1961, 5, 4), 64.0, 71.0, 1.64)
WINDOWS = (EnergyWindow(1, ((126.0, 154.0),), "TC"), EnergyWindow(2, ((62.0, 86.0),), "TL"))
VIEWS = ((View.ANTERIOR, None), (View.LAO, 45.0), (View.LEFT_LATERAL, None))


def acquisition(kind: SeriesKind, detector: int = 1, window: int = 1, *,
                series_uid: str = "1.2.826.0.1.3680043.8.498.2001",
                sop_uid: str = "1.2.826.0.1.3680043.8.498.3001",
                state: State = State.REST,
                tracer: Tracer = Tracer.TC99M_TETROFOSMIN) -> Acquisition:
    view, angle = VIEWS[(detector - 1) % len(VIEWS)]
    return Acquisition(
        study_instance_uid=HEADER.study_instance_uid,
        series_instance_uid=series_uid,
        sop_instance_uid=sop_uid,
        sop_class_uid=NuclearMedicineImageStorage,
        kind=kind,
        view=view,
        view_angle_deg=angle,
        state=state,
        radiopharmaceutical=Radiopharmaceutical(tracer, tracer.value, 925.0,
                                                dt.datetime(2026, 1, 2, 8, 45)),
        detector=detector,
        energy_window=WINDOWS[window - 1],
        pixel_spacing_mm=(6.4, 6.4),
        series_number=3,
    )


def make_images(kind: SeriesKind, *, detectors: int = 1, windows: int = 1, frames: int = 8,
                rows: int = 16, cols: int = 12, seed: int = 0,
                phases: Sequence[DynamicPhase] | None = None,
                slot_ms: float = 50.0, state: State = State.REST,
                tracer: Tracer = Tracer.TC99M_TETROFOSMIN) -> list[Series]:
    """Distinct random counts per detector × window (× frame), all of one series."""
    rng = np.random.default_rng(seed)
    series_uid, sop_uid = generate_uid(), generate_uid()
    out: list[Series] = []
    for w in range(1, windows + 1):
        for d in range(1, detectors + 1):
            acq = acquisition(kind, d, w, series_uid=series_uid, sop_uid=sop_uid, state=state,
                              tracer=tracer)
            if kind is SeriesKind.STATIC:
                out.append(StaticImage(acq, rng.integers(0, 4000, (rows, cols)), 300000.0))
            elif kind is SeriesKind.GATED:
                out.append(GatedSeries(
                    acq, rng.integers(0, 4000, (frames, rows, cols)), np.full(frames, slot_ms),
                    GatingInfo(800.0, 640.0, 960.0, 350, 12, 75.0, "FORW", 0.0, True)))
            else:
                ph = list(phases or [DynamicPhase(50.0, frames)])
                n = sum(p.number_of_frames for p in ph)
                out.append(DynamicSeries.from_phases(acq, rng.integers(0, 4000, (n, rows, cols)),
                                                     ph))
    return out


def interleaving(group_sizes: Sequence[int], rng: np.random.Generator) -> list[int]:
    """A random frame order that keeps each group's frames in their original order.

    Groups are consecutive blocks of the canonical order (sizes ``group_sizes``); the
    result merges them at random — what a dynamic image's frame order may legally be.
    """
    starts = np.concatenate([[0], np.cumsum(group_sizes)[:-1]]).astype(int)
    taken = [0] * len(group_sizes)
    pool = [g for g, size in enumerate(group_sizes) for _ in range(size)]
    order = []
    for g in rng.permutation(pool):
        order.append(int(starts[g] + taken[g]))
        taken[g] += 1
    return order


def ring_image(shape: tuple[int, int] = (96, 96), centre: tuple[float, float] = (48.0, 50.0),
               radii: tuple[float, float] = (11.0, 8.0), tilt_deg: float = 30.0,
               wall: float = 3.0, peak: float = 400.0, background: float = 20.0,
               defect: tuple[float, float, float] | None = None, blob: bool = False,
               ) -> NDArray[np.float64]:
    """A blurred elliptical myocardial ring (noise-free), optionally with a defect.

    ``radii`` are the ridge semi-axes (pixels) along the tilted long axis and across;
    ``tilt_deg`` is the long axis in the display convention (0° up, clockwise); ``defect``
    is (centre°, width°, fraction removed) in the same convention.
    """
    rr, cc = np.indices(shape, dtype=np.float64)
    dr, dc = rr - centre[0], cc - centre[1]
    phi = np.radians(tilt_deg)
    along = -dr * np.cos(phi) + dc * np.sin(phi)
    across = dr * np.sin(phi) + dc * np.cos(phi)
    rho = np.hypot(along / radii[0], across / radii[1])  # 1 on the ridge
    dist = np.hypot(dr, dc)
    ridge = dist / np.maximum(rho, 1e-9)  # the ridge's distance along this pixel's ray
    if blob:
        img = np.where(dist <= ridge + wall / 2, 1.0, 0.0)
    else:
        img = np.where(np.abs(dist - ridge) <= wall / 2, 1.0, 0.0)
    if defect is not None:
        angle = np.degrees(np.arctan2(dc, -dr)) % 360
        d = np.abs((angle - defect[0] + 180) % 360 - 180)
        img = img * np.where(d <= defect[1] / 2, 1 - defect[2], 1.0)
    img = ndimage.gaussian_filter(img, 1.5)
    return background + peak * img / img.max()


def beating_ring_series(seed: int, shortening: float = 0.2, *, frames: int = 8,
                        peak: float = 150.0, study_uid: str = HEADER.study_instance_uid
                        ) -> GatedSeries:
    """A gated LAO perfusion view (Tc-99m tetrofosmin, stress) of a beating ring.

    The ridge's semi-axes shrink by ``shortening`` (fraction) from end-diastole (slot 0) to
    end-systole (the middle slot), each slot's beat drawn ±10% about it, while the wall
    thickens by 30%; Poisson counts. Geometry in pixels of 6.4 mm: ridge semi-axes 6.0 ×
    5.0, wall 1.6 at end-diastole; at ``shortening`` 0.2 the ridge shortens by 20% and the
    inner edge (ridge − wall/2) by ≈ 28%.
    """
    rng = np.random.default_rng(seed)
    acq = replace(acquisition(SeriesKind.GATED, 1, series_uid=generate_uid(),
                              sop_uid=generate_uid(), state=State.STRESS_EXERCISE),
                  view=View.LAO, view_angle_deg=45.0, study_instance_uid=study_uid)
    images = []
    for k in range(frames):
        phase = (1 - np.cos(2 * np.pi * k / frames)) / 2  # 0 at ED, 1 at ES
        scale = 1 - shortening * phase * (1 + 0.1 * rng.normal())
        images.append(rng.poisson(ring_image((64, 64), centre=(31.5, 32.5),
                                             radii=(6.0 * scale, 5.0 * scale), tilt_deg=60.0,
                                             wall=1.6 * (1 + 0.3 * phase), peak=peak,
                                             background=10.0)))
    return GatedSeries(acq, np.asarray(images), np.full(frames, 100.0),
                       GatingInfo(800.0, 640.0, 960.0, 350, 12, 75.0, "FORW", 0.0, True))


def simulated_perfusion(folder: Path, preset_name: str, seed: int, **changes: Any
                        ) -> tuple[Study, dict[str, Any]]:
    """A simulated study of ``preset_name`` (static views only, ``changes`` applied to its
    spec) written to ``folder`` and read back: the one Study it holds, and the truth (with
    the folder under ``folder``)."""
    from planarmpi import read_studies
    from planarmpi.simulate import simulate_study
    from planarmpi.simulate.presets import preset

    truth = simulate_study(replace(preset(preset_name), gated_view=None, **changes), folder,
                           seed=seed)
    (study,) = read_studies(folder).studies
    return study, {**truth, "folder": str(folder)}


def static_perfusion_study(folder: Path, preset_name: str, seed: int, **changes: Any) -> Study:
    """:func:`simulated_perfusion`'s study alone."""
    return simulated_perfusion(folder, preset_name, seed, **changes)[0]


def two_day_protocol(root: Path) -> dict[str, Any]:
    """An LAD ischaemia study (stress and rest, seed 22) in ``root/one``, and the same
    images stored as a two-day protocol: the stress images in ``root/stress``, the rest
    images in ``root/rest`` as a study of their own acquired (and injected) two days
    earlier. Returns the folders and both Study Instance UIDs."""
    import pydicom

    from planarmpi.simulate import simulate_study
    from planarmpi.simulate.presets import preset

    one = root / "one"
    simulate_study(replace(preset("lad-ischemia"), gated_view=None), one, seed=22)
    rest_uid, stress_uid = generate_uid(), ""
    for path in sorted(one.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        if path.name.startswith("rest"):
            ds.StudyInstanceUID = rest_uid
            ds.StudyDate = (dt.datetime.strptime(ds.StudyDate, "%Y%m%d")
                            - dt.timedelta(days=2)).strftime("%Y%m%d")
            for item in ds.RadiopharmaceuticalInformationSequence:
                start = dt.datetime.strptime(item.RadiopharmaceuticalStartDateTime[:14],
                                             "%Y%m%d%H%M%S") - dt.timedelta(days=2)
                item.RadiopharmaceuticalStartDateTime = start.strftime("%Y%m%d%H%M%S")
            target = root / "rest" / path.name
        else:
            stress_uid = ds.StudyInstanceUID
            target = root / "stress" / path.name
        target.parent.mkdir(exist_ok=True)
        ds.save_as(target)
    assert stress_uid
    assert (root / "rest").is_dir()
    return {"root": root, "one": one, "rest_uid": rest_uid, "stress_uid": stress_uid}
