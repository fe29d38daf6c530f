"""Simulate a whole planar study and write it as DICOM NM with a ``truth.json``."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray
from pydicom.uid import NuclearMedicineImageStorage, generate_uid
from scipy import ndimage

from planarmpi._version import __version__
from planarmpi.io.writer import ViewEncoding, write_nm
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
    StudyHeader,
    Tracer,
    View,
)
from planarmpi.model.segments import segments_of_territory
from planarmpi.model.study import Series
from planarmpi.simulate.camera import add_noise, project
from planarmpi.simulate.firstpass import COMPARTMENTS, FirstPassSpec, compartment_curves
from planarmpi.simulate.gating import BeatModel, beat_lengths_ms, cycle_phase, gate
from planarmpi.simulate.phantom import (
    TERRITORIES,
    Anatomy,
    BodyMasks,
    Defect,
    Grid,
    HeartMasks,
    PhantomVolumes,
    body_masks,
    build_volumes,
    defect_extent_percent,
    heart_masks,
    lv_volume_curve,
    uptake_for,
)

__all__ = ["PatientMotion", "SimulationSpec", "simulate_study"]

Array = NDArray[np.float64]

#: name → (view, camera angle from anterior towards the patient's left, recorded angle)
VIEWS: dict[str, tuple[View, float, float | None]] = {
    "ANT": (View.ANTERIOR, 0.0, None),
    "LAO45": (View.LAO, 45.0, 45.0),
    "LLAT": (View.LEFT_LATERAL, 90.0, None),
    "RAO30": (View.RAO, -30.0, 30.0),
    # LAO views at other angles (a "best septal" view is 30–60°): LAO20 … LAO80.
    **{f"LAO{a}": (View.LAO, float(a), float(a)) for a in range(20, 85, 5) if a != 45},
}
_PHASE_BINS = 16
_STATIC_PHASES = (0.0, 0.25, 0.5, 0.75)


@dataclass(frozen=True, slots=True)
class PatientMotion:
    """A rigid shift of the patient during a static view.

    Attributes
    ----------
    view : str
        A name of :data:`VIEWS` (``LLAT``).
    after_fraction : float
        Fraction of the view's acquisition time after which the patient lies shifted
        (0 < f < 1); the image is the time-weighted sum of both positions.
    shift_mm : tuple of float
        (down, right) on the displayed image, mm.
    states : tuple of State
        The states in which it happens; empty for every state.
    """

    view: str
    after_fraction: float
    shift_mm: tuple[float, float]
    states: tuple[State, ...] = ()

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"unknown view {self.view!r}; choose from {', '.join(VIEWS)}")
        if not 0 < self.after_fraction < 1:
            raise ValueError(f"after_fraction must be within (0, 1), got {self.after_fraction}")
        if len(self.shift_mm) != 2:
            raise ValueError("shift_mm must be (down, right) in mm")

    def applies(self, view: str, state: State) -> bool:
        """Whether the patient moves during ``view`` of ``state``."""
        return view == self.view and (not self.states or state in self.states)


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
        One acquisition set per state (stress, rest, redistribution, ...).
    static_views : tuple of str
        Names from ``ANT``, ``LAO45`` (or ``LAO20`` … ``LAO80`` in steps of 5°), ``LLAT``,
        ``RAO30``; empty for a blood-pool study.
    gated_view : str or None
    first_pass : FirstPassSpec or None
        Simulated for the first state's injection.
    defects : tuple of Defect
    counts_per_view : float
        Expected total counts of each static view and of each gated view (all slots).
    matrix, pixel_mm : int, float
        Static and gated images.
    time_slots : int
    beats : BeatModel
        Heart rhythm and the acceptance window of the gated acquisitions.
    uptake : tuple of (str, float)
        Overrides of the tracer's relative concentrations (e.g. ``(("lung", 0.2),)``).
    view_encoding : {"code", "description", "none"}
    static_layout : {"per-view", "multi-detector"}
        One file per static view, or all views of a state in one file, one detector each
        (as dual- and triple-head cameras write simultaneous views).
    static_frames : int
        1: each static view is one frame (STATIC). More: each view is written as a DYNAMIC
        series of that many equal frames (a framed static view, for motion review); per-view
        layout only.
    motion : tuple of PatientMotion
        Patient motion during static views.
    stress_lv_dilation : float
        Transient ischaemic dilation: the LV cavity's linear size in the stress states over
        its size at rest (the EDV is multiplied by its cube; the wall keeps its
        thickness). 1 dilates nothing. ``truth.json`` then holds the anterior projected
        areas' stress/rest ratios (``tid``); its volumes and EFs stay the rest anatomy's.
    doses_mbq : tuple of float
        Administered activity of each injection, in the order of the states (a
        redistribution state, and every state after the first of a red-cell study, has no
        injection of its own). Empty: :func:`injection_doses_mbq`'s defaults.
    one_day_residual : bool
        Tc-99m perfusion agents: a later injection's static views also hold every earlier
        injection's distribution (that state's image of the same view), in proportion to
        the activity each left (a one-day protocol's shine-through; the agents do not
        redistribute). False: each state's views hold its own distribution only. Gated
        views always hold their own.
    tl201_washout_fraction : float or None
        Tl-201: the share of the stress injection's activity (myocardium and body alike)
        cleared biologically by the redistribution images, physical decay apart. Their
        views are then acquired for the stress views' time and hold the counts the
        activity gives: ``counts_per_view`` × the redistribution image's unnormalised
        projection over the stress one's (a defect filled in at redistribution holds more)
        × (1 − the fraction) × decay. None (default): every view holds
        ``counts_per_view`` and no washout is simulated.

    Notes
    -----
    Each state's images are acquired from 08:00 + 3 h × its index. A static view's
    recorded duration follows the activity in the patient (every earlier injection,
    decayed): 300 s for a full dose freshly injected, longer for a one-day protocol's
    low first dose, shorter for the second images that carry the first injection's rest.
    Unless ``one_day_residual``, the pixels hold only the state's own distribution
    (``counts_per_view``): the first injection's distribution is not added to the second
    images.
    """

    name: str = "custom"
    sex: Sex = Sex.MALE
    anatomy: Anatomy = field(default_factory=Anatomy)
    tracer: Tracer = Tracer.TC99M_SESTAMIBI
    states: tuple[State, ...] = (State.STRESS_EXERCISE,)
    static_views: tuple[str, ...] = ("ANT", "LAO45", "LLAT")
    gated_view: str | None = "LAO45"
    first_pass: FirstPassSpec | None = None
    defects: tuple[Defect, ...] = ()
    counts_per_view: float = 1.2e6
    matrix: int = 128
    pixel_mm: float = 3.2
    time_slots: int = 16
    beats: BeatModel = field(default_factory=BeatModel)
    uptake: tuple[tuple[str, float], ...] = ()
    view_encoding: ViewEncoding = "code"
    static_layout: Literal["per-view", "multi-detector"] = "per-view"
    static_frames: int = 1
    motion: tuple[PatientMotion, ...] = ()
    stress_lv_dilation: float = 1.0
    doses_mbq: tuple[float, ...] = ()
    one_day_residual: bool = False
    tl201_washout_fraction: float | None = None

    def __post_init__(self) -> None:
        if self.tl201_washout_fraction is not None:
            if self.tracer is not Tracer.TL201:
                raise ValueError("tl201_washout_fraction is for Tl-201 studies")
            if not 0.0 <= self.tl201_washout_fraction < 1.0:
                raise ValueError("tl201_washout_fraction must be within 0–1, got "
                                 f"{self.tl201_washout_fraction}")
        if self.doses_mbq:
            if len(self.doses_mbq) != len(injection_states(self.tracer, self.states)):
                raise ValueError(
                    f"doses_mbq needs one dose per injection "
                    f"({len(injection_states(self.tracer, self.states))}), "
                    f"got {len(self.doses_mbq)}")
            if not all(1.0 <= d <= 3000.0 for d in self.doses_mbq):
                raise ValueError(f"doses must be within 1–3000 MBq, got {self.doses_mbq}")
        if not 0.8 <= self.stress_lv_dilation <= 1.5:
            raise ValueError("stress_lv_dilation must be within 0.8–1.5, got "
                             f"{self.stress_lv_dilation}")
        for v in (*self.static_views, *([self.gated_view] if self.gated_view else [])):
            if v not in VIEWS:
                raise ValueError(f"unknown view {v!r}; choose from {', '.join(VIEWS)}")
        if not 16 <= self.matrix <= 256:
            raise ValueError(f"matrix must be within 16–256, got {self.matrix}")
        if not self.matrix * self.pixel_mm <= 620:
            raise ValueError("the field of view (matrix × pixel) must be ≤ 620 mm")
        if self.counts_per_view <= 0:
            raise ValueError("counts_per_view must be > 0")
        if self.time_slots not in (8, 12, 16, 24, 32):
            raise ValueError(f"time slots must be 8, 12, 16, 24 or 32, got {self.time_slots}")
        if not self.states:
            raise ValueError("a study needs at least one state")
        if self.static_layout not in ("per-view", "multi-detector"):
            raise ValueError(f"unknown static layout {self.static_layout!r}")
        if not 1 <= self.static_frames <= 60:
            raise ValueError(f"static_frames must be within 1–60, got {self.static_frames}")
        if self.static_frames > 1 and self.static_layout != "per-view":
            raise ValueError("framed static views need the per-view layout")
        uptake_for(self.tracer, rest=False, overrides=dict(self.uptake))  # validates keys


#: Default administered activities (MBq): a full dose; a one-day Tc-99m protocol's first
#: (low) dose, a third of the second (the 3:1 protocols of the ASNC imaging guidelines,
#: Henzlova 2016); a Tl-201 reinjection (1 mCi).
FULL_DOSE_MBQ = {Tracer.TL201: 148.0}
_DEFAULT_FULL_DOSE_MBQ = 1110.0
ONE_DAY_FIRST_DOSE_MBQ = 370.0
TL201_REINJECTION_DOSE_MBQ = 37.0
#: A full dose freshly injected is imaged for this long (ms).
_STATIC_DURATION_MS = 300000.0


def injection_states(tracer: Tracer, states: Sequence[State]) -> list[int]:
    """Indices of the states that get an injection of their own: every state but a
    redistribution (imaged on the previous injection) and, for labelled red cells, every
    state but the first (the blood pool stays labelled)."""
    out = []
    for index, state in enumerate(states):
        if index and (state is State.REDISTRIBUTION or tracer is Tracer.TC99M_RED_CELLS):
            continue
        out.append(index)
    return out


def injection_doses_mbq(spec: SimulationSpec) -> list[float]:
    """Each injection's activity: ``spec.doses_mbq``, or by default a full dose (Tl-201
    148 MBq, Tc-99m agents 1110 MBq); for a one-day Tc-99m perfusion protocol (two or more
    injections) the first is 370 MBq; a Tl-201 reinjection 37 MBq."""
    if spec.doses_mbq:
        return list(spec.doses_mbq)
    full = FULL_DOSE_MBQ.get(spec.tracer, _DEFAULT_FULL_DOSE_MBQ)
    indices = injection_states(spec.tracer, spec.states)
    doses = []
    for n, index in enumerate(indices):
        if spec.states[index] is State.REINJECTION:
            doses.append(TL201_REINJECTION_DOSE_MBQ)
        elif (n == 0 and len(indices) > 1 and spec.tracer.is_technetium
              and spec.tracer.is_perfusion_agent):
            doses.append(ONE_DAY_FIRST_DOSE_MBQ)
        else:
            doses.append(full)
    return doses


def activity_mbq(injections: Sequence[Radiopharmaceutical], when: dt.datetime,
                 half_life_h: float) -> float:
    """Activity in the patient at ``when``: every injection given before, decayed."""
    total = 0.0
    for pharm in injections:
        if pharm.injection_datetime is None or pharm.dose_mbq is None \
                or pharm.injection_datetime > when:
            continue
        hours = (when - pharm.injection_datetime).total_seconds() / 3600.0
        total += pharm.dose_mbq * 2.0 ** (-hours / half_life_h)
    return total


def static_duration_ms(spec: SimulationSpec, injections: Sequence[Radiopharmaceutical],
                       state_start: dt.datetime, acquired: dt.datetime) -> float:
    """A static view's duration for ``counts_per_view`` at the activity present: 300 s ×
    a full dose injected at ``state_start`` over the activity in the patient at
    ``acquired``."""
    half_life = _half_life_h(spec.tracer)
    full = FULL_DOSE_MBQ.get(spec.tracer, _DEFAULT_FULL_DOSE_MBQ)
    reference = full * 2.0 ** (-(acquired - state_start).total_seconds() / 3600.0 / half_life)
    present = activity_mbq(injections, acquired, half_life)
    return _STATIC_DURATION_MS * reference / present if present > 0 else _STATIC_DURATION_MS


def injection_shares(injections: Sequence[Radiopharmaceutical], when: dt.datetime,
                     half_life_h: float) -> list[float]:
    """Each injection's share of the activity present at ``when`` (0 for one not given
    yet)."""
    each = [activity_mbq([p], when, half_life_h) for p in injections]
    total = sum(each)
    return [a / total if total > 0 else 0.0 for a in each]


def _with_residual(own: Array, shares: Sequence[float], earlier: Sequence[Array | None]
                   ) -> Array:
    """``own`` mixed with the earlier injections' images of the view by their activity
    shares (``shares``: the earlier ones, then the state's own last); each image counts
    by its normalised distribution, the total stays ``own``'s."""
    mixed = shares[-1] * own / own.sum()
    for share, image in zip(shares[:-1], earlier, strict=True):
        mixed = mixed + (share * image / image.sum() if image is not None
                         else share * own / own.sum())
    return np.asarray(mixed * own.sum(), dtype=np.float64)


class _InjectedView(NamedTuple):
    """A static view of an injection's own state."""

    expected: Array
    acquired: dt.datetime
    duration_ms: float


def _earlier_share(spec: SimulationSpec, injections: Sequence[Radiopharmaceutical],
                   state_start: dt.datetime) -> float:
    """Share of the activity present 30 min into a state's imaging that earlier
    injections gave (0 for the first): what a one-day protocol's second images would carry
    of the first (the pixels do not)."""
    if not injections or injections[-1].injection_datetime != state_start:
        return 0.0  # imaged on an earlier injection (redistribution): no second dose
    shares = injection_shares(injections, state_start + dt.timedelta(minutes=30),
                              _half_life_h(spec.tracer))
    return 1.0 - shares[-1] if sum(shares) > 0 else 0.0


def _half_life_h(tracer: Tracer) -> float:
    """The simulated tracer's half-life (every simulated tracer is Tc-99m or Tl-201)."""
    half_life = tracer.half_life_h
    assert half_life is not None, tracer
    return half_life


def _uid(seed: int, *parts: object) -> str:
    return generate_uid(entropy_srcs=["planarmpi-sim", str(seed), *map(str, parts)])


@dataclass(frozen=True, slots=True)
class _Camera:
    """Projection grid and detector matrix of one acquisition."""

    grid: Grid
    matrix: int
    pixel_mm: float

    @classmethod
    def for_matrix(cls, matrix: int, pixel_mm: float) -> _Camera:
        factor = 2 if pixel_mm > 5 else 1
        voxel = pixel_mm / factor
        n = matrix * factor
        return cls(Grid(voxel, (n, round(300.0 / voxel), n)), matrix, pixel_mm)

    def bin(self, image: Array) -> Array:
        f = round(self.pixel_mm / self.grid.voxel_mm)
        if f == 1:
            return image
        n = self.matrix
        return image[: n * f, : n * f].reshape(n, f, n, f).sum(axis=(1, 3))


def _grade(motion: float) -> str:
    """Wall-motion grade of a territory's excursion fraction (simulator convention)."""
    if motion >= 0.75:
        return "normal"
    if motion >= 0.15:
        return "hypokinetic"
    if motion >= -0.15:
        return "akinetic"
    return "dyskinetic"


def _expected_cpt(spec: SimulationSpec) -> list[str]:
    perfusion = spec.tracer is not Tracer.TC99M_RED_CELLS
    several = len(spec.states) > 1
    if perfusion and (spec.static_views or spec.gated_view):
        return ["78454" if several else "78453"]
    if spec.gated_view:
        codes = ["78473" if several else "78472"]
        if spec.first_pass is not None:
            codes.append("78496")
        return codes
    return ["78483" if several else "78481"]


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
    a = spec.anatomy
    header = StudyHeader(
        study_instance_uid=_uid(seed, spec.name, "study"),
        study_date=study_date,
        study_time=dt.time(9, 0),
        description="GATED BLOOD POOL" if spec.tracer is Tracer.TC99M_RED_CELLS
        else "MYOCARDIAL PERFUSION PLANAR",
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
    window = EnergyWindow(1, ((62.0, 86.0),) if spec.tracer is Tracer.TL201
                          else ((126.0, 154.0),), "PHOTOPEAK")
    doses = iter(injection_doses_mbq(spec))
    injected: list[Radiopharmaceutical] = []
    # Per injection given so far, each static view of its own state: the expected image
    # (for ``one_day_residual``), when it was acquired and for how long (for
    # ``tl201_washout_fraction``).
    injected_views: list[dict[str, _InjectedView]] = []
    residual = (spec.one_day_residual and spec.tracer.is_technetium
                and spec.tracer.is_perfusion_agent)
    camera = _Camera.for_matrix(spec.matrix, spec.pixel_mm)
    body = body_masks(a, camera.grid)
    series_counter = iter(range(1, 1000))
    files: list[str] = []
    truth_states: list[dict[str, Any]] = []

    def write(images: Sequence[Series], filename: str) -> None:
        write_nm(out / filename, images, patient=patient, header=header,
                 view_encoding=spec.view_encoding)
        files.append(filename)

    for s_index, state in enumerate(spec.states):
        rest = state in (State.REST, State.REDISTRIBUTION, State.REINJECTION)
        state_start = dt.datetime.combine(study_date, dt.time(8 + 3 * s_index, 0))
        if s_index in injection_states(spec.tracer, spec.states):
            injected.append(Radiopharmaceutical(spec.tracer, spec.tracer.value, next(doses),
                                                state_start))
            injected_views.append({})
        own_injection = injected[-1].injection_datetime == state_start
        washout = (spec.tl201_washout_fraction if state is State.REDISTRIBUTION
                   else None)
        pharm = injected[-1]

        def acquisition(kind: SeriesKind, view_name: str, number: int, detector: int = 1,
                        *, _pharm: Radiopharmaceutical = pharm, _state: State = state,
                        _start: dt.datetime = state_start,
                        cam: _Camera = camera) -> Acquisition:
            view, _, recorded = VIEWS[view_name]
            return Acquisition(
                study_instance_uid=header.study_instance_uid,
                series_instance_uid=_uid(seed, spec.name, "series", number),
                sop_instance_uid=_uid(seed, spec.name, "sop", number),
                sop_class_uid=NuclearMedicineImageStorage,
                kind=kind, view=view, view_angle_deg=recorded, state=_state,
                radiopharmaceutical=_pharm, detector=detector, energy_window=window,
                pixel_spacing_mm=(cam.pixel_mm, cam.pixel_mm), series_number=number,
                acquisition_datetime=_start + dt.timedelta(minutes=30 + 8 * number),
                manufacturer="planarmpi",
            )

        anatomy = state_anatomy(spec, state)

        def volumes(phase: float, *, _rest: bool = rest, _anatomy: Anatomy = anatomy) -> Any:
            return build_volumes(_anatomy, spec.tracer, cycle_phase=phase, defects=spec.defects,
                                 rest=_rest, voxel_mm=camera.grid.voxel_mm,
                                 shape_zyx=camera.grid.shape_zyx, uptake=dict(spec.uptake),
                                 body=body)

        def duration_of(acq: Acquisition, *, _start: dt.datetime = state_start) -> float:
            assert acq.acquisition_datetime is not None
            return static_duration_ms(spec, injected, _start, acq.acquisition_datetime)

        state_truth: dict[str, Any] = {
            "state": state.value,
            "injection": {"dose_mbq": pharm.dose_mbq,
                          "datetime": pharm.injection_datetime.isoformat()
                          if pharm.injection_datetime else None},
            "earlier_injections_share": _earlier_share(spec, injected, state_start),
            "earlier_injections_in_pixels": bool(residual and own_injection
                                                 and len(injected) > 1),
        }
        if washout is not None:
            state_truth["tl201_washout_fraction"] = washout
        if spec.first_pass is not None and s_index == 0:
            number = next(series_counter)
            fp_series, fp_truth = _first_pass(spec, acquisition, number, rest, rng)
            write([fp_series], f"{state.value}_{spec.first_pass.view}_firstpass.dcm")
            state_truth["first_pass"] = fp_truth
        if spec.static_views:
            phase_volumes = [volumes(p) for p in _STATIC_PHASES]
            statics: list[StaticImage] = []
            number = next(series_counter) if spec.static_layout == "multi-detector" else 0
            for d_index, view_name in enumerate(spec.static_views, start=1):
                camera_deg = VIEWS[view_name][1]
                expected = camera.bin(np.mean([
                    project(v.activity, v.mu_per_mm, camera.grid.voxel_mm, camera_deg,
                            tracer=spec.tracer) for v in phase_volumes], axis=0))
                if view_name == "ANT":
                    state_truth["lung_heart_ratio"] = _lung_heart_ratio(
                        phase_volumes[0], body, a, camera)
                own = expected
                if residual and own_injection and len(injected) > 1:
                    shares = injection_shares(injected, state_start + dt.timedelta(minutes=30),
                                              _half_life_h(spec.tracer))
                    earlier = [v.get(view_name) for v in injected_views[:-1]]
                    expected = _with_residual(expected, shares,
                                              [v.expected if v else None for v in earlier])
                moves = [m for m in spec.motion if m.applies(view_name, state)]
                kind = SeriesKind.DYNAMIC if spec.static_frames > 1 else SeriesKind.STATIC
                acq = (acquisition(kind, view_name, next(series_counter))
                       if spec.static_layout == "per-view"
                       else acquisition(kind, view_name, number, d_index))
                assert acq.acquisition_datetime is not None
                view_spec, duration = spec, duration_of(acq)
                if own_injection:
                    injected_views[-1][view_name] = _InjectedView(
                        own, acq.acquisition_datetime, duration)
                elif washout is not None and view_name in injected_views[-1]:
                    # Acquired for the stress view's time, holding what is left.
                    ref = injected_views[-1][view_name]
                    duration = ref.duration_ms
                    hours = (acq.acquisition_datetime - ref.acquired).total_seconds() / 3600.0
                    view_spec = replace(spec, counts_per_view=(
                        spec.counts_per_view * float(expected.sum()) / float(ref.expected.sum())
                        * (1.0 - washout) * 2.0 ** (-hours / _half_life_h(spec.tracer))))
                if spec.static_frames > 1:
                    write([DynamicSeries.from_phases(
                        acq, _static_frames(expected, moves, view_spec, rng),
                        [DynamicPhase(duration / spec.static_frames, spec.static_frames)])],
                        f"{state.value}_{view_name}_framed.dcm")
                    continue
                counts = (_static_frames(expected, moves, view_spec, rng)[0] if moves
                          else add_noise(expected, view_spec.counts_per_view, rng))
                if spec.static_layout == "per-view":
                    image = StaticImage(acq, counts, duration)
                    write([image], f"{state.value}_{view_name}_static.dcm")
                else:
                    statics.append(StaticImage(acq, counts, duration))
            if statics:
                write(statics, f"{state.value}_static_views.dcm")
        if spec.gated_view:
            number = next(series_counter)
            gated, gating_truth = _gated(spec, acquisition, number, volumes, camera, rng)
            write([gated], f"{state.value}_{spec.gated_view}_gated.dcm")
            state_truth["gating"] = gating_truth
        truth_states.append(state_truth)

    truth = _truth(spec, seed, header, files, truth_states, camera)
    if spec.stress_lv_dilation != 1.0:
        truth["tid"] = _tid_truth(spec, camera)
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth


def state_anatomy(spec: SimulationSpec, state: State) -> Anatomy:
    """The anatomy imaged in ``state``: the LV dilated at stress by ``stress_lv_dilation``."""
    if spec.stress_lv_dilation == 1.0 or not state.is_stress:
        return spec.anatomy
    return replace(spec.anatomy, edv_ml=spec.anatomy.edv_ml * spec.stress_lv_dilation ** 3)


def _tid_truth(spec: SimulationSpec, camera: _Camera) -> dict[str, Any]:
    """Stress/rest ratios of the LV's projected areas in the anterior view (static phases'
    mean): of the whole ventricle's outline, and of its cavity."""
    grid = camera.grid

    def areas(anatomy: Anatomy) -> tuple[float, float]:
        outline, cavity = [], []
        for phase in _STATIC_PHASES:
            heart = heart_masks(anatomy, grid, float(phase))
            outline.append(float((camera.bin((heart.myocardium | heart.lv_cavity)
                                             .sum(axis=1).astype(float)) > 0).sum()))
            cavity.append(float((camera.bin(heart.lv_cavity.sum(axis=1).astype(float)) > 0)
                                .sum()))
        return float(np.mean(outline)), float(np.mean(cavity))

    stress = areas(state_anatomy(spec, State.STRESS_EXERCISE))
    rest = areas(spec.anatomy)
    return {"stress_lv_dilation": spec.stress_lv_dilation,
            "lv_outline_area_ratio": stress[0] / rest[0],
            "lv_cavity_area_ratio": stress[1] / rest[1],
            "definition": "stress/rest ratio of the anterior projected areas (pixels where "
                          "the LV, or its cavity, projects; mean over the static phases)"}


def _static_frames(expected: Array, moves: Sequence[PatientMotion], spec: SimulationSpec,
                   rng: np.random.Generator) -> NDArray[np.int64]:
    """The counts of one static view's frames (``spec.static_frames`` equal frames) while
    the patient lies still or moves (``moves``: shifts from their time on, cumulative)."""
    n = spec.static_frames
    positions = [(0.0, expected)]  # (start fraction, expected image from then on)
    total = np.zeros(2)
    for m in sorted(moves, key=lambda m: m.after_fraction):
        total += np.asarray(m.shift_mm, dtype=np.float64)
        positions.append((m.after_fraction, ndimage.shift(
            expected, tuple(total / spec.pixel_mm), order=1, mode="constant")))
    frames = []
    for i in range(n):
        t0, t1 = i / n, (i + 1) / n
        image = np.zeros_like(expected)
        for k, (start, moved) in enumerate(positions):
            end = positions[k + 1][0] if k + 1 < len(positions) else 1.0
            overlap = max(0.0, min(t1, end) - max(t0, start))
            image += overlap * n * moved
        frames.append(add_noise(image, spec.counts_per_view / n * image.sum() / expected.sum(),
                                rng))
    return np.stack(frames)


def _gated(spec: SimulationSpec, acquisition: Callable[..., Acquisition], number: int,
           volumes: Callable[[float], Any], camera: _Camera,
           rng: np.random.Generator) -> tuple[GatedSeries, dict[str, Any]]:
    a = spec.anatomy
    assert spec.gated_view is not None
    camera_deg = VIEWS[spec.gated_view][1]
    bins = (np.arange(_PHASE_BINS) + 0.5) / _PHASE_BINS
    projections = np.stack([
        camera.bin(project(v.activity, v.mu_per_mm, camera.grid.voxel_mm, camera_deg,
                           tracer=spec.tracer))
        for v in (volumes(float(p)) for p in bins)
    ])
    rr = beat_lengths_ms(a.rr_ms, 300000.0, spec.beats, rng)
    outcome = gate(rr, a.rr_ms, spec.time_slots, _PHASE_BINS, spec.beats.acceptance_window)
    expected = np.tensordot(outcome.weights_ms, projections, axes=(1, 0))
    counts = add_noise(expected, spec.counts_per_view, rng)
    slot_ms = float(round(outcome.slot_ms))
    gating = GatingInfo(
        nominal_interval_ms=round(a.rr_ms), low_rr_ms=round(outcome.low_rr_ms),
        high_rr_ms=round(outcome.high_rr_ms), intervals_acquired=outcome.accepted,
        intervals_rejected=outcome.rejected, heart_rate_bpm=round(a.heart_rate_bpm),
        framing_type="FORW", trigger_time_ms=0.0, beat_rejection=True,
    )
    series = GatedSeries(acquisition(SeriesKind.GATED, spec.gated_view, number), counts,
                         np.full(spec.time_slots, slot_ms), gating)
    slot_counts = expected.sum(axis=(1, 2))
    return series, {
        "view": spec.gated_view,
        "intervals_acquired": outcome.accepted,
        "intervals_rejected": outcome.rejected,
        "slot_ms": slot_ms,
        "relative_slot_counts": (slot_counts / slot_counts.max()).round(4).tolist(),
    }


def _fwhm_s(t_s: Array, curve: Array) -> float:
    """Full width at half maximum of the first peak of a curve (linear interpolation)."""
    i = int(np.argmax(curve))
    half = curve[i] / 2
    left = np.flatnonzero(curve[:i] < half)
    right = np.flatnonzero(curve[i:] < half)
    if not left.size or not right.size:
        return float("nan")
    lo, hi = left[-1], i + right[0]
    t_lo = np.interp(half, [curve[lo], curve[lo + 1]], [t_s[lo], t_s[lo + 1]])
    t_hi = np.interp(half, [curve[hi], curve[hi - 1]], [t_s[hi], t_s[hi - 1]])
    return float(t_hi - t_lo)


def _first_pass(spec: SimulationSpec, acquisition: Callable[..., Acquisition], number: int,
                rest: bool, rng: np.random.Generator) -> tuple[DynamicSeries, dict[str, Any]]:
    fp = spec.first_pass
    assert fp is not None
    a = spec.anatomy
    camera = _Camera.for_matrix(64, 6.4)
    grid = camera.grid
    camera_deg = VIEWS[fp.view][1]
    tracer = spec.tracer
    body = body_masks(a, grid)
    mu = build_volumes(a, tracer, voxel_mm=grid.voxel_mm, shape_zyx=grid.shape_zyx,
                       body=body).mu_per_mm

    def proj(mask: NDArray[np.bool_], normalise: bool) -> Array:
        image = camera.bin(project(mask.astype(np.float64) * grid.voxel_ml, mu, grid.voxel_mm,
                                   camera_deg,
                                   tracer=tracer))
        return image / mask.sum() / grid.voxel_ml if normalise and mask.any() else image

    bins = (np.arange(_PHASE_BINS) + 0.5) / _PHASE_BINS
    hearts = [heart_masks(a, grid, float(p)) for p in bins]
    p_lv = np.stack([proj(h.lv_cavity, False) for h in hearts])
    p_rv = np.stack([proj(h.rv_cavity, False) for h in hearts])
    h0 = hearts[0]
    conc = uptake_for(Tracer.TC99M_RED_CELLS, rest=rest)
    systemic = np.where(body.torso, conc["tissue"], 0.0)
    for organ in ("liver", "spleen", "gut"):
        systemic[getattr(body, organ)] = conc[organ]
    fixed = {
        "svc": proj(body.svc, True), "ra": proj(h0.right_atrium, True),
        "lungs": proj(body.lungs & ~h0.lv_cavity & ~h0.rv_cavity & ~h0.myocardium, True),
        "la": proj(h0.left_atrium, True), "aorta": proj(body.aorta, True),
        "systemic": camera.bin(project(systemic, mu, grid.voxel_mm, camera_deg,
                                       tracer=tracer)),
    }
    fixed["systemic"] /= max(float(fixed["systemic"].sum()), 1e-12)  # unit activity

    dt_s = 0.005
    t = np.arange(0.0, fp.duration_s, dt_s)
    lv_mean = float(np.mean(lv_volume_curve(bins, a.edv_ml, a.lvef_percent)))
    rv_mean = float(np.mean(lv_volume_curve(bins, a.rv_edv_ml, a.rvef_percent)))
    stroke = a.edv_ml * a.lvef_percent / 100
    curves = compartment_curves(t, fp, lv_stroke_ml=stroke, heart_rate_bpm=a.heart_rate_bpm,
                                mean_volumes_ml={"lv": lv_mean, "rv": rv_mean})
    # Cardiac phase of every instant, beat by beat (no rejection in a first pass).
    rr = beat_lengths_ms(a.rr_ms, fp.duration_s * 1000 + a.rr_ms, spec.beats, rng)
    starts = np.concatenate([[0.0], np.cumsum(rr)[:-1]])
    t_ms = t * 1000
    beat = np.searchsorted(starts, t_ms, side="right") - 1
    phase = cycle_phase(t_ms - starts[beat], rr[beat], a.rr_ms)
    bin_index = np.minimum((phase * _PHASE_BINS).astype(int), _PHASE_BINS - 1)
    lv_vol = np.array([h.lv_cavity.sum() * grid.voxel_ml for h in hearts])
    rv_vol = np.array([h.rv_cavity.sum() * grid.voxel_ml for h in hearts])
    c_lv = curves["lv"] / lv_mean
    c_rv = curves["rv"] / rv_mean

    n_frames = round(fp.duration_s * 1000 / fp.frame_ms)
    frame = np.minimum((t_ms // fp.frame_ms).astype(int), n_frames - 1)
    w_lv = np.zeros((n_frames, _PHASE_BINS))
    w_rv = np.zeros((n_frames, _PHASE_BINS))
    np.add.at(w_lv, (frame, bin_index), c_lv * dt_s)
    np.add.at(w_rv, (frame, bin_index), c_rv * dt_s)
    activity = {
        "svc": curves["svc"], "ra": curves["ra"], "la": curves["la"], "aorta": curves["aorta"],
        "lungs": curves["lung1"] + curves["lung2"] + curves["lung3"],
        "systemic": curves["systemic"],
    }
    w_fixed = {name: np.bincount(frame, weights=values * dt_s, minlength=n_frames)
               for name, values in activity.items()}
    expected = (np.tensordot(w_lv, p_lv, axes=(1, 0)) + np.tensordot(w_rv, p_rv, axes=(1, 0))
                + sum(w_fixed[n][:, None, None] * fixed[n] for n in fixed))
    rate = expected.sum(axis=(1, 2)) / (fp.frame_ms / 1000)  # counts/s, arbitrary scale
    scale = fp.peak_count_rate_kcps * 1000 / rate.max()
    counts = rng.poisson(expected * scale)
    series = DynamicSeries.from_phases(
        acquisition(SeriesKind.DYNAMIC, fp.view, number, cam=camera), counts,
        [DynamicPhase(fp.frame_ms, n_frames)])
    qp = stroke * a.heart_rate_bpm / 60
    return series, {
        "view": fp.view,
        "frame_ms": fp.frame_ms,
        "frames": n_frames,
        "bolus_fwhm_s": fp.bolus_fwhm_s,
        "fragmented_bolus": fp.fragmented,
        "qp_qs": fp.qp_qs,
        "pulmonary_mean_transit_s": 450.0 / qp,
        "voxelised_lvef_percent": float(100 * (lv_vol.max() - lv_vol.min()) / lv_vol.max()),
        "voxelised_rvef_percent": float(100 * (rv_vol.max() - rv_vol.min()) / rv_vol.max()),
        "compartments": list(COMPARTMENTS),
        # Noise-free features of the compartments' activity curves (what a first-pass
        # analysis measures): peak times from the start of the acquisition and widths.
        "rv_peak_s": float(t[np.argmax(curves["rv"])]),
        "lv_peak_s": float(t[np.argmax(curves["lv"])]),
        "rv_to_lv_peak_s": float(t[np.argmax(curves["lv"])] - t[np.argmax(curves["rv"])]),
        "svc_fwhm_s": _fwhm_s(t, curves["svc"]),
        "rv_fwhm_s": _fwhm_s(t, curves["rv"]),
    }


def _lung_heart_ratio(volumes: PhantomVolumes, body: BodyMasks, anatomy: Anatomy,
                      camera: _Camera) -> float:
    """Noise-free anterior lung/heart ratio (mean counts per pixel, lung ROI / myocardium).

    ROIs from the phantom's own geometry: the myocardial ROI is where the projected
    myocardium is at least half its thickest; the lung ROI is the part of the left lung
    above the heart where nothing else of the heart projects. Attenuation is included
    (the ratio is what an anterior image shows).
    """
    grid = camera.grid
    heart = heart_masks(anatomy, grid, 0.0)
    image = camera.bin(project(volumes.activity, volumes.mu_per_mm, grid.voxel_mm, 0.0,
                               scatter=False))
    myo = camera.bin(heart.myocardium.sum(axis=1)[::-1].astype(float))
    any_heart = camera.bin((heart.myocardium | heart.lv_cavity | heart.rv_cavity
                            | heart.right_atrium | heart.left_atrium).sum(axis=1)[::-1]
                           .astype(float))
    lung = camera.bin(body.left_lung.sum(axis=1)[::-1].astype(float))
    myo_roi = myo >= 0.5 * myo.max()
    rows = np.arange(myo.shape[0])[:, None]
    heart_top = int(np.argmax(myo_roi.any(axis=1)))
    lung_roi = (lung >= 0.5 * lung.max()) & (any_heart == 0) & (rows < heart_top)
    if not lung_roi.any() or not myo_roi.any():
        return float("nan")
    return float(image[lung_roi].mean() / image[myo_roi].mean())


def _perfusion_truth(spec: SimulationSpec, heart: HeartMasks) -> dict[str, Any]:
    """Per state: defect extent (% of LV myocardium), territories and deepest severity."""
    states: dict[str, dict[str, Any]] = {}
    for state in spec.states:
        rest = state in (State.REST, State.REDISTRIBUTION, State.REINJECTION)
        present = tuple(d for d in spec.defects if not (rest and d.reversible))
        states[state.value] = {
            "defect_extent_percent": defect_extent_percent(heart, present),
            "territories": sorted({d.territory for d in present}),
            "max_severity": max((d.severity for d in present), default=0.0),
        }
    return {
        "definition": "extent = % of LV myocardium (end-diastole) where a defect reduces "
                      "uptake by at least half its severity; severity = fractional uptake "
                      "reduction at the defect's centre",
        "states": states,
        "abnormal": any(s["defect_extent_percent"] > 0 for s in states.values()),
    }


def _truth(spec: SimulationSpec, seed: int, header: StudyHeader, files: list[str],
           states: list[dict[str, Any]], camera: _Camera) -> dict[str, Any]:
    a = spec.anatomy
    grid = camera.grid
    phases = np.concatenate([[0.0], (np.arange(_PHASE_BINS) + 0.5) / _PHASE_BINS, [0.35]])
    hearts = [heart_masks(a, grid, float(p)) for p in phases]
    lv = np.array([h.lv_cavity.sum() for h in hearts]) * grid.voxel_ml
    rv = np.array([h.rv_cavity.sum() for h in hearts]) * grid.voxel_ml
    myo = np.array([h.myocardium.sum() for h in hearts]) * grid.voxel_ml
    curve = lv_volume_curve(np.array([0.0, 0.35]), a.edv_ml, a.lvef_percent)
    motion = dict(a.wall_motion)
    territories = {
        t: {"motion_fraction": motion.get(t, 1.0), "grade": _grade(motion.get(t, 1.0)),
            "delay_ms": dict(a.regional_delay_ms).get(t, 0.0)}
        for t in TERRITORIES
    }
    segments = [
        {"segment": seg.key, "name": seg.name, "territory": t,
         "grade": territories[t]["grade"]}
        for t in TERRITORIES for seg in segments_of_territory(t)
    ]
    return {
        "schema": "planarmpi/truth@1",
        "generator": {"name": "planarmpi", "version": __version__, "seed": seed},
        "preset": spec.name,
        "study_instance_uid": header.study_instance_uid,
        "tracer": spec.tracer.value,
        "sex": spec.sex.value,
        "states": states,
        "files": files,
        "lv": {
            "edv_ml": float(curve[0]),
            "esv_ml": float(curve[1]),
            "lvef_percent": a.lvef_percent,
            "voxelised_edv_ml": float(lv.max()),
            "voxelised_esv_ml": float(lv.min()),
            "voxelised_lvef_percent": float(100 * (lv.max() - lv.min()) / lv.max()),
            "myocardium_ml": float(myo.mean()),
            "heart_rate_bpm": a.heart_rate_bpm,
        },
        "rv": {
            "edv_ml": a.rv_edv_ml,
            "rvef_percent": a.rvef_percent,
            "voxelised_edv_ml": float(rv.max()),
            "voxelised_esv_ml": float(rv.min()),
            "voxelised_rvef_percent": float(100 * (rv.max() - rv.min()) / rv.max()),
        },
        "perfusion": _perfusion_truth(spec, hearts[0]),
        "defects": [
            {**asdict(d), "arc_deg": list(d.arc),
             "extent_percent_of_lv": defect_extent_percent(hearts[0], (d,)),
             "segments": [s.key for s in segments_of_territory(d.territory)]
             if d.territory != "CUSTOM" else []}
            for d in spec.defects
        ],
        "wall_motion": {"territories": territories, "segments": segments,
                        "grading": "normal ≥ 0.75, hypokinetic ≥ 0.15, akinetic ≥ −0.15, "
                                   "else dyskinetic (fraction of normal excursion)"},
        "anatomy": {k: (dict(v) if isinstance(v, tuple) else v)
                    for k, v in asdict(a).items()},
        "camera": {"matrix": spec.matrix, "pixel_mm": spec.pixel_mm,
                   "counts_per_view": spec.counts_per_view, "time_slots": spec.time_slots,
                   "collimator": "LEHR-like, FWHM(d) = sqrt(3.8² + (1.0 + 0.0535 d)²) mm"},
        "expected_cpt": _expected_cpt(spec),
        "static_frames": spec.static_frames,
        "motion": [{"view": m.view, "after_fraction": m.after_fraction,
                    "shift_mm": list(m.shift_mm),
                    "states": [st.value for st in m.states] or "all"} for m in spec.motion],
    }
